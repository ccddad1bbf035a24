/*
 * Exercise 13: CPU-bound work in parallel threads, without a global lock.
 */
#ifndef PARALLEL_SUM_H
#define PARALLEL_SUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The CPU-bound work for one chunk: returns the sum of values[0..count)
 * (computed however the caller likes; `context` is passed through).  It
 * may be called by several threads at the same time, and with count 0.
 */
typedef int64_t (*chunk_sum_fn)(const int64_t *values, size_t count,
                                void *context);

/* The plain chunk function: adds the values up (context is unused). */
int64_t sum_chunk(const int64_t *values, size_t count, void *context);

/*
 * Sums values[0..count) with `thread_count` new threads that compute at the
 * same time.  The array is cut into thread_count consecutive chunks whose
 * sizes differ by at most one (when count < thread_count some chunks are
 * empty); each thread calls sum(chunk, chunk_size, context) exactly once,
 * for its own chunk, and the partial sums are added up.
 *
 * Returns 0 and stores the total in *total, after every thread has been
 * joined.
 * Errors (*total is left unchanged): EINVAL if thread_count is 0; ENOMEM;
 * or the error of a failed pthread_create (EAGAIN), returned after joining
 * the threads already started.
 */
int parallel_sum(const int64_t *values, size_t count, size_t thread_count,
                 chunk_sum_fn sum, void *context, int64_t *total);

#endif
