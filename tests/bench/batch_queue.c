/*
 * The batching variant of 08's queue (batch_queue.h).  The reference pays
 * one lock, one unlock and one signal per item; here a producer that has
 * 64 items ready moves them all under one lock, and a consumer takes all
 * it finds (up to its buffer: the benchmark's holds the whole capacity).
 * The lock is the same, the waits are the same while loops: only the unit
 * of work changed.  The price is in the
 * interface: callers must gather items, and an item waits in a batch
 * until the batch is full (latency for throughput).
 */
#include "batch_queue.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>

#ifndef BATCH_TRIES
#define BATCH_TRIES 8
#endif

int batch_queue_init(struct batch_queue *queue, size_t capacity)
{
    queue->items = malloc(capacity * sizeof *queue->items);
    if (capacity == 0 || queue->items == NULL) {
        free(queue->items);
        return capacity == 0 ? EINVAL : ENOMEM;
    }
    pthread_mutex_init(&queue->mutex, NULL);
    pthread_cond_init(&queue->not_empty, NULL);
    pthread_cond_init(&queue->not_full, NULL);
    queue->capacity = capacity;
    queue->head = queue->count = 0;
    queue->closed = false;
    return 0;
}

void batch_queue_destroy(struct batch_queue *queue)
{
    pthread_cond_destroy(&queue->not_full);
    pthread_cond_destroy(&queue->not_empty);
    pthread_mutex_destroy(&queue->mutex);
    free(queue->items);
}

size_t batch_queue_put_many(struct batch_queue *queue, void *const items[],
                            size_t n)
{
    size_t done = 0;
    pthread_mutex_lock(&queue->mutex);
    while (done < n) {
        while (queue->count == queue->capacity && !queue->closed)
            pthread_cond_wait(&queue->not_full, &queue->mutex);
        if (queue->closed)
            break;
        /* As many as fit now, then wake the consumers once.  The slot
         * index wraps by a compare, not a division (a 64-bit `%` costs
         * more than the rest of the copy). */
        size_t slot = queue->head + queue->count;
        if (slot >= queue->capacity)
            slot -= queue->capacity;
        while (done < n && queue->count < queue->capacity) {
            queue->items[slot] = items[done++];
            queue->count++;
            if (++slot == queue->capacity)
                slot = 0;
        }
        pthread_cond_broadcast(&queue->not_empty);
    }
    pthread_mutex_unlock(&queue->mutex);
    return done;
}

size_t batch_queue_get_many(struct batch_queue *queue, void *items[],
                            size_t most)
{
    pthread_mutex_lock(&queue->mutex);
    /* An empty queue is usually refilled within microseconds: give the
     * core to the producer a few times before paying for a sleep and a
     * wake-up (a futex round trip costs more than a batch). */
    for (int tries = 0;
         tries < BATCH_TRIES && queue->count == 0 && !queue->closed;
         tries++) {
        pthread_mutex_unlock(&queue->mutex);
        sched_yield();
        pthread_mutex_lock(&queue->mutex);
    }
    while (queue->count == 0 && !queue->closed)
        pthread_cond_wait(&queue->not_empty, &queue->mutex);
    size_t taken = 0;
    while (taken < most && queue->count > 0) {
        items[taken++] = queue->items[queue->head];
        if (++queue->head == queue->capacity)
            queue->head = 0;
        queue->count--;
    }
    if (taken > 0)
        pthread_cond_broadcast(&queue->not_full);
    pthread_mutex_unlock(&queue->mutex);
    return taken;
}

void batch_queue_close(struct batch_queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    queue->closed = true;
    pthread_cond_broadcast(&queue->not_empty);
    pthread_cond_broadcast(&queue->not_full);
    pthread_mutex_unlock(&queue->mutex);
}
