/*
 * Exercise 12: a pool of worker threads that run queued tasks, with futures.
 * Read README.md in this folder, then fix the TODOs.
 */
#include "thread_pool.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

enum future_state { FUTURE_PENDING, FUTURE_DONE, FUTURE_CANCELLED };

/* A future's fields are guarded by its pool's mutex. */
struct future {
    struct thread_pool *pool;
    enum future_state state;
    void *result;
};

struct job {
    struct job *next;
    pool_task task;
    void *argument;
    struct future *future;
};

/* All shared state sits beside the one mutex that guards it. */
struct thread_pool {
    pthread_mutex_t mutex;
    pthread_cond_t work_cond;     /* a job was queued, or shutdown began */
    pthread_cond_t settled_cond;  /* some future left FUTURE_PENDING */
    struct job *head, *tail;      /* jobs not started yet, oldest first */
    bool shutting_down;
    size_t worker_count;
    pthread_t *workers;
};

/* Call with pool->mutex held: marks the future done or cancelled. */
static void settle_locked(struct future *future, enum future_state state,
                          void *result)
{
    future->result = result;
    future->state = state;
    /* TODO: wake the threads waiting in future_result (all of them: they
     * may be waiting for different futures). */
}

/* Queue helpers: call them with pool->mutex held. */
static void append_job(struct thread_pool *pool, struct job *job)
{
    job->next = NULL;
    if (pool->tail != NULL)
        pool->tail->next = job;
    else
        pool->head = job;
    pool->tail = job;
}

static struct job *take_job(struct thread_pool *pool)
{
    struct job *job = pool->head;
    if (job != NULL) {
        pool->head = job->next;
        if (pool->head == NULL)
            pool->tail = NULL;
    }
    return job;
}

/* TODO: write the function each worker thread runs.  With pool->mutex held
 * it loops:
 *   - wait on work_cond while the queue is empty and the pool is not
 *     shutting down (a while loop: wake-ups can be spurious);
 *   - take a job; none left means the pool is shutting down: unlock, return;
 *   - unlock, run the task, lock again, settle the future, free the job. */

static void free_pool(struct thread_pool *pool)
{
    pthread_cond_destroy(&pool->settled_cond);
    pthread_cond_destroy(&pool->work_cond);
    pthread_mutex_destroy(&pool->mutex);
    free(pool->workers);
    free(pool);
}

int thread_pool_create(struct thread_pool **pool_out, size_t max_workers)
{
    *pool_out = NULL;
    if (max_workers == 0)
        return EINVAL;
    struct thread_pool *pool = calloc(1, sizeof *pool);
    if (pool == NULL)
        return ENOMEM;
    pool->workers = calloc(max_workers, sizeof *pool->workers);
    if (pool->workers == NULL) {
        free(pool);
        return ENOMEM;
    }
    pthread_mutex_init(&pool->mutex, NULL);
    pthread_cond_init(&pool->work_cond, NULL);
    pthread_cond_init(&pool->settled_cond, NULL);
    /* TODO: start max_workers worker threads (pool->workers).  If one
     * pthread_create fails, stop the workers already started (set the flag,
     * wake them all), join them, free the pool and return the error. */
    pool->worker_count = 0;
    *pool_out = pool;
    return 0;
}

int thread_pool_submit(struct thread_pool *pool, pool_task task,
                       void *argument, struct future **future_out)
{
    *future_out = NULL;
    if (task == NULL)
        return EINVAL;
    struct job *job = malloc(sizeof *job);
    struct future *future = malloc(sizeof *future);
    if (job == NULL || future == NULL) {
        free(job);
        free(future);
        return ENOMEM;
    }
    *future = (struct future){pool, FUTURE_PENDING, NULL};
    *job = (struct job){NULL, task, argument, future};

    pthread_mutex_lock(&pool->mutex);
    /* TODO: once the pool is shutting down, refuse the job (ESHUTDOWN). */
    append_job(pool, job);
    /* TODO: with no workers, the caller runs the job itself, here and now:
     * one task at a time, and submit returns only when it is done.  Wake a
     * worker instead, and return at once. */
    job = take_job(pool);
    pthread_mutex_unlock(&pool->mutex);
    void *result = job->task(job->argument);
    pthread_mutex_lock(&pool->mutex);
    settle_locked(job->future, FUTURE_DONE, result);
    free(job);
    pthread_mutex_unlock(&pool->mutex);

    *future_out = future;
    return 0;
}

int future_result(struct future *future, void **result)
{
    pthread_mutex_lock(&future->pool->mutex);
    /* TODO: the task may not have finished yet: wait until it has. */
    int error = future->state == FUTURE_CANCELLED ? ECANCELED : 0;
    if (error == 0 && result != NULL)
        *result = future->result;
    pthread_mutex_unlock(&future->pool->mutex);
    return error;
}

void future_free(struct future *future)
{
    if (future == NULL)
        return;
    /* TODO: a worker may still be about to settle this future: wait until
     * it is settled before freeing it. */
    free(future);
}

int thread_pool_map(struct thread_pool *pool, pool_task task,
                    void *const arguments[], void *results[], size_t count)
{
    /* TODO: this runs the tasks on the caller's thread, one after another.
     * Submit every task first, then collect the results in input order,
     * freeing each future (wait for every submitted one, even after an
     * error). */
    (void)pool;
    for (size_t i = 0; i < count; i++)
        results[i] = task(arguments[i]);
    return 0;
}

int thread_pool_shutdown(struct thread_pool *pool, bool cancel_pending)
{
    pthread_mutex_lock(&pool->mutex);
    if (pool->shutting_down) {
        pthread_mutex_unlock(&pool->mutex);
        return EINVAL;
    }
    pool->shutting_down = true;
    /* TODO: if cancel_pending, take every job out of the queue, settle its
     * future as FUTURE_CANCELLED and free the job. */
    (void)cancel_pending;
    /* TODO: wake every idle worker, so that it sees the flag. */
    pthread_mutex_unlock(&pool->mutex);
    /* TODO: join every worker. */
    return 0;
}

void thread_pool_destroy(struct thread_pool *pool)
{
    if (pool == NULL)
        return;
    pthread_mutex_lock(&pool->mutex);
    bool shut_down = pool->shutting_down;
    pthread_mutex_unlock(&pool->mutex);
    if (!shut_down)
        thread_pool_shutdown(pool, false);
    free_pool(pool);
}
