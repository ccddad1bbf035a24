/*
 * Exercise 10, solved: a worker that waits for its next run on a condition
 * variable with a deadline, so that a stop wakes it at once; and detached
 * threads.
 */
#include "worker.h"

#include <time.h>

static struct timespec monotonic_deadline_after(double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    time_t whole = (time_t)seconds;
    deadline.tv_sec += whole;
    deadline.tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

static void *work_until_stopped(void *raw)
{
    struct worker *worker = raw;
    pthread_mutex_lock(&worker->mutex);
    while (!worker->stop_requested) {
        /* The task runs without the lock, so that a stop is not kept
         * waiting for it. */
        pthread_mutex_unlock(&worker->mutex);
        worker->task(worker->argument);
        worker->runs++;
        const struct timespec next_run =
            monotonic_deadline_after(worker->period_seconds);

        pthread_mutex_lock(&worker->mutex);
        /* Wait out the period unless a stop comes first.  `while`: a
         * wake-up without a stop must not start the next run early. */
        int waited = 0;
        while (!worker->stop_requested && waited == 0)
            waited = pthread_cond_timedwait(&worker->stop_cond,
                                            &worker->mutex, &next_run);
    }
    pthread_mutex_unlock(&worker->mutex);
    return NULL;
}

static int monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attributes;
    int error = pthread_condattr_init(&attributes);
    if (error != 0)
        return error;
    error = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    if (error == 0)
        error = pthread_cond_init(cond, &attributes);
    pthread_condattr_destroy(&attributes);
    return error;
}

int worker_start(struct worker *worker, double period_seconds,
                 void (*task)(void *), void *argument)
{
    worker->task = task;
    worker->argument = argument;
    worker->period_seconds = period_seconds > 0 ? period_seconds : 0;
    worker->stop_requested = false;
    worker->runs = 0;
    int error = pthread_mutex_init(&worker->mutex, NULL);
    if (error != 0)
        return error;
    error = monotonic_cond_init(&worker->stop_cond);
    if (error == 0) {
        error = pthread_create(&worker->thread, NULL, work_until_stopped,
                               worker);
        if (error == 0)
            return 0;
        pthread_cond_destroy(&worker->stop_cond);
    }
    pthread_mutex_destroy(&worker->mutex);
    return error;
}

int worker_stop(struct worker *worker)
{
    pthread_mutex_lock(&worker->mutex);
    worker->stop_requested = true;
    pthread_cond_broadcast(&worker->stop_cond);
    pthread_mutex_unlock(&worker->mutex);
    /* The run in progress, if any, ends before this returns; after it,
     * worker->runs may be read without the lock. */
    int error = pthread_join(worker->thread, NULL);
    pthread_cond_destroy(&worker->stop_cond);
    pthread_mutex_destroy(&worker->mutex);
    return error;
}

int run_detached(void *(*task)(void *), void *argument)
{
    pthread_attr_t attributes;
    int error = pthread_attr_init(&attributes);
    if (error != 0)
        return error;
    /* Detached from birth: no window in which it is joinable and unjoined. */
    error = pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
    pthread_t thread;
    if (error == 0)
        error = pthread_create(&thread, &attributes, task, argument);
    pthread_attr_destroy(&attributes);
    return error;
}
