/*
 * Exercise 16: a reusable barrier (POSIX's pthread_barrier_t, Python's
 * threading.Barrier).  A group of `count` threads meets at the barrier
 * round after round: nobody goes on until all of them have arrived.
 */
#ifndef BARRIER_H
#define BARRIER_H

#include <pthread.h>

/* What barrier_wait returns to the one thread per round that is chosen to
 * do the round's serial work (like PTHREAD_BARRIER_SERIAL_THREAD). */
#define BARRIER_SERIAL_THREAD (-1)

/*
 * The fields are public only so that a barrier can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct barrier {
    pthread_mutex_t mutex;       /* guards every field below */
    pthread_cond_t round_over;   /* waiters sleep here until their round ends */
    unsigned count;              /* threads per round */
    unsigned long round;         /* rounds completed so far (a generation) */
    unsigned arrived;            /* threads that arrived in the current round */
};

/*
 * Makes a barrier for groups of `count` threads.  Returns 0; EINVAL if
 * count is 0; or the error number of the pthread call that failed.  On
 * error nothing is left to destroy.
 */
int barrier_init(struct barrier *barrier, unsigned count);

/* Frees what barrier_init made.  No thread may be waiting at the barrier. */
void barrier_destroy(struct barrier *barrier);

/*
 * Waits until `count` threads (this one included) have called barrier_wait
 * in this round, then returns in all of them, and the barrier is ready for
 * the next round at once.  A thread that returns and calls barrier_wait
 * again is in the next round, even if other threads have not yet woken up
 * from this one.  Returns BARRIER_SERIAL_THREAD in exactly one thread of
 * each round (which one is not specified) and 0 in the others.  A waiting
 * thread sleeps; it uses no CPU.
 */
int barrier_wait(struct barrier *barrier);

#endif
