/*
 * Exercise 08, solved: a ring buffer guarded by one mutex, with one
 * condition variable per thing to wait for (an item, or room).
 */
#include "queue.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

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
    /* while, not if: a wake-up may be spurious, or another producer may
     * have taken the room first. */
    while (queue->count == queue->capacity && !queue->closed)
        pthread_cond_wait(&queue->not_full, &queue->mutex);
    if (queue->closed) {
        pthread_mutex_unlock(&queue->mutex);
        return EPIPE;
    }
    /* head + count < 2 * capacity: no index grows without bound. */
    queue->items[(queue->head + queue->count) % queue->capacity] = item;
    queue->count++;
    /* One new item is work for one consumer: signal on every put (not
     * only when the queue was empty), on the consumers' condition. */
    pthread_cond_signal(&queue->not_empty);
    pthread_mutex_unlock(&queue->mutex);
    return 0;
}

int queue_get(struct queue *queue, void **item)
{
    pthread_mutex_lock(&queue->mutex);
    while (queue->count == 0 && !queue->closed)
        pthread_cond_wait(&queue->not_empty, &queue->mutex);
    if (queue->count == 0) { /* closed, and nothing left to hand out */
        pthread_mutex_unlock(&queue->mutex);
        return EPIPE;
    }
    *item = queue->items[queue->head];
    queue->head = (queue->head + 1) % queue->capacity;
    queue->count--;
    pthread_cond_signal(&queue->not_full);
    pthread_mutex_unlock(&queue->mutex);
    return 0;
}

void queue_close(struct queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    queue->closed = true;
    /* Every waiter, on both sides, must wake up and see the queue closed. */
    pthread_cond_broadcast(&queue->not_empty);
    pthread_cond_broadcast(&queue->not_full);
    pthread_mutex_unlock(&queue->mutex);
}

size_t queue_size(struct queue *queue)
{
    pthread_mutex_lock(&queue->mutex);
    size_t count = queue->count;
    pthread_mutex_unlock(&queue->mutex);
    return count;
}
