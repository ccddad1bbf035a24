/*
 * The fast variant of 08's queue (fast_queue.h).  Three changes against
 * the reference, each worth its lines only when items are tiny and come
 * by the million:
 *
 * 1. No mutex on the common path.  Each slot carries a sequence number
 *    (D. Vyukov's bounded MPMC queue): a producer claims the position
 *    `tail` with one compare-and-swap, writes the item, then publishes it
 *    by advancing the slot's sequence (release); a consumer does the same
 *    on `head`.  Producers and consumers touch different cache lines.
 * 2. A full or empty queue is first retried a little (the other side is
 *    usually just about to act), then waited for on a condition variable.
 * 3. A put or get signals only if some thread sleeps: `sleepers` is
 *    checked after a full fence, and a sleeper raises it and re-checks
 *    the queue before it waits (the two fences make sure one of the two
 *    sees the other: no lost wake-up).
 *
 * The price: atomics and memory orders to reason about, a power-of-two
 * capacity, and no close (the benchmark sends a stop item instead).
 */
#include "fast_queue.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#define SPINS 200

int fast_queue_init(struct fast_queue *queue, size_t capacity)
{
    size_t size = 2;
    while (size < capacity)
        size *= 2;
    queue->slots = malloc(size * sizeof *queue->slots);
    if (queue->slots == NULL)
        return ENOMEM;
    for (size_t i = 0; i < size; i++)
        atomic_init(&queue->slots[i].sequence, i);
    queue->mask = size - 1;
    atomic_init(&queue->tail, 0);
    atomic_init(&queue->head, 0);
    atomic_init(&queue->sleepers, 0);
    pthread_mutex_init(&queue->mutex, NULL);
    pthread_cond_init(&queue->changed, NULL);
    return 0;
}

void fast_queue_destroy(struct fast_queue *queue)
{
    pthread_cond_destroy(&queue->changed);
    pthread_mutex_destroy(&queue->mutex);
    free(queue->slots);
}

static bool try_put(struct fast_queue *queue, void *item)
{
    size_t position = atomic_load_explicit(&queue->tail, memory_order_relaxed);
    for (;;) {
        struct fast_slot *slot = &queue->slots[position & queue->mask];
        size_t sequence =
            atomic_load_explicit(&slot->sequence, memory_order_acquire);
        intptr_t lag = (intptr_t)sequence - (intptr_t)position;
        if (lag == 0) { /* the slot is free for this position: claim it */
            if (atomic_compare_exchange_weak_explicit(
                    &queue->tail, &position, position + 1,
                    memory_order_relaxed, memory_order_relaxed)) {
                slot->item = item;
                atomic_store_explicit(&slot->sequence, position + 1,
                                      memory_order_release);
                return true;
            }
        } else if (lag < 0) {
            return false; /* full: the slot still holds an unread item */
        } else {
            position = atomic_load_explicit(&queue->tail,
                                            memory_order_relaxed);
        }
    }
}

static bool try_get(struct fast_queue *queue, void **item)
{
    size_t position = atomic_load_explicit(&queue->head, memory_order_relaxed);
    for (;;) {
        struct fast_slot *slot = &queue->slots[position & queue->mask];
        size_t sequence =
            atomic_load_explicit(&slot->sequence, memory_order_acquire);
        intptr_t lag = (intptr_t)sequence - (intptr_t)(position + 1);
        if (lag == 0) { /* an item was published here: take it */
            if (atomic_compare_exchange_weak_explicit(
                    &queue->head, &position, position + 1,
                    memory_order_relaxed, memory_order_relaxed)) {
                *item = slot->item;
                atomic_store_explicit(&slot->sequence,
                                      position + queue->mask + 1,
                                      memory_order_release);
                return true;
            }
        } else if (lag < 0) {
            return false; /* empty */
        } else {
            position = atomic_load_explicit(&queue->head,
                                            memory_order_relaxed);
        }
    }
}

/* After a put or get: wake the sleepers, if there are any. */
static void wake_sleepers(struct fast_queue *queue)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&queue->sleepers, memory_order_relaxed) > 0) {
        pthread_mutex_lock(&queue->mutex);
        pthread_cond_broadcast(&queue->changed);
        pthread_mutex_unlock(&queue->mutex);
    }
}

void fast_queue_put(struct fast_queue *queue, void *item)
{
    for (int spin = 0; spin < SPINS; spin++) {
        if (try_put(queue, item)) {
            wake_sleepers(queue);
            return;
        }
        if (spin % 16 == 15)
            sched_yield();
    }
    pthread_mutex_lock(&queue->mutex);
    atomic_fetch_add(&queue->sleepers, 1);
    atomic_thread_fence(memory_order_seq_cst);
    while (!try_put(queue, item))
        pthread_cond_wait(&queue->changed, &queue->mutex);
    atomic_fetch_sub(&queue->sleepers, 1);
    pthread_mutex_unlock(&queue->mutex);
    wake_sleepers(queue);
}

void *fast_queue_get(struct fast_queue *queue)
{
    void *item;
    for (int spin = 0; spin < SPINS; spin++) {
        if (try_get(queue, &item)) {
            wake_sleepers(queue);
            return item;
        }
        if (spin % 16 == 15)
            sched_yield();
    }
    pthread_mutex_lock(&queue->mutex);
    atomic_fetch_add(&queue->sleepers, 1);
    atomic_thread_fence(memory_order_seq_cst);
    while (!try_get(queue, &item))
        pthread_cond_wait(&queue->changed, &queue->mutex);
    atomic_fetch_sub(&queue->sleepers, 1);
    pthread_mutex_unlock(&queue->mutex);
    wake_sleepers(queue);
    return item;
}
