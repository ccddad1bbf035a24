/*
 * Exercise 18: a readers-writer lock that gives writers priority (like
 * pthread_rwlock_t with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP).
 * Many readers may hold it at once; a writer holds it alone; and once a
 * writer waits, no new reader gets in, so a stream of readers cannot keep
 * a writer out for ever.
 */
#ifndef RWLOCK_H
#define RWLOCK_H

#include <pthread.h>
#include <stdbool.h>

/*
 * The fields are public only so that a lock can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct rwlock {
    pthread_mutex_t mutex;      /* guards every field below */
    pthread_cond_t readers_ok;  /* readers sleep here until they may enter */
    pthread_cond_t writers_ok;  /* writers sleep here until they may enter */
    unsigned readers;           /* readers holding the lock */
    bool writer;                /* whether a writer holds the lock */
    unsigned waiting_writers;   /* writers waiting to get in */
};

/* Makes an unlocked lock.  Returns 0, or the error number of the pthread
 * call that failed; then nothing is left to destroy. */
int rwlock_init(struct rwlock *lock);

/* Frees what rwlock_init made.  Nobody may hold or wait for the lock. */
void rwlock_destroy(struct rwlock *lock);

/* Takes the lock for reading: waits while a writer holds it or any writer
 * is waiting for it.  Other readers may hold it at the same time.  A
 * waiting thread sleeps; it uses no CPU. */
void rwlock_read_lock(struct rwlock *lock);

/* Gives back a read lock this thread holds. */
void rwlock_read_unlock(struct rwlock *lock);

/* Takes the lock for writing: waits until nobody else holds it, neither a
 * reader nor a writer.  From the moment it starts waiting, new readers
 * wait behind it. */
void rwlock_write_lock(struct rwlock *lock);

/* Gives back the write lock this thread holds. */
void rwlock_write_unlock(struct rwlock *lock);

#endif
