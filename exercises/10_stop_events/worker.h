/*
 * Exercise 10: background threads that stop when asked, and detached
 * ("daemon") threads that nobody joins.
 */
#ifndef WORKER_H
#define WORKER_H

#include <pthread.h>
#include <stdbool.h>

/*
 * A background worker: runs task(argument) at once, then again each time
 * `period_seconds` has passed since the previous run ended, until stopped.
 * A period of 0 (or less) runs the task again as soon as it returns.
 */
struct worker {
    pthread_t thread;
    void (*task)(void *);
    void *argument;
    double period_seconds;
    pthread_mutex_t mutex;     /* guards stop_requested */
    pthread_cond_t stop_cond;  /* times out on CLOCK_MONOTONIC; broadcast
                                  when stop_requested becomes true */
    bool stop_requested;
    long runs;                 /* how often the task ran: written by the
                                  worker thread, read after worker_stop */
};

/*
 * Starts the worker thread.  Returns 0, or the error number of
 * pthread_create (EAGAIN, ...), in which case no thread runs and the worker
 * must not be stopped.
 */
int worker_start(struct worker *worker, double period_seconds,
                 void (*task)(void *), void *argument);

/*
 * Asks the worker to stop and waits until its thread has ended (joins it).
 * The stop is prompt: a worker waiting for its next run wakes at once, it
 * does not sleep out the period.  A run in progress finishes first; no run
 * starts after the stop was asked for.  Returns 0; afterwards worker->runs
 * is the number of runs.  Call it once per worker_start.
 */
int worker_stop(struct worker *worker);

/*
 * Runs task(argument) in a detached thread: nobody joins it (it cannot be
 * joined), and its resources are freed as soon as it returns.  Returns 0 or
 * the error number of pthread_create.  A detached thread is cut off when
 * the process ends, so work that must finish does not belong in one.
 */
int run_detached(void *(*task)(void *), void *argument);

#endif
