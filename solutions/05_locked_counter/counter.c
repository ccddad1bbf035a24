/*
 * Exercise 05, solved: the counter's read-modify-write is one critical
 * section.
 */
#include "counter.h"

int counter_init(struct counter *counter)
{
    counter->value = 0;
    return pthread_mutex_init(&counter->lock, NULL);
}

void counter_destroy(struct counter *counter)
{
    pthread_mutex_destroy(&counter->lock);
}

void counter_increment(struct counter *counter)
{
    /* The read and the write of value++ happen under one lock: no other
     * thread can read the old value in between. */
    pthread_mutex_lock(&counter->lock);
    counter->value++;
    pthread_mutex_unlock(&counter->lock);
}

long counter_value(struct counter *counter)
{
    pthread_mutex_lock(&counter->lock);
    long value = counter->value;
    pthread_mutex_unlock(&counter->lock);
    return value;
}
