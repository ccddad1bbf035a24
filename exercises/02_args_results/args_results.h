/*
 * Exercise 02: give each thread its own argument, and collect each
 * thread's result.
 */
#ifndef ARGS_RESULTS_H
#define ARGS_RESULTS_H

#include <stddef.h>

/*
 * A job: computes a result from its input.  It returns a string allocated
 * with malloc (or NULL); whoever receives the string frees it.
 */
typedef char *job_function(long input);

/*
 * The tutorial's do_something, as a job: sleeps `milliseconds` (0: not at
 * all), then returns a new string "Done sleeping N ms" with N =
 * milliseconds, allocated with malloc: the caller frees it.  Returns NULL
 * if memory runs out.  Safe to call from many threads at once.
 */
char *do_something(long milliseconds);

/*
 * Runs job(inputs[i]) for every i < count, each in its own thread, all at
 * the same time, and returns when every one of them has finished.
 *
 * results[i] receives what job(inputs[i]) returned: results are in input
 * order, whatever order the threads finish in.  run_jobs never frees or
 * changes a result: from now on the caller owns every results[i] and frees
 * it with free().  `inputs` and `results` each hold `count` elements;
 * `count` may be 0 (nothing runs; then they may be NULL).  `job`, `inputs`
 * and `results` are never NULL when count > 0 (the caller's duty: run_jobs
 * does not check).
 *
 * Returns 0 on success, or an error number: ENOMEM when memory runs out, or
 * the error pthread_create gave (for example EAGAIN).  No thread is left
 * running either way.  On an error results[i] still holds the result of
 * every job that ran and NULL for every job that did not: the caller frees
 * them all the same.
 */
int run_jobs(job_function *job, const long *inputs, size_t count,
             char **results);

#endif
