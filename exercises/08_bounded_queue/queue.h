/*
 * Exercise 08: a bounded blocking queue (Python's queue.Queue with a
 * maxsize), the channel between producer and consumer threads.
 */
#ifndef QUEUE_H
#define QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * The fields are public only so that a queue can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct queue {
    pthread_mutex_t mutex;    /* guards every field below */
    pthread_cond_t not_empty; /* consumers wait here for an item or close */
    pthread_cond_t not_full;  /* producers wait here for room or close */
    void **items;             /* ring buffer of `capacity` slots */
    size_t capacity;
    size_t head;              /* slot of the oldest item */
    size_t count;             /* items in the queue: 0 to capacity */
    bool closed;
};

/*
 * Makes an empty, open queue that holds at most `capacity` items.
 * Returns 0; EINVAL if capacity is 0; ENOMEM; or the error number of the
 * pthread call that failed.  On error nothing is left to destroy.
 */
int queue_init(struct queue *queue, size_t capacity);

/* Frees what queue_init made (not the items).  No thread may use the
 * queue any more. */
void queue_destroy(struct queue *queue);

/*
 * Adds `item` at the back.  While the queue is full, waits for a get to
 * make room.  Returns 0, or EPIPE if the queue is closed (before the call
 * or while waiting): then the item was not added.
 */
int queue_put(struct queue *queue, void *item);

/*
 * Takes the item at the front into *item.  While the queue is empty and
 * open, waits for a put.  Returns 0, or EPIPE once the queue is closed and
 * empty (*item is then left alone): items put before close are all still
 * handed out first.
 */
int queue_get(struct queue *queue, void **item);

/*
 * Closes the queue: every waiting and later put fails with EPIPE, and gets
 * hand out what is left, then fail with EPIPE.  Wakes every thread that
 * waits in put or get.  Closing a closed queue changes nothing.
 */
void queue_close(struct queue *queue);

/* How many items are in the queue now (it may change as soon as this
 * returns): never more than the capacity. */
size_t queue_size(struct queue *queue);

#endif
