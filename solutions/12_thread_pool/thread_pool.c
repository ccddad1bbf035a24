/*
 * Exercise 12, solved: a fixed set of workers takes tasks from one queue;
 * each task settles a future that callers can wait on.
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

/* Call with pool->mutex held.  Wakes every waiter: they may wait for
 * different futures, and each checks its own. */
static void settle_locked(struct future *future, enum future_state state,
                          void *result)
{
    future->result = result;
    future->state = state;
    pthread_cond_broadcast(&future->pool->settled_cond);
}

/* Queue helpers: call with pool->mutex held. */
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

static void *worker_main(void *raw)
{
    struct thread_pool *pool = raw;
    pthread_mutex_lock(&pool->mutex);
    for (;;) {
        /* while, not if: a wake-up can be spurious, or another worker may
         * have taken the job first. */
        while (pool->head == NULL && !pool->shutting_down)
            pthread_cond_wait(&pool->work_cond, &pool->mutex);
        struct job *job = take_job(pool);
        if (job == NULL)
            break; /* shutting down, and the queue is empty */
        /* Run the task unlocked, so that the other workers and submit can
         * use the queue meanwhile. */
        pthread_mutex_unlock(&pool->mutex);
        void *result = job->task(job->argument);
        pthread_mutex_lock(&pool->mutex);
        settle_locked(job->future, FUTURE_DONE, result);
        free(job);
    }
    pthread_mutex_unlock(&pool->mutex);
    return NULL;
}

static void join_workers(struct thread_pool *pool, size_t count)
{
    for (size_t i = 0; i < count; i++)
        pthread_join(pool->workers[i], NULL);
}

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

    int error = 0;
    size_t started = 0;
    while (started < max_workers) {
        error = pthread_create(&pool->workers[started], NULL, worker_main,
                               pool);
        if (error != 0)
            break;
        started++;
    }
    if (error != 0) {
        pthread_mutex_lock(&pool->mutex);
        pool->shutting_down = true;
        pthread_cond_broadcast(&pool->work_cond);
        pthread_mutex_unlock(&pool->mutex);
        join_workers(pool, started);
        free_pool(pool);
        return error;
    }
    pool->worker_count = max_workers;
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
    if (pool->shutting_down) {
        pthread_mutex_unlock(&pool->mutex);
        free(job);
        free(future);
        return ESHUTDOWN;
    }
    append_job(pool, job);
    /* One new job needs one worker; signal on every submit, not only when
     * the queue was empty, or queued jobs wait while workers sleep. */
    pthread_cond_signal(&pool->work_cond);
    pthread_mutex_unlock(&pool->mutex);
    *future_out = future;
    return 0;
}

/* Waits, with the pool's mutex held, until the future is settled. */
static void wait_until_settled(struct future *future)
{
    /* while, not if: the broadcast may have been for another future, or
     * the wake-up spurious. */
    while (future->state == FUTURE_PENDING)
        pthread_cond_wait(&future->pool->settled_cond, &future->pool->mutex);
}

int future_result(struct future *future, void **result)
{
    pthread_mutex_lock(&future->pool->mutex);
    wait_until_settled(future);
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
    pthread_mutex_lock(&future->pool->mutex);
    wait_until_settled(future); /* a worker may be about to settle it */
    pthread_mutex_unlock(&future->pool->mutex);
    free(future);
}

int thread_pool_map(struct thread_pool *pool, pool_task task,
                    void *const arguments[], void *results[], size_t count)
{
    if (count == 0)
        return 0;
    struct future **futures = calloc(count, sizeof *futures);
    if (futures == NULL)
        return ENOMEM;
    /* Submit them all before waiting for any: they run side by side. */
    int error = 0;
    size_t submitted = 0;
    while (submitted < count) {
        error = thread_pool_submit(pool, task, arguments[submitted],
                                   &futures[submitted]);
        if (error != 0)
            break;
        submitted++;
    }
    /* Collect in input order; wait for every future even after an error,
     * so that none is left running behind this call. */
    for (size_t i = 0; i < submitted; i++) {
        int result_error = future_result(futures[i], &results[i]);
        if (error == 0)
            error = result_error;
        future_free(futures[i]);
    }
    free(futures);
    return error;
}

int thread_pool_shutdown(struct thread_pool *pool, bool cancel_pending)
{
    pthread_mutex_lock(&pool->mutex);
    if (pool->shutting_down) {
        pthread_mutex_unlock(&pool->mutex);
        return EINVAL;
    }
    pool->shutting_down = true;
    if (cancel_pending) {
        /* Settle the queued jobs now, so that their waiters do not wait for
         * the tasks that are still running; no worker will see them. */
        for (struct job *job = take_job(pool); job; job = take_job(pool)) {
            settle_locked(job->future, FUTURE_CANCELLED, NULL);
            free(job);
        }
    }
    /* Wake every idle worker: one signal would wake only one of them, and
     * the others would sleep on while the join below waits for them. */
    pthread_cond_broadcast(&pool->work_cond);
    pthread_mutex_unlock(&pool->mutex);
    join_workers(pool, pool->worker_count);
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
