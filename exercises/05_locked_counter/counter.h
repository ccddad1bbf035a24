/*
 * Exercise 05, part 1: a counter that many threads increment at once.
 */
#ifndef COUNTER_H
#define COUNTER_H

#include <pthread.h>

/*
 * A counter shared by threads.  `lock` guards `value`: every read and every
 * write of `value` happens while `lock` is held.  (The tests rely on this:
 * they hold `lock` themselves and expect the calls below to wait for it.)
 */
struct counter {
    pthread_mutex_t lock;
    long value;
};

/* Sets the value to 0 and initialises the lock.  Returns 0, or the error
 * number pthread_mutex_init returned. */
int counter_init(struct counter *counter);

/* Destroys the lock.  No thread may use the counter any more. */
void counter_destroy(struct counter *counter);

/* Adds 1 to the value.  Any number of threads may call it at the same time,
 * and no increment is ever lost: n calls raise the value by exactly n. */
void counter_increment(struct counter *counter);

/* The value, read while holding the lock. */
long counter_value(struct counter *counter);

#endif
