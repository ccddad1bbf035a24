/*
 * Exercise 16, solved: a count of the threads that have arrived, and a
 * round number (a generation) that the last arrival moves on.  Waiters
 * wait for the round number to change, not for the count.
 */
#include "barrier.h"

#include <errno.h>

int barrier_init(struct barrier *barrier, unsigned count)
{
    if (count == 0)
        return EINVAL;
    int error = pthread_mutex_init(&barrier->mutex, NULL);
    if (error != 0)
        return error;
    error = pthread_cond_init(&barrier->round_over, NULL);
    if (error != 0) {
        pthread_mutex_destroy(&barrier->mutex);
        return error;
    }
    barrier->count = count;
    barrier->arrived = 0;
    barrier->round = 0;
    return 0;
}

void barrier_destroy(struct barrier *barrier)
{
    pthread_cond_destroy(&barrier->round_over);
    pthread_mutex_destroy(&barrier->mutex);
}

int barrier_wait(struct barrier *barrier)
{
    pthread_mutex_lock(&barrier->mutex);
    unsigned long my_round = barrier->round;
    if (++barrier->arrived == barrier->count) {
        /* The last to arrive ends the round and starts the next one at
         * once: the count is free for the next round's arrivals even
         * before the waiters of this round have woken up. */
        barrier->arrived = 0;
        barrier->round++;
        pthread_cond_broadcast(&barrier->round_over);
        pthread_mutex_unlock(&barrier->mutex);
        return BARRIER_SERIAL_THREAD;
    }
    /* Wait for MY round to be over, not for the count: by the time this
     * thread runs again, a fast thread may already have arrived in the
     * next round and changed the count.  The loop also absorbs spurious
     * wake-ups. */
    while (barrier->round == my_round)
        pthread_cond_wait(&barrier->round_over, &barrier->mutex);
    pthread_mutex_unlock(&barrier->mutex);
    return 0;
}
