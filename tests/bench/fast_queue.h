/*
 * A fast variant of exercise 08's queue, for the benchmark only (the
 * reference solution stays the model a student should write first).
 * Same idea, bounded and blocking, but the common case takes no lock:
 * see fast_queue.c for how and what it costs in code.
 */
#ifndef THREADLINGS_FAST_QUEUE_H
#define THREADLINGS_FAST_QUEUE_H

#include <pthread.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stddef.h>

struct fast_slot {
    atomic_size_t sequence;
    void *item;
};

struct fast_queue {
    struct fast_slot *slots;
    size_t mask; /* capacity - 1; the capacity is a power of two */
    /* Producers and consumers each have their own cache line, so that a
     * put does not slow down a get on the other core. */
    alignas(64) atomic_size_t tail; /* next position to put */
    alignas(64) atomic_size_t head; /* next position to get */
    alignas(64) atomic_int sleepers; /* threads in the slow path */
    pthread_mutex_t mutex;
    pthread_cond_t changed;
};

/* capacity: rounded up to a power of two.  Returns 0 or ENOMEM. */
int fast_queue_init(struct fast_queue *queue, size_t capacity);
void fast_queue_destroy(struct fast_queue *queue);
/* Block while full / empty, like queue_put and queue_get (no close). */
void fast_queue_put(struct fast_queue *queue, void *item);
void *fast_queue_get(struct fast_queue *queue);

#endif
