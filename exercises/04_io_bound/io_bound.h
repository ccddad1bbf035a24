/*
 * Exercise 04: overlap blocking waits by running them in threads.
 */
#ifndef IO_BOUND_H
#define IO_BOUND_H

#include <stddef.h>

/* One blocking task: run(argument) waits for something (a read, a reply,
 * a timer) and returns when it is done. */
struct blocking_task {
    void (*run)(void *argument);
    void *argument;
};

/*
 * Blocks the calling thread for at least `seconds` (0 or more, fractions
 * allowed, 1.5 included) without using the CPU while it waits: a stand-in
 * for a slow read.  A signal that interrupts the wait does not shorten it.
 */
void blocking_wait(double seconds);

/*
 * Runs every task of tasks[0..count-1] at the same time, each in its own
 * thread, and passes each task its own argument: tasks[i].run(tasks[i].argument).
 * Returns only when every task has finished.
 *
 * If elapsed_seconds is not NULL, stores there the wall-clock seconds the
 * call took, from before the first task started to after the last one
 * finished.
 *
 * Returns 0 on success.  If a thread cannot be created, returns the error
 * number pthread_create gave (for example EAGAIN) after waiting for the
 * tasks already started; the tasks after it do not run.  `count` may be 0.
 */
int run_blocking_tasks(const struct blocking_task *tasks, size_t count,
                       double *elapsed_seconds);

#endif
