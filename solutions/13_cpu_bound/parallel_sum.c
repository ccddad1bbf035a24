/*
 * Exercise 13, solved: each thread computes its chunk's partial sum with no
 * lock held, then holds a lock only to add that partial to the total.
 */
#include "parallel_sum.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

int64_t sum_chunk(const int64_t *values, size_t count, void *context)
{
    (void)context;
    int64_t sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += values[i];
    return sum;
}

struct shared_total {
    pthread_mutex_t mutex;
    int64_t sum;
};

/* One per thread: each thread reads only its own record. */
struct chunk {
    pthread_t thread;
    const int64_t *values;
    size_t count;
    chunk_sum_fn sum;
    void *context;
    struct shared_total *total;
};

static void *sum_one_chunk(void *raw)
{
    struct chunk *chunk = raw;
    /* The long part, with no lock held: this is what runs in parallel. */
    int64_t partial = chunk->sum(chunk->values, chunk->count, chunk->context);
    /* The short part, one thread at a time. */
    pthread_mutex_lock(&chunk->total->mutex);
    chunk->total->sum += partial;
    pthread_mutex_unlock(&chunk->total->mutex);
    return NULL;
}

int parallel_sum(const int64_t *values, size_t count, size_t thread_count,
                 chunk_sum_fn sum, void *context, int64_t *total)
{
    if (thread_count == 0)
        return EINVAL;
    struct chunk *chunks = calloc(thread_count, sizeof *chunks);
    if (chunks == NULL)
        return ENOMEM;
    struct shared_total shared = {PTHREAD_MUTEX_INITIALIZER, 0};

    /* The first `extra` chunks get one value more, so that no thread has
     * more than one value more to do than another. */
    size_t base = count / thread_count, extra = count % thread_count;
    size_t start = 0, started = 0;
    int error = 0;
    for (size_t i = 0; i < thread_count; i++) {
        size_t size = base + (i < extra ? 1 : 0);
        chunks[i] = (struct chunk){.values = values + start, .count = size,
                                   .sum = sum, .context = context,
                                   .total = &shared};
        start += size;
        error = pthread_create(&chunks[i].thread, NULL, sum_one_chunk,
                               &chunks[i]);
        if (error != 0)
            break;
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(chunks[i].thread, NULL);

    if (error == 0)
        *total = shared.sum; /* no lock needed: every thread was joined */
    pthread_mutex_destroy(&shared.mutex);
    free(chunks);
    return error;
}
