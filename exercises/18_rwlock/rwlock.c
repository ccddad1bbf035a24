/*
 * Exercise 18: a readers-writer lock with writer priority.  Read README.md
 * in this folder, then fix the TODOs.
 */
#include "rwlock.h"

#include <sched.h>

/* Setting up and tearing down are done. */
int rwlock_init(struct rwlock *lock)
{
    int error = pthread_mutex_init(&lock->mutex, NULL);
    if (error != 0)
        return error;
    error = pthread_cond_init(&lock->readers_ok, NULL);
    if (error != 0)
        goto no_readers_ok;
    error = pthread_cond_init(&lock->writers_ok, NULL);
    if (error != 0)
        goto no_writers_ok;
    lock->readers = 0;
    lock->writer = false;
    lock->waiting_writers = 0;
    return 0;

no_writers_ok:
    pthread_cond_destroy(&lock->readers_ok);
no_readers_ok:
    pthread_mutex_destroy(&lock->mutex);
    return error;
}

void rwlock_destroy(struct rwlock *lock)
{
    pthread_cond_destroy(&lock->writers_ok);
    pthread_cond_destroy(&lock->readers_ok);
    pthread_mutex_destroy(&lock->mutex);
}

/* TODO: reading looks harmless, so a reader here only peeks, without the
 * mutex, whether a writer is inside, and spins until none is: a writer can
 * get in between the peek and the read, and nothing stops new readers
 * while a writer waits.  A reader must wait (sleeping on readers_ok) while
 * a writer holds the lock or waits for it, then count itself in `readers`.
 * Every field is read and written under the mutex, and the mutex is held
 * only inside these functions, never while the caller uses its data. */
void rwlock_read_lock(struct rwlock *lock)
{
    while (lock->writer)
        sched_yield();
}

void rwlock_read_unlock(struct rwlock *lock)
{
    (void)lock; /* TODO: count the reader out; the last one lets a writer in */
}

/* TODO: holding the mutex for the whole write keeps writers apart, but not
 * the readers, which do not take it.  Count the writer as waiting, wait
 * (on writers_ok) until no reader and no writer is inside, then mark the
 * lock as held by a writer and let go of the mutex. */
void rwlock_write_lock(struct rwlock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    lock->writer = true;
}

void rwlock_write_unlock(struct rwlock *lock)
{
    /* TODO: let the next writer in if one waits, else every waiting reader */
    lock->writer = false;
    pthread_mutex_unlock(&lock->mutex);
}
