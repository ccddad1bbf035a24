/*
 * Deterministic probes for tests: a gate, a peak-concurrency probe and a
 * call run in its own thread.  Every wait here has a deadline, so a wrong
 * solution makes a test fail with a message instead of hanging it.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <time.h>

int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument);

/* Condition variables here time out on the monotonic clock, so that a
 * change of the wall clock cannot stretch or cut a test's deadline. */
static void monotonic_cond_init(pthread_cond_t *cond)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(cond, &attributes);
    pthread_condattr_destroy(&attributes);
}

static struct timespec deadline_after(double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    long nanoseconds = (long)(seconds * 1e9);
    deadline.tv_sec += nanoseconds / 1000000000L;
    deadline.tv_nsec += nanoseconds % 1000000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

/* Waits on `cond` until *flag is true or the deadline passes. */
static bool wait_until_true(pthread_cond_t *cond, pthread_mutex_t *mutex,
                            const bool *flag, const struct timespec *deadline)
{
    while (!*flag)
        if (pthread_cond_timedwait(cond, mutex, deadline) != 0 && !*flag)
            return false;
    return true;
}

void gate_init(struct gate *gate)
{
    pthread_mutex_init(&gate->mutex, NULL);
    monotonic_cond_init(&gate->opened_cond);
    gate->is_open = false;
}

void gate_open(struct gate *gate)
{
    pthread_mutex_lock(&gate->mutex);
    gate->is_open = true;
    pthread_cond_broadcast(&gate->opened_cond);
    pthread_mutex_unlock(&gate->mutex);
}

bool gate_wait(struct gate *gate, double seconds)
{
    struct timespec deadline = deadline_after(seconds);
    pthread_mutex_lock(&gate->mutex);
    bool opened = wait_until_true(&gate->opened_cond, &gate->mutex,
                                  &gate->is_open, &deadline);
    pthread_mutex_unlock(&gate->mutex);
    return opened;
}

void gate_destroy(struct gate *gate)
{
    pthread_cond_destroy(&gate->opened_cond);
    pthread_mutex_destroy(&gate->mutex);
}

void probe_init(struct peak_probe *probe)
{
    pthread_mutex_init(&probe->mutex, NULL);
    monotonic_cond_init(&probe->changed_cond);
    probe->inside = probe->peak = probe->entered = 0;
    probe->gave_up = false;
}

static void enter_locked(struct peak_probe *probe)
{
    probe->inside++;
    probe->entered++;
    if (probe->inside > probe->peak)
        probe->peak = probe->inside;
    pthread_cond_broadcast(&probe->changed_cond);
}

void probe_enter(struct peak_probe *probe)
{
    pthread_mutex_lock(&probe->mutex);
    enter_locked(probe);
    pthread_mutex_unlock(&probe->mutex);
}

bool probe_enter_and_wait_for(struct peak_probe *probe, int wanted,
                              double seconds)
{
    struct timespec deadline = deadline_after(seconds);
    pthread_mutex_lock(&probe->mutex);
    enter_locked(probe);
    /* Once one thread has given up, nobody waits again: a solution that
     * runs threads one at a time fails after one timeout, not after n. */
    while (probe->peak < wanted && !probe->gave_up)
        if (pthread_cond_timedwait(&probe->changed_cond, &probe->mutex,
                                   &deadline) != 0 && probe->peak < wanted) {
            probe->gave_up = true;
            pthread_cond_broadcast(&probe->changed_cond);
        }
    bool reached = probe->peak >= wanted;
    pthread_mutex_unlock(&probe->mutex);
    return reached;
}

bool probe_wait_for_entered(struct peak_probe *probe, int wanted,
                            double seconds)
{
    struct timespec deadline = deadline_after(seconds);
    pthread_mutex_lock(&probe->mutex);
    while (probe->entered < wanted)
        if (pthread_cond_timedwait(&probe->changed_cond, &probe->mutex,
                                   &deadline) != 0 && probe->entered < wanted)
            break;
    bool reached = probe->entered >= wanted;
    pthread_mutex_unlock(&probe->mutex);
    return reached;
}

void probe_leave(struct peak_probe *probe)
{
    pthread_mutex_lock(&probe->mutex);
    probe->inside--;
    pthread_cond_broadcast(&probe->changed_cond);
    pthread_mutex_unlock(&probe->mutex);
}

int probe_peak(struct peak_probe *probe)
{
    pthread_mutex_lock(&probe->mutex);
    int peak = probe->peak;
    pthread_mutex_unlock(&probe->mutex);
    return peak;
}

int probe_entered(struct peak_probe *probe)
{
    pthread_mutex_lock(&probe->mutex);
    int entered = probe->entered;
    pthread_mutex_unlock(&probe->mutex);
    return entered;
}

void probe_destroy(struct peak_probe *probe)
{
    pthread_cond_destroy(&probe->changed_cond);
    pthread_mutex_destroy(&probe->mutex);
}

static void *run_async_call(void *argument)
{
    struct async_call *call = argument;
    void *result = call->function(call->argument);
    pthread_mutex_lock(&call->mutex);
    call->result = result;
    call->done = true;
    pthread_cond_broadcast(&call->done_cond);
    pthread_mutex_unlock(&call->mutex);
    return NULL;
}

void async_start(struct async_call *call, void *(*function)(void *),
                 void *argument)
{
    call->function = function;
    call->argument = argument;
    call->result = NULL;
    call->done = call->joined = false;
    pthread_mutex_init(&call->mutex, NULL);
    monotonic_cond_init(&call->done_cond);
    /* The real pthread_create: fault injection is for the code under test. */
    int error = __real_pthread_create(&call->thread, NULL, run_async_call, call);
    cr_assert_eq(error, 0, "test harness could not start a thread (error %d)",
                 error);
}

bool async_wait(struct async_call *call, double seconds)
{
    struct timespec deadline = deadline_after(seconds);
    pthread_mutex_lock(&call->mutex);
    bool done = wait_until_true(&call->done_cond, &call->mutex, &call->done,
                                &deadline);
    pthread_mutex_unlock(&call->mutex);
    return done;
}

bool async_is_done(struct async_call *call) { return async_wait(call, 0); }

bool any_async_call_returned(const void *async_calls)
{
    const struct async_calls *calls = async_calls;
    for (int i = 0; i < calls->count; i++) {
        char *call = (char *)calls->first + (size_t)i * calls->stride;
        if (async_is_done((struct async_call *)call))
            return true;
    }
    return false;
}

void async_finish(struct async_call *call)
{
    if (call->joined || !async_is_done(call))
        return;
    pthread_join(call->thread, NULL);
    call->joined = true;
}
