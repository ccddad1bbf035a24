/*
 * Exercise 12: a thread pool with futures, like Python's ThreadPoolExecutor.
 *
 * A pool owns a fixed set of worker threads and a queue of tasks.  submit
 * queues a task and returns a future at once; a worker runs the task later;
 * future_result waits until the task has finished and gives its result.
 * Every future that submit returns ends settled: done (the task ran) or
 * cancelled (shutdown dropped it before it started).  None is left waiting.
 *
 * Errors are returned as error numbers, the POSIX way (0 means success).
 */
#ifndef THREAD_POOL_H
#define THREAD_POOL_H

#include <stdbool.h>
#include <stddef.h>

struct thread_pool;
struct future;

/* A task: runs on a worker thread; its return value is the future's result. */
typedef void *(*pool_task)(void *argument);

/*
 * Creates a pool and starts exactly `max_workers` worker threads before it
 * returns (not lazily, not one per task).  On success stores the pool in
 * *pool and returns 0.
 * Errors: EINVAL if max_workers is 0; ENOMEM; or the error pthread_create
 * gave (EAGAIN), after stopping and joining the workers already started:
 * a failed create leaves no thread running, and *pool is set to NULL.
 */
int thread_pool_create(struct thread_pool **pool, size_t max_workers);

/*
 * Queues task(argument) and returns at once, without waiting for the task:
 * stores a new future in *future and returns 0.  At most max_workers tasks
 * run at the same time; queued tasks start in the order they were submitted.
 * The caller owns the future and must free it with future_free, before
 * destroying the pool.
 * Safe to call from several threads at once.
 * Errors (the task never runs and *future is set to NULL): ESHUTDOWN if
 * thread_pool_shutdown has been called; EINVAL if task is NULL; ENOMEM.
 */
int thread_pool_submit(struct thread_pool *pool, pool_task task,
                       void *argument, struct future **future);

/*
 * Waits until the future is settled.  Returns 0 and stores the task's
 * return value in *result (if result is not NULL) when the task ran;
 * returns ECANCELED, without waiting any longer, when shutdown cancelled
 * the task before it started.  May be called several times, from any
 * thread, also after shutdown (but not after thread_pool_destroy).
 */
int future_result(struct future *future, void **result);

/*
 * Frees a future.  If it is not settled yet, first waits until it is (a
 * worker may still be about to write its result).  NULL is allowed.
 * Must not be called while another thread is still using the future.
 * A future belongs to its pool: free it before thread_pool_destroy.
 */
void future_free(struct future *future);

/*
 * Runs task(arguments[i]) for i in 0..count-1 on the pool's workers, at
 * the same time as far as there are workers, and returns once every one
 * has finished, with results[i] = task(arguments[i]): in input order,
 * whatever order the tasks finished in.  count 0 does nothing.
 * Errors: those of thread_pool_submit (ESHUTDOWN if the pool is shut
 * down), or ECANCELED if a shutdown cancelled some of the tasks.  Even
 * then it returns only after every task it submitted has settled; which
 * entries of results were written is then unspecified.
 */
int thread_pool_map(struct thread_pool *pool, pool_task task,
                    void *const arguments[], void *results[], size_t count);

/*
 * Stops the pool: from now on submit fails with ESHUTDOWN.
 * cancel_pending false: the queued tasks still run, every one of them.
 * cancel_pending true: every queued task that has not started is cancelled
 *   at once: its future settles as cancelled (future_result returns
 *   ECANCELED) before shutdown waits for the tasks that are running.
 * Either way it returns only when every worker thread has finished and
 * been joined: no task is running and no worker is left.
 * Returns 0, or EINVAL if the pool was already shut down.
 */
int thread_pool_shutdown(struct thread_pool *pool, bool cancel_pending);

/*
 * Frees the pool.  Shuts it down first (running every queued task) if
 * thread_pool_shutdown has not been called.  Free every future of the pool
 * before (future_free), and make no other call on the pool at the same
 * time or after.  NULL is allowed.
 */
void thread_pool_destroy(struct thread_pool *pool);

#endif
