/*
 * Exercise 07: an event, a flag that threads can wait for (Python's
 * threading.Event).  One thread sets it; every thread waiting for it wakes.
 */
#ifndef EVENT_H
#define EVENT_H

#include <pthread.h>
#include <stdbool.h>

/*
 * The fields are public only so that an event can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct event {
    pthread_mutex_t mutex;  /* guards is_set */
    pthread_cond_t changed; /* waiters sleep here until is_set is true */
    bool is_set;
};

/*
 * Makes a clear event.  Timed waits measure their deadline on
 * CLOCK_MONOTONIC, which changes of the wall clock cannot move.
 * Returns 0, or the error number of the pthread call that failed (for
 * example ENOMEM); then nothing is left to destroy.
 */
int event_init(struct event *event);

/* Frees what event_init made.  No thread may use the event any more. */
void event_destroy(struct event *event);

/* Sets the flag and wakes every thread waiting for it.  Setting a set
 * event changes nothing. */
void event_set(struct event *event);

/* Clears the flag: later waits block until the next event_set.  An event
 * is a level, not a pulse: a set that a clear undoes before a waiter runs
 * again may go unseen by that waiter. */
void event_clear(struct event *event);

/* Whether the flag is set now (it may change as soon as this returns). */
bool event_is_set(struct event *event);

/* Returns once the flag is set: at once if it already is, otherwise after
 * an event_set.  A waiting thread sleeps; it uses no CPU. */
void event_wait(struct event *event);

/*
 * Like event_wait, but gives up after `seconds` (0 or less: does not wait).
 * Returns true if the flag was set (before the call or while waiting),
 * false if the time ran out first.  A set that comes right at the deadline
 * may be reported either way: the result is the flag as last seen.
 */
bool event_wait_timeout(struct event *event, double seconds);

#endif
