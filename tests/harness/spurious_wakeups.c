/*
 * Injected spurious wake-ups.  POSIX lets pthread_cond_wait return without a
 * signal, but on Linux it almost never does, so code that guards a wait with
 * `if` instead of `while` passes by luck.  Here the first wait of every
 * thread, and every other one after it, returns at once (after releasing
 * and re-taking the mutex, as a real wake-up does): an `if`-guarded waiter
 * then reads a false condition on every run, and a `while` loop just waits
 * again.
 *
 * Each place in the code whose wait got such a wake-up is noted once
 * ("woken-without-signal: <file> <offset>"): when the test then fails, the
 * runner looks that place up, and if the wait is guarded by `if`, names the
 * `if` and the wait as the mistake.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dlfcn.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

int __real_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex);
int __real_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline);

/* interleavings.c: counts the threads blocked in a real wait. */
void harness_count_sleeper(int change);

static atomic_bool injecting = true;
static _Thread_local unsigned long waits_by_this_thread;

/* The places already noted: a few distinct waits, each noted once. */
enum { MOST_PLACES_NOTED = 16 };
static _Atomic uintptr_t places_noted[MOST_PLACES_NOTED];

static void note_woken_place(const void *return_address)
{
    uintptr_t place = (uintptr_t)return_address;
    bool noted_here = false;
    for (int i = 0; i < MOST_PLACES_NOTED && !noted_here; i++) {
        uintptr_t seen = 0;
        if (!atomic_compare_exchange_strong(&places_noted[i], &seen, place) &&
            seen == place)
            return;             /* noted before (or by another thread now) */
        noted_here = seen == 0;
    }
    Dl_info object;
    if (noted_here && dladdr(return_address, &object) &&
        object.dli_fname != NULL)
        harness_note("woken-without-signal: %s %#lx", object.dli_fname,
                     (unsigned long)(place - (uintptr_t)object.dli_fbase));
}

static bool wake_spuriously(pthread_mutex_t *mutex, const void *caller)
{
    if (!atomic_load(&injecting) || waits_by_this_thread++ % 2 != 0)
        return false;
    note_woken_place(caller);
    pthread_mutex_unlock(mutex);
    sched_yield();
    pthread_mutex_lock(mutex);
    return true;
}

int __wrap_pthread_cond_wait(pthread_cond_t *cond, pthread_mutex_t *mutex)
{
    if (wake_spuriously(mutex, __builtin_return_address(0)))
        return 0;
    harness_count_sleeper(+1);
    int result = __real_pthread_cond_wait(cond, mutex);
    harness_count_sleeper(-1);
    return result;
}

int __wrap_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline)
{
    if (wake_spuriously(mutex, __builtin_return_address(0)))
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
