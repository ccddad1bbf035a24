/*
 * Exercise 18, solved: counts of readers inside, a writer inside and
 * writers waiting, guarded by one mutex; readers and writers sleep on
 * condition variables of their own.
 */
#include "rwlock.h"

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

void rwlock_read_lock(struct rwlock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    /* Writer priority: a reader also waits while a writer is only waiting.
     * Without that, readers that keep overlapping keep `readers` above 0
     * for ever, and the writer starves. */
    while (lock->writer || lock->waiting_writers > 0)
        pthread_cond_wait(&lock->readers_ok, &lock->mutex);
    lock->readers++;
    pthread_mutex_unlock(&lock->mutex);
}

void rwlock_read_unlock(struct rwlock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    lock->readers--;
    /* The last reader out lets one waiting writer in. */
    if (lock->readers == 0 && lock->waiting_writers > 0)
        pthread_cond_signal(&lock->writers_ok);
    pthread_mutex_unlock(&lock->mutex);
}

void rwlock_write_lock(struct rwlock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    /* Counted as waiting before the first wait: from now on no new reader
     * gets in. */
    lock->waiting_writers++;
    while (lock->writer || lock->readers > 0)
        pthread_cond_wait(&lock->writers_ok, &lock->mutex);
    lock->waiting_writers--;
    lock->writer = true;
    pthread_mutex_unlock(&lock->mutex);
}

void rwlock_write_unlock(struct rwlock *lock)
{
    pthread_mutex_lock(&lock->mutex);
    lock->writer = false;
    /* Another writer goes first if one waits (writer priority); otherwise
     * every waiting reader may enter at once: broadcast. */
    if (lock->waiting_writers > 0)
        pthread_cond_signal(&lock->writers_ok);
    else
        pthread_cond_broadcast(&lock->readers_ok);
    pthread_mutex_unlock(&lock->mutex);
}
