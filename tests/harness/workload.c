#define _GNU_SOURCE
#include "workload.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    /* Taken and never released: when several threads fail at once, the
     * first one reports and exits, the others wait here (exit may not run
     * twice at once, and their messages would interleave). */
    static pthread_mutex_t first_failure = PTHREAD_MUTEX_INITIALIZER;
    if (ok)
        return;
    pthread_mutex_lock(&first_failure);
    char message[512];
    va_list args;
    va_start(args, format);
    vsnprintf(message, sizeof message, format, args);
    va_end(args);
    fprintf(stderr, "threadlings: workload: %s\n", message);
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
