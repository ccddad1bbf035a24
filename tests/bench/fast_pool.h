/*
 * A fast variant of exercise 12's pool, for the benchmark only (the
 * reference solution stays the model a student should write first).
 * Same contract in small: submit returns a future, wait gives the
 * result.  fast_pool.c says what changed and what it costs.
 */
#ifndef THREADLINGS_FAST_POOL_H
#define THREADLINGS_FAST_POOL_H

#include <stddef.h>

struct fast_pool;
struct fast_future;

int fast_pool_create(struct fast_pool **pool, size_t workers);
/* NULL if out of memory.  Free the future with fast_future_free. */
struct fast_future *fast_pool_submit(struct fast_pool *pool,
                                     void *(*task)(void *), void *argument);
void *fast_future_wait(struct fast_future *future);
void fast_future_free(struct fast_future *future); /* waits first */
/* Runs every queued task, stops and joins the workers, frees the pool. */
void fast_pool_destroy(struct fast_pool *pool);

#endif
