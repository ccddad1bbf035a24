/*
 * Exercise 04, solved: each blocking task waits in its own thread, so the
 * waits overlap and the whole run takes about as long as the longest task.
 */
#include "io_bound.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

void blocking_wait(double seconds)
{
    struct timespec left;
    left.tv_sec = (time_t)seconds;
    left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
    /* The thread sleeps in the kernel and uses no CPU.  A signal ends
     * nanosleep early with EINTR and leaves the time still to wait in
     * `left`: sleep that rest. */
    while (nanosleep(&left, &left) != 0 && errno == EINTR)
        continue;
}

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static void *run_task(void *raw)
{
    const struct blocking_task *task = raw;
    task->run(task->argument);
    return NULL;
}

static int run_in_threads(const struct blocking_task *tasks, size_t count)
{
    pthread_t *threads = malloc(count * sizeof *threads);
    if (threads == NULL)
        return ENOMEM;

    /* Start every task before joining any.  Each thread gets the address
     * of its own element of tasks[], which outlives the threads: the
     * caller's array stays put until this function has joined them all. */
    size_t started = 0;
    int error = 0;
    while (started < count) {
        error = pthread_create(&threads[started], NULL, run_task,
                               (void *)&tasks[started]);
        if (error != 0)
            break;
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    return error;
}

int run_blocking_tasks(const struct blocking_task *tasks, size_t count,
                       double *elapsed_seconds)
{
    /* Wall-clock time: clock() would count CPU time, which sleeping
     * threads do not use. */
    double start = monotonic_seconds();
    int error = count > 0 ? run_in_threads(tasks, count) : 0;
    if (elapsed_seconds != NULL)
        *elapsed_seconds = monotonic_seconds() - start;
    return error;
}
