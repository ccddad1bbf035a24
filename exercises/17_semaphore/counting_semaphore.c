/*
 * Exercise 17: a counting semaphore with a maximum, from one mutex and two
 * condition variables.  Read README.md in this folder, then fix the TODOs.
 */
#include "counting_semaphore.h"

#include <errno.h>
#include <sched.h>
#include <stdbool.h>

int semaphore_init(struct semaphore *semaphore, unsigned value,
                   unsigned maximum)
{
    if (maximum == 0 || value > maximum)
        return EINVAL;
    /* TODO: timed waits pass a deadline on CLOCK_MONOTONIC, but these
     * condition variables measure time on the default clock, the wall
     * clock.  Make them with a pthread_condattr_t set to CLOCK_MONOTONIC
     * (pthread_condattr_setclock). */
    int error = pthread_cond_init(&semaphore->not_zero, NULL);
    if (error != 0)
        return error;
    error = pthread_cond_init(&semaphore->not_full, NULL);
    if (error != 0) {
        pthread_cond_destroy(&semaphore->not_zero);
        return error;
    }
    error = pthread_mutex_init(&semaphore->mutex, NULL);
    if (error != 0) {
        pthread_cond_destroy(&semaphore->not_full);
        pthread_cond_destroy(&semaphore->not_zero);
        return error;
    }
    semaphore->value = value;
    semaphore->maximum = maximum;
    return 0;
}

void semaphore_destroy(struct semaphore *semaphore)
{
    pthread_mutex_destroy(&semaphore->mutex);
    pthread_cond_destroy(&semaphore->not_full);
    pthread_cond_destroy(&semaphore->not_zero);
}

void semaphore_wait(struct semaphore *semaphore)
{
    /* TODO: this polls the value without the mutex and burns a CPU while
     * it waits; and between the check and the decrement another wait can
     * take the last unit.  Check and take under the mutex, sleeping on
     * not_zero while the value is 0. */
    while (semaphore->value == 0)
        sched_yield();
    pthread_mutex_lock(&semaphore->mutex);
    semaphore->value--;
    pthread_mutex_unlock(&semaphore->mutex);
}

int semaphore_trywait(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    bool free_unit = semaphore->value > 0;
    if (free_unit)
        semaphore->value--; /* TODO: a post may be waiting for this room */
    pthread_mutex_unlock(&semaphore->mutex);
    return free_unit ? 0 : EAGAIN;
}

static bool deadline_passed(const struct timespec *deadline)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > deadline->tv_sec ||
           (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

int semaphore_timedwait(struct semaphore *semaphore,
                        const struct timespec *deadline)
{
    /* TODO: the same polling, until the deadline.  Sleep in
     * pthread_cond_timedwait instead, which returns ETIMEDOUT once the
     * deadline has passed (and EINVAL for a bad one). */
    while (semaphore->value == 0 && !deadline_passed(deadline))
        sched_yield();
    return semaphore_trywait(semaphore) == 0 ? 0 : ETIMEDOUT;
}

void semaphore_post(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    /* TODO: at the maximum, a post must wait (on not_full) until a wait
     * takes a unit; this one just goes past it.  And a thread may be
     * asleep waiting for a unit: wake it (on not_zero). */
    semaphore->value++;
    pthread_mutex_unlock(&semaphore->mutex);
}

unsigned semaphore_value(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    unsigned value = semaphore->value;
    pthread_mutex_unlock(&semaphore->mutex);
    return value;
}
