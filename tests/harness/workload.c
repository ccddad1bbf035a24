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
    const char *check = getenv("THREADLINGS_CHECK");
    return check && strcmp(check, "helgrind") == 0;
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
    /* The runner passes a fresh token per run, so this line cannot be
     * printed ahead of time by the code under test. */
    const char *token = getenv("THREADLINGS_TOKEN");
    printf("threadlings: workload finished %s\n", token ? token : "");
    fflush(stdout);
}
