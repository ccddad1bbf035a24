/*
 * A batching variant of exercise 08's queue, for the benchmark only: the
 * same ring, mutex and two conditions as the reference, but each call
 * moves many items under one lock (see batch_queue.c).
 */
#ifndef THREADLINGS_BATCH_QUEUE_H
#define THREADLINGS_BATCH_QUEUE_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

struct batch_queue {
    pthread_mutex_t mutex;
    pthread_cond_t not_empty, not_full;
    void **items;
    size_t capacity, head, count;
    bool closed;
};

int batch_queue_init(struct batch_queue *queue, size_t capacity);
void batch_queue_destroy(struct batch_queue *queue);
/* Puts all n items, waiting for room as often as needed.  Returns how
 * many went in: n, or fewer if the queue was closed. */
size_t batch_queue_put_many(struct batch_queue *queue, void *const items[],
                            size_t n);
/* Waits for at least one item, then takes up to `most`.  Returns how many
 * it took: 0 only once the queue is closed and empty. */
size_t batch_queue_get_many(struct batch_queue *queue, void *items[],
                            size_t most);
void batch_queue_close(struct batch_queue *queue);

#endif
