/*
 * Exercise 04: make blocking waits overlap: sleep instead of spinning, and
 * run each task in its own thread.  Read README.md, then fix the TODOs.
 */
#include "io_bound.h"

#include <time.h>

static double monotonic_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

void blocking_wait(double seconds)
{
    /* TODO: this loop keeps a CPU busy for the whole wait, checking the
     * clock again and again.  Put the thread to sleep instead (nanosleep),
     * and sleep the rest if a signal cuts the sleep short (EINTR). */
    double until = monotonic_seconds() + seconds;
    while (monotonic_seconds() < until)
        continue;
}

int run_blocking_tasks(const struct blocking_task *tasks, size_t count,
                       double *elapsed_seconds)
{
    double start = monotonic_seconds();
    /* TODO: one task after another, so their waits add up (3 waits of 1 s
     * take 3 s).  Start one thread per task, each with its own task, and
     * only then join them all; report a failed pthread_create after
     * joining the threads already started. */
    for (size_t i = 0; i < count; i++)
        tasks[i].run(tasks[i].argument);
    if (elapsed_seconds != NULL)
        *elapsed_seconds = monotonic_seconds() - start;
    return 0;
}
