#define _GNU_SOURCE
#include "workload.h"

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
    if (ok)
        return;
    va_list args;
    va_start(args, format);
    fputs("threadlings: workload: ", stderr);
    vfprintf(stderr, format, args);
    fputc('\n', stderr);
    va_end(args);
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
