/*
 * Injected spurious wake-ups.  POSIX lets pthread_cond_wait return without a
 * signal, but on Linux it almost never does, so code that guards a wait with
 * `if` instead of `while` passes by luck.  Here the first wait of every
 * thread, and every other one after it, returns at once (after releasing
 * and re-taking the mutex, as a real wake-up does): an `if`-guarded waiter
 * then reads a false condition on every run, and a `while` loop just waits
 * again.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <sched.h>
#include <stdatomic.h>

int __real_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);
int __real_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline);

/* interleavings.c: counts the threads blocked in a real wait. */
void harness_count_sleeper(int change);

static atomic_bool injecting = true;
static _Thread_local unsigned long waits_by_this_thread;

static bool wake_spuriously(pthread_mutex_t *mutex)
{
    if (!atomic_load(&injecting) || waits_by_this_thread++ % 2 != 0)
        return false;
    pthread_mutex_unlock(mutex);
    sched_yield();
    pthread_mutex_lock(mutex);
    return true;
}

int __wrap_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    if (wake_spuriously(mutex))
        return 0;
    harness_count_sleeper(+1);
    int result = __real_pthread_cond_wait(cond, mutex);
    harness_count_sleeper(-1);
    return result;
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline)
{
    if (wake_spuriously(mutex))
        return 0;
    harness_count_sleeper(+1);
    int result = __real_pthread_cond_timedwait(cond, mutex, deadline);
    harness_count_sleeper(-1);
    return result;
}

void harness_set_spurious_wakeups(bool enabled)
{
    atomic_store(&injecting, enabled);
}
