/*
 * The fast variant of 12's pool (fast_pool.h).  The reference pays, per
 * task: two allocations freed on another thread, its one mutex three
 * times, and a broadcast on one shared condition at every completion that
 * wakes every waiter.  Here:
 *
 * 1. One allocation per task, made and freed by the submitting thread:
 *    the future is the queue entry (malloc's per-thread cache serves it).
 * 2. A worker takes a batch of queued tasks under one lock (its share of
 *    the queue, at most BATCH), so in bulk the mutex is taken about once
 *    per batch, not twice per task.
 * 3. A task settles with one atomic exchange of the future's state.  Only
 *    a future that somebody sleeps on (state WAITED) costs a lock and a
 *    broadcast; in bulk almost none does.
 * 4. Batching, for bulk work: fast_pool_submit_many queues a whole array
 *    of caller-owned futures under one lock, with no allocation at all.
 * 5. Before they sleep, an idle worker and a waiter retry for a few
 *    microseconds (yielding the core): a task submitted or finished in
 *    the meantime costs no futex sleep and wake-up.  That is the
 *    submit-then-wait latency.
 *
 * The price: atomics next to the mutex, a state machine per future, and
 * workers that spin briefly (on a loaded machine, a little lost CPU).
 */
#include "fast_pool.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>

#define BATCH 32
#define SPINS 64

enum { PENDING, WAITED, DONE };

struct fast_pool {
    pthread_mutex_t mutex;
    pthread_cond_t work;    /* tasks queued, or stopping */
    pthread_cond_t settled; /* a future that somebody waits on is done */
    struct fast_future *head, *tail;
    atomic_size_t queued;   /* read without the lock only to spin */
    size_t idle, worker_count;
    bool stopping;
    pthread_t *workers;
};

/* Takes this worker's share of the queue (mutex held). */
static struct fast_future *take_batch(struct fast_pool *pool)
{
    size_t queued = atomic_load_explicit(&pool->queued, memory_order_relaxed);
    size_t share = (queued + pool->worker_count - 1) / pool->worker_count;
    if (share > BATCH)
        share = BATCH;
    struct fast_future *first = pool->head, *last = first;
    for (size_t i = 1; i < share; i++)
        last = last->next;
    pool->head = last->next;
    if (pool->head == NULL)
        pool->tail = NULL;
    last->next = NULL;
    atomic_store_explicit(&pool->queued, queued - share,
                          memory_order_relaxed);
    return first;
}

static void settle(struct fast_future *future, void *result)
{
    /* Once DONE is stored the owner may free the future: read it first. */
    struct fast_pool *pool = future->pool;
    future->result = result;
    /* release: whoever reads DONE also reads the result. */
    if (atomic_exchange_explicit(&future->state, DONE, memory_order_acq_rel)
            == WAITED) {
        pthread_mutex_lock(&pool->mutex);
        pthread_cond_broadcast(&pool->settled);
        pthread_mutex_unlock(&pool->mutex);
    }
}

static void *worker_main(void *raw)
{
    struct fast_pool *pool = raw;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        if (pool->head == NULL && !pool->stopping) {
            pthread_mutex_unlock(&pool->mutex);
            for (int spin = 0; spin < SPINS &&
                               atomic_load_explicit(&pool->queued,
                                                    memory_order_relaxed) == 0;
                 spin++)
                sched_yield();
            pthread_mutex_lock(&pool->mutex);
        }
        while (pool->head == NULL && !pool->stopping) {
            pool->idle++;
            pthread_cond_wait(&pool->work, &pool->mutex);
            pool->idle--;
        }
        if (pool->head == NULL)
            break; /* stopping, and nothing left to run */
        struct fast_future *batch = take_batch(pool);
        pthread_mutex_unlock(&pool->mutex);
        while (batch != NULL) {
            struct fast_future *next = batch->next; /* batch may be freed */
            settle(batch, batch->task(batch->argument));
            batch = next;
        }
        pthread_mutex_lock(&pool->mutex);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

int fast_pool_create(struct fast_pool **pool_out, size_t workers)
{
    struct fast_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL || workers == 0) {
        free(pool);
        return workers == 0 ? EINVAL : ENOMEM;
    }
    pool->workers = calloc(workers, sizeof *pool->workers);
    if (pool->workers == NULL) {
        free(pool);
        return ENOMEM;
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->work, NULL);
    pthread_cond_init(&pool->settled, NULL);
    for (; pool->worker_count < workers; pool->worker_count++) {
        int error = pthread_create(&pool->workers[pool->worker_count], NULL,
                                   worker_main, pool);
        if (error != 0) {
            fast_pool_destroy(pool);
            return error;
        }
    }
    *pool_out = pool;
    return 0;
}

struct fast_future *fast_pool_submit(struct fast_pool *pool,
                                     void *(*task)(void *), void *argument)
{
    struct fast_future *future = malloc(sizeof *future);
    if (future == NULL)
        return NULL;
    *future = (struct fast_future){.task = task, .argument = argument,
                                   .pool = pool};
    atomic_init(&future->state, PENDING);
    pthread_mutex_lock(&pool->mutex);
    if (pool->tail != NULL)
        pool->tail->next = future;
    else
        pool->head = future;
    pool->tail = future;
    atomic_fetch_add_explicit(&pool->queued, 1, memory_order_relaxed);
    if (pool->idle > 0) /* a spinning or busy worker needs no wake-up */
        pthread_cond_signal(&pool->work);
    pthread_mutex_unlock(&pool->mutex);
    return future;
}

void fast_pool_submit_many(struct fast_pool *pool, void *(*task)(void *),
                           void *const arguments[], size_t count,
                           struct fast_future futures[])
{
    if (count == 0)
        return;
    for (size_t i = 0; i < count; i++) {
        futures[i] = (struct fast_future){
            .next = i + 1 < count ? &futures[i + 1] : NULL, .task = task,
            .argument = arguments ? arguments[i] : NULL, .pool = pool};
        atomic_init(&futures[i].state, PENDING);
    }
    pthread_mutex_lock(&pool->mutex);
    if (pool->tail != NULL)
        pool->tail->next = &futures[0];
    else
        pool->head = &futures[0];
    pool->tail = &futures[count - 1];
    atomic_fetch_add_explicit(&pool->queued, count, memory_order_relaxed);
    if (pool->idle > 0)
        pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mutex);
}

void *fast_future_wait(struct fast_future *future)
{
    for (int spin = 0; spin < SPINS; spin++) {
        if (atomic_load_explicit(&future->state, memory_order_acquire) == DONE)
            return future->result;
        sched_yield();
    }
    struct fast_pool *pool = future->pool;
    pthread_mutex_lock(&pool->mutex);
    int expected = PENDING;
    /* Mark it WAITED under the mutex: the worker that settles it will
     * then take the mutex to broadcast, after this thread waits. */
    atomic_compare_exchange_strong(&future->state, &expected, WAITED);
    while (atomic_load_explicit(&future->state, memory_order_acquire) != DONE)
        pthread_cond_wait(&pool->settled, &pool->mutex);
    pthread_mutex_unlock(&pool->mutex);
    return future->result;
}

void fast_future_free(struct fast_future *future)
{
    if (future != NULL)
        fast_future_wait(future);
    free(future);
}

void fast_pool_destroy(struct fast_pool *pool)
{
    pthread_mutex_lock(&pool->mutex);
    pool->stopping = true;
    pthread_cond_broadcast(&pool->work);
    pthread_mutex_unlock(&pool->mutex);
    for (size_t i = 0; i < pool->worker_count; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->settled);
    pthread_cond_destroy(&pool->work);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}
