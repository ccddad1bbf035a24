/*
 * Exercise 17, solved: a value guarded by one mutex, with one condition
 * variable for each thing to wait for: a unit (not_zero) or room
 * (not_full).
 */
#include "counting_semaphore.h"

#include <errno.h>
#include <stdbool.h>

int semaphore_init(struct semaphore *semaphore, unsigned value,
                   unsigned maximum)
{
    if (maximum == 0 || value > maximum)
        return EINVAL;
    pthread_condattr_t attributes;
    int error = pthread_condattr_init(&attributes);
    if (error != 0)
        return error;
    /* Timed waits pass an absolute deadline on this clock; the default,
     * CLOCK_REALTIME, would read a monotonic deadline as one long past. */
    error = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    if (error == 0)
        error = pthread_cond_init(&semaphore->not_zero, &attributes);
    if (error == 0) {
        error = pthread_cond_init(&semaphore->not_full, &attributes);
        if (error != 0)
            pthread_cond_destroy(&semaphore->not_zero);
    }
    pthread_condattr_destroy(&attributes);
    if (error != 0)
        return error;
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

/* Takes a unit; the caller holds the mutex and has seen value > 0.  One
 * unit taken is room for one post: wake one poster, on the posters'
 * condition variable (a signal on a shared one could wake another wait). */
static void take_unit(struct semaphore *semaphore)
{
    semaphore->value--;
    pthread_cond_signal(&semaphore->not_full);
}

void semaphore_wait(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    /* while, not if: a wake-up may be spurious, or another wait may have
     * taken the unit first. */
    while (semaphore->value == 0)
        pthread_cond_wait(&semaphore->not_zero, &semaphore->mutex);
    take_unit(semaphore);
    pthread_mutex_unlock(&semaphore->mutex);
}

int semaphore_trywait(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    bool free_unit = semaphore->value > 0;
    if (free_unit)
        take_unit(semaphore);
    pthread_mutex_unlock(&semaphore->mutex);
    return free_unit ? 0 : EAGAIN;
}

int semaphore_timedwait(struct semaphore *semaphore,
                        const struct timespec *deadline)
{
    pthread_mutex_lock(&semaphore->mutex);
    /* The deadline is absolute: a wake-up that finds no unit waits again
     * only until the same deadline.  Any error (ETIMEDOUT, or EINVAL for a
     * bad deadline) ends the wait, unless a unit came with it. */
    int error = 0;
    while (semaphore->value == 0 && error == 0)
        error = pthread_cond_timedwait(&semaphore->not_zero,
                                       &semaphore->mutex, deadline);
    if (semaphore->value > 0) {
        take_unit(semaphore);
        error = 0;
    }
    pthread_mutex_unlock(&semaphore->mutex);
    return error;
}

void semaphore_post(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    while (semaphore->value == semaphore->maximum)
        pthread_cond_wait(&semaphore->not_full, &semaphore->mutex);
    semaphore->value++;
    /* One new unit is work for one wait: signal on every post. */
    pthread_cond_signal(&semaphore->not_zero);
    pthread_mutex_unlock(&semaphore->mutex);
}

unsigned semaphore_value(struct semaphore *semaphore)
{
    pthread_mutex_lock(&semaphore->mutex);
    unsigned value = semaphore->value;
    pthread_mutex_unlock(&semaphore->mutex);
    return value;
}
