/*
 * Exercise 08: a bounded queue whose put waits for room and whose get waits
 * for an item.  Read README.md in this folder, then fix the TODOs.
 */
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

/* Setting up and tearing down are done: the mutex, both condition
 * variables and the ring buffer are ready to use. */
int queue_init(struct queue *queue, size_t capacity)
{
    if (capacity == 0)
        return EINVAL;
    if (capacity > SIZE_MAX / sizeof *queue->items)
        return ENOMEM;
    queue->items = malloc(capacity * sizeof *queue->items);
    if (queue->items == NULL)
        return ENOMEM;
    int error = pthread_mutex_init(&queue->mutex, NULL);
    if (error != 0)
        goto no_mutex;
    error = pthread_cond_init(&queue->not_empty, NULL);
    if (error != 0)
        goto no_not_empty;
    error = pthread_cond_init(&queue->not_full, NULL);
    if (error != 0)
        goto no_not_full;
    queue->capacity = capacity;
    queue->head = queue->count = 0;
    queue->closed = false;
    return 0;

no_not_full:
    pthread_cond_destroy(&queue->not_empty);
no_not_empty:
    pthread_mutex_destroy(&queue->mutex);
no_mutex:
    free(queue->items);
    return error;
}

void queue_destroy(struct queue *queue)
{
    pthread_cond_destroy(&queue->not_full);
    pthread_cond_destroy(&queue->not_empty);
    pthread_mutex_destroy(&queue->mutex);
    free(queue->items);
}

int queue_put(struct queue *queue, void *item)
{
    pthread_mutex_lock(&queue->mutex);
    if (queue->closed) {
        pthread_mutex_unlock(&queue->mutex);
        return EPIPE;
    }
    if (queue->count == queue->capacity) {
        /* TODO: a full queue must not fail the put: wait (on not_full)
         * until a get makes room, or until the queue is closed. */
        pthread_mutex_unlock(&queue->mutex);
        return EAGAIN;
    }
    queue->items[(queue->head + queue->count) % queue->capacity] = item;
    queue->count++;
    /* TODO: an item is now there: wake a consumer that waits for one. */
    pthread_mutex_unlock(&queue->mutex);
    return 0;
}

int queue_get(struct queue *queue, void **item)
{
    pthread_mutex_lock(&queue->mutex);
    if (queue->count == 0) {
        /* TODO: like the tutorial's consumer, this gives up as soon as the
         * queue is momentarily empty.  While the queue is open, wait (on
         * not_empty) for an item; return EPIPE only once it is closed and
         * empty. */
        pthread_mutex_unlock(&queue->mutex);
        return EPIPE;
    }
    *item = queue->items[queue->head];
    queue->head = (queue->head + 1) % queue->capacity;
    queue->count--;
    /* TODO: there is room now: wake a producer that waits for it. */
    pthread_mutex_unlock(&queue->mutex);
    return 0;
}

void queue_close(struct queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    queue->closed = true;
    /* TODO: wake every thread that waits, consumers and producers alike. */
    pthread_mutex_unlock(&queue->mutex);
}

size_t queue_size(struct queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    size_t count = queue->count;
    pthread_mutex_unlock(&queue->mutex);
    return count;
}
