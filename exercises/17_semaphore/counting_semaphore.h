/*
 * Exercise 17: a counting semaphore with a maximum (Python's
 * threading.BoundedSemaphore, POSIX's sem_t with a ceiling), made from one
 * mutex and two condition variables.  The value counts free units: wait
 * takes one, post gives one back.
 */
#ifndef COUNTING_SEMAPHORE_H
#define COUNTING_SEMAPHORE_H

#include <pthread.h>
#include <time.h>

/*
 * The fields are public only so that a semaphore can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct semaphore {
    pthread_mutex_t mutex;    /* guards value */
    pthread_cond_t not_zero;  /* waits sleep here until value > 0 */
    pthread_cond_t not_full;  /* posts sleep here until value < maximum */
    unsigned value;           /* 0 to maximum */
    unsigned maximum;
};

/*
 * Makes a semaphore holding `value` units, at most `maximum`.  Timed waits
 * measure their deadline on CLOCK_MONOTONIC.  Returns 0; EINVAL if
 * maximum is 0 or value is above maximum; or the error number of the
 * pthread call that failed.  On error nothing is left to destroy.
 */
int semaphore_init(struct semaphore *semaphore, unsigned value,
                   unsigned maximum);

/* Frees what semaphore_init made.  No thread may be waiting on it. */
void semaphore_destroy(struct semaphore *semaphore);

/* Takes one unit: at once if the value is above 0, otherwise after a post.
 * A waiting thread sleeps; it uses no CPU. */
void semaphore_wait(struct semaphore *semaphore);

/* Takes one unit if the value is above 0 and returns 0; otherwise returns
 * EAGAIN at once and changes nothing. */
int semaphore_trywait(struct semaphore *semaphore);

/*
 * Like semaphore_wait, but gives up at `deadline`, an absolute time on
 * CLOCK_MONOTONIC (clock_gettime(CLOCK_MONOTONIC, ...) plus the time to
 * wait).  Returns 0 once it took a unit (also when a unit is free at once,
 * whatever the deadline); ETIMEDOUT if the deadline passed first; EINVAL if
 * it had to wait and deadline->tv_nsec is not in 0..999,999,999.  A unit
 * posted just as the time runs out may be taken (0) or not (ETIMEDOUT):
 * what counts is whether it took one.  On an error the value is unchanged.
 */
int semaphore_timedwait(struct semaphore *semaphore,
                        const struct timespec *deadline);

/* Gives one unit back: at once if the value is below the maximum,
 * otherwise after a wait has taken one.  Wakes a thread waiting for a
 * unit.  A waiting thread sleeps; it uses no CPU. */
void semaphore_post(struct semaphore *semaphore);

/* The value now (it may change as soon as this returns). */
unsigned semaphore_value(struct semaphore *semaphore);

#endif
