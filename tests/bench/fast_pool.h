/*
 * A fast variant of exercise 12's pool, for the benchmark only (the
 * reference solution stays the model a student should write first).
 * Same contract in small: submit returns a future, wait gives the
 * result.  fast_pool.c says what changed and what it costs.
 */
#ifndef THREADLINGS_FAST_POOL_H
#define THREADLINGS_FAST_POOL_H

#include <stdatomic.h>
#include <stddef.h>

struct fast_pool;

/* Public only so that a caller can hold many in one array (see
 * fast_pool_submit_many); use the functions, never the fields. */
struct fast_future {
    struct fast_future *next; /* in the queue, guarded by pool->mutex */
    void *(*task)(void *);
    void *argument;
    void *result;
    atomic_int state;
    struct fast_pool *pool;
};

int fast_pool_create(struct fast_pool **pool, size_t workers);
/* NULL if out of memory.  Free the future with fast_future_free. */
struct fast_future *fast_pool_submit(struct fast_pool *pool,
                                     void *(*task)(void *), void *argument);
/* Batching: queues task(arguments[i]) for every i under one lock, with
 * the caller's futures[count] (no allocation, like libuv's requests).
 * Wait for each with fast_future_wait; the array is the caller's to free
 * after that. */
void fast_pool_submit_many(struct fast_pool *pool, void *(*task)(void *),
                           void *const arguments[], size_t count,
                           struct fast_future futures[]);
void *fast_future_wait(struct fast_future *future);
void fast_future_free(struct fast_future *future); /* waits first */
/* Runs every queued task, stops and joins the workers, frees the pool. */
void fast_pool_destroy(struct fast_pool *pool);

#endif
