#define _GNU_SOURCE
#include "workload.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool workload_under_valgrind(void)
{
    /* Set by the check that runs the workload under valgrind
     * (tools/kit/registry.py). */
    const char *under = getenv("THREADLINGS_UNDER_VALGRIND");
    return under && strcmp(under, "1") == 0;
}

int workload_rounds(int native, int under_valgrind)
{
    return workload_under_valgrind() ? under_valgrind : native;
}

void workload_check(bool ok, const char *format, ...)
{
    /* When several threads fail at once, the first one reports and exits;
     * the others wait here until exit ends the process (exit may not run
     * twice at once, and their messages would interleave).  A flag, not a
     * mutex: helgrind reports a thread that exits holding a lock. */
    static atomic_flag failing = ATOMIC_FLAG_INIT;
    if (ok)
        return;
    if (atomic_flag_test_and_set(&failing))
        for (;;)
            pause();
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    fprintf(stderr, "threadlings: workload: %s\n", message);
    const char *shake = getenv("THREADLINGS_SHAKE");
    if (shake && *shake)
        fprintf(stderr, "threadlings: the schedule was shaken with seed %s: "
                "THREADLINGS_SHAKE=%s replays it\n", shake, shake);
    exit(1);
}

void workload_finished(void)
{
    /* The runner passes a fresh token per run in a pipe, read only here at
     * the end: it is in no environment variable and nowhere in memory while
     * the code under test runs, so that code cannot print this line ahead
     * of time (its files may not call read or getenv: tools/kit/policy.py). */
    const char *fd_text = getenv("THREADLINGS_TOKEN_FD");
    char token[64] = "";
    if (fd_text) {
        int fd = atoi(fd_text);
        ssize_t length = read(fd, token, sizeof token - 1);
        token[length > 0 ? length : 0] = '\0';
        close(fd);
    }
    printf("threadlings: workload finished %s\n", token);
    fflush(stdout);
}
