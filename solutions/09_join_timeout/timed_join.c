/*
 * Exercise 09, solved: a join with a timeout, built from a done flag, a
 * mutex and a condition variable that times out on the monotonic clock.
 */
#include "timed_join.h"

#include <errno.h>
#include <time.h>

/* The task's thread: runs the function, then announces the end. */
static void *run_then_announce(void *raw)
{
    struct joinable *task = raw;
    void *result = task->function(task->argument);
    /* The last act: after this the thread only exits, so a joiner that
     * sees `finished` can call pthread_join without waiting long. */
    pthread_mutex_lock(&task->mutex);
    task->result = result;
    task->finished = true;
    pthread_cond_broadcast(&task->finished_cond); /* every joiner */
    pthread_mutex_unlock(&task->mutex);
    return result;
}

/* A condition whose timed waits read CLOCK_MONOTONIC, the clock the
 * deadlines are taken from. */
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

int joinable_start(struct joinable *task, void *(*function)(void *),
                   void *argument)
{
    task->function = function;
    task->argument = argument;
    task->result = NULL;
    task->finished = task->joined = false;
    int error = pthread_mutex_init(&task->mutex, NULL);
    if (error != 0)
        return error;
    error = monotonic_cond_init(&task->finished_cond);
    if (error == 0) {
        error = pthread_create(&task->thread, NULL, run_then_announce, task);
        if (error == 0)
            return 0;
        pthread_cond_destroy(&task->finished_cond);
    }
    pthread_mutex_destroy(&task->mutex);
    return error;
}

static struct timespec monotonic_deadline_after(double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    if (seconds < 0)
        seconds = 0;
    time_t whole = (time_t)seconds;
    deadline.tv_sec += whole;
    deadline.tv_nsec += (long)((seconds - (double)whole) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

int timed_join(struct joinable *task, double seconds, void **result)
{
    /* Fixed once, before waiting: a wake-up must not restart the clock. */
    const struct timespec deadline = monotonic_deadline_after(seconds);

    pthread_mutex_lock(&task->mutex);
    /* `while`, not `if`: a wake-up (even a spurious one) does not mean the
     * thread finished; only the flag says so. */
    int waited = 0;
    while (!task->finished && waited == 0)
        waited = pthread_cond_timedwait(&task->finished_cond, &task->mutex,
                                        &deadline);
    int outcome;
    if (task->joined) {
        outcome = EINVAL;
    } else if (task->finished) {
        task->joined = true; /* claimed under the lock: one joiner only */
        if (result != NULL)
            *result = task->result;
        outcome = 0;
    } else {
        outcome = ETIMEDOUT;
    }
    pthread_mutex_unlock(&task->mutex);

    /* The thread has announced its end, so this returns almost at once;
     * it also frees the thread (an unjoined thread is a leak). */
    if (outcome == 0)
        pthread_join(task->thread, NULL);
    return outcome;
}

void joinable_destroy(struct joinable *task)
{
    pthread_cond_destroy(&task->finished_cond);
    pthread_mutex_destroy(&task->mutex);
}
