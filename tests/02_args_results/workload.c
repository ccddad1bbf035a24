/*
 * Workload for exercise 02, for ThreadSanitizer and helgrind: driver threads
 * call run_jobs at once, over and over, and check every result.
 * A thread argument that the start loop overwrites, a message buffer shared
 * by all threads, or a result read before its thread was joined is a data
 * race the checkers report.
 */
#include "args_results.h"
#include "workload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DRIVERS 3
#define JOBS 8

static char *describe(long input)
{
    char *text = malloc(32);
    if (text != NULL)
        snprintf(text, 32, "job %ld", input);
    return text;
}

static void check_results(char **results, const long *inputs, int round)
{
    for (int i = 0; i < JOBS; i++) {
        char expected[32];
        snprintf(expected, sizeof expected, "job %ld", inputs[i]);
        workload_check(results[i] != NULL && strcmp(results[i], expected) == 0,
                       "round %d: results[%d] is \"%s\", expected \"%s\"",
                       round, i, results[i] ? results[i] : "(null)", expected);
        free(results[i]);
    }
}

/* Every few rounds, the tutorial's job itself (without sleeping). */
static void run_do_something(long driver, int round)
{
    const long milliseconds[3] = {0, driver, round % 2};
    char *results[3];
    int error = run_jobs(do_something, milliseconds, 3, results);
    workload_check(error == 0, "run_jobs(do_something) failed with %d", error);
    for (int i = 0; i < 3; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "Done sleeping %ld ms",
                 milliseconds[i]);
        workload_check(results[i] != NULL && strcmp(results[i], expected) == 0,
                       "do_something(%ld) returned \"%s\"", milliseconds[i],
                       results[i] ? results[i] : "(null)");
        free(results[i]);
    }
}

static int rounds;

static void *drive(void *argument)
{
    long driver = *(const long *)argument;
    for (int round = 0; round < rounds; round++) {
        long inputs[JOBS];
        char *results[JOBS];
        for (int i = 0; i < JOBS; i++)
            inputs[i] = driver * 1000000 + round * JOBS + i;
        int error = run_jobs(describe, inputs, JOBS, results);
        workload_check(error == 0, "run_jobs failed with %d", error);
        check_results(results, inputs, round);
        if (round % 8 == 0)
            run_do_something(driver, round);
    }
    return NULL;
}

int main(void)
{
    rounds = workload_rounds(40, 6);
    /* One driver under helgrind: when one thread joins a thread and another
     * creates the next, glibc hands the old stack to the new thread through
     * a lock helgrind cannot see, and helgrind reports a race in glibc. */
    int driver_count = workload_under_valgrind() ? 1 : MAX_DRIVERS;
    pthread_t drivers[MAX_DRIVERS];
    long numbers[MAX_DRIVERS];
    for (int d = 0; d < driver_count; d++) {
        numbers[d] = d + 1;
        int error = pthread_create(&drivers[d], NULL, drive, &numbers[d]);
        workload_check(error == 0, "pthread_create failed with %d", error);
    }
    for (int d = 0; d < driver_count; d++)
        pthread_join(drivers[d], NULL);
    workload_finished();
    return 0;
}
