/*
 * Exercise 07, solved: an event is a flag, a mutex that guards it, and a
 * condition variable that waiters sleep on until the flag is set.
 */
#include "event.h"

#include <errno.h>
#include <time.h>

int event_init(struct event *event)
{
    pthread_condattr_t attributes;
    int error = pthread_condattr_init(&attributes);
    if (error != 0)
        return error;
    /* Timed waits pass an absolute deadline on this clock. */
    error = pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    if (error == 0)
        error = pthread_cond_init(&event->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    if (error != 0)
        return error;
    error = pthread_mutex_init(&event->mutex, NULL);
    if (error != 0) {
        pthread_cond_destroy(&event->changed);
        return error;
    }
    event->is_set = false;
    return 0;
}

void event_destroy(struct event *event)
{
    pthread_cond_destroy(&event->changed);
    pthread_mutex_destroy(&event->mutex);
}

void event_set(struct event *event)
{
    pthread_mutex_lock(&event->mutex);
    event->is_set = true;
    /* Every waiter must wake, not just one: broadcast, not signal. */
    pthread_cond_broadcast(&event->changed);
    pthread_mutex_unlock(&event->mutex);
}

void event_clear(struct event *event)
{
    pthread_mutex_lock(&event->mutex);
    event->is_set = false;
    pthread_mutex_unlock(&event->mutex);
}

bool event_is_set(struct event *event)
{
    pthread_mutex_lock(&event->mutex);
    bool is_set = event->is_set;
    pthread_mutex_unlock(&event->mutex);
    return is_set;
}

void event_wait(struct event *event)
{
    pthread_mutex_lock(&event->mutex);
    /* The flag is checked before the first wait, under the mutex, so a set
     * that came earlier is never missed; and again after every wake-up,
     * because a wait may return without any set (a spurious wake-up). */
    while (!event->is_set)
        pthread_cond_wait(&event->changed, &event->mutex);
    pthread_mutex_unlock(&event->mutex);
}

/* Now plus `seconds` on CLOCK_MONOTONIC (the clock event_init chose). */
static struct timespec deadline_after(double seconds)
{
    if (!(seconds > 0))
        seconds = 0; /* also catches NaN */
    if (seconds > 1e9)
        seconds = 1e9; /* about 31 years: keeps tv_sec from overflowing */
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

bool event_wait_timeout(struct event *event, double seconds)
{
    /* An absolute deadline: a wake-up that finds the flag still clear
     * waits again only for the time that is left. */
    struct timespec deadline = deadline_after(seconds);
    pthread_mutex_lock(&event->mutex);
    int error = 0;
    while (!event->is_set && error != ETIMEDOUT)
        error = pthread_cond_timedwait(&event->changed, &event->mutex,
                                       &deadline);
    bool is_set = event->is_set;
    pthread_mutex_unlock(&event->mutex);
    return is_set;
}
