/*
 * Exercise 09: join a thread with a timeout.
 *
 * POSIX has no timed join (glibc's pthread_timedjoin_np is a GNU extension),
 * so a "joinable task" builds one: its thread runs the function, then, as
 * its last act, sets `finished` under the mutex and broadcasts
 * `finished_cond`.  A joiner waits on that condition until `finished` is
 * true or its deadline passes, and only then calls pthread_join, which can
 * no longer block for long.
 */
#ifndef TIMED_JOIN_H
#define TIMED_JOIN_H

#include <pthread.h>
#include <stdbool.h>

struct joinable {
    pthread_t thread;
    void *(*function)(void *);
    void *argument;
    pthread_mutex_t mutex;        /* guards finished and joined */
    pthread_cond_t finished_cond; /* times out on CLOCK_MONOTONIC; broadcast
                                     when finished becomes true */
    void *result;                 /* what the function returned, once
                                     finished */
    bool finished;                /* the function has returned */
    bool joined;                  /* pthread_join has been called */
};

/*
 * Starts function(argument) in a new thread that `task` keeps track of.
 * Returns 0, or the error number of pthread_create (for example EAGAIN), in
 * which case no thread runs and `task` must not be joined.
 */
int joinable_start(struct joinable *task, void *(*function)(void *),
                   void *argument);

/*
 * Waits at most `seconds` (>= 0) for the task's thread to finish.
 *   0          it finished: the thread has been joined (pthread_join, once)
 *              and, if `result` is not NULL, *result is what the function
 *              returned.
 *   ETIMEDOUT  the time ran out first; the thread keeps running and can be
 *              joined later.  *result is left alone.
 *   EINVAL     the task was already joined (a second join is an error, not
 *              a crash).
 * The wait ends at a deadline fixed when the call begins, measured on
 * CLOCK_MONOTONIC (a change of the wall clock does not stretch it), however
 * often the waiting thread wakes up in between.  A seconds of 0 only looks:
 * it joins a thread that has already finished.
 * Several threads may call timed_join on the same task; at most one of them
 * gets 0.
 */
int timed_join(struct joinable *task, double seconds, void **result);

/* Frees what joinable_start set up.  Only after a timed_join returned 0, and
 * when no thread uses `task` any more. */
void joinable_destroy(struct joinable *task);

#endif
