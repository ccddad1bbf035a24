/*
 * pthread_create, wrapped for tests.
 *  - Fault injection: pthread_create can fail (EAGAIN when the system is
 *    out of threads).  A test arms one call to fail and checks that the code
 *    reports the error and leaves no thread behind.
 *  - Creation order: each thread learns the number of the pthread_create
 *    call that made it, so a test can hold exactly the first (or last)
 *    thread the code created and check that it is joined.
 *  - Held starts: new threads can be held before they run a single line of
 *    their start function until the creator has made n threads, so that
 *    code which passes every thread the address of its loop variable reads
 *    the variable after the loop moved on, on every run, not by luck.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>

/* The harness's own unlock: a test that holds threads after an unlock
 * (interleavings.h) must not hold a new thread here, before its start. */
int __real_pthread_mutex_unlock(pthread_mutex_t *mutex);
int __real_pthread_mutex_lock(pthread_mutex_t *mutex);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument);

static atomic_int calls;
static atomic_int failing_call = -1;
static _Thread_local int creation_number = -1;

static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static int hold_until_calls = -1;   /* -1: nobody is held */
static double hold_give_up;        /* now_seconds() deadline */

/* Polls: the count it waits for changes outside any lock. */
static void wait_while_held(void)
{
    __real_pthread_mutex_lock(&hold_mutex);
    while (hold_until_calls >= 0 && atomic_load(&calls) < hold_until_calls &&
           now_seconds() < hold_give_up) {
        __real_pthread_mutex_unlock(&hold_mutex);
        sleep_seconds(0.001);
        __real_pthread_mutex_lock(&hold_mutex);
    }
    __real_pthread_mutex_unlock(&hold_mutex);
}

struct numbered_start {
    void *(*start)(void *);
    void *argument;
    int number;
};

static void *start_numbered(void *raw)
{
    struct numbered_start numbered = *(struct numbered_start *)raw;
    free(raw);
    creation_number = numbered.number;
    wait_while_held();
    return numbered.start(numbered.argument);
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument)
{
    int call = atomic_fetch_add(&calls, 1);
    if (call == atomic_load(&failing_call))
        return EAGAIN;
    struct numbered_start *numbered = malloc(sizeof *numbered);
    if (!numbered)
        return EAGAIN;
    *numbered = (struct numbered_start){start, argument, call};
    int error = __real_pthread_create(thread, attributes, start_numbered,
                                      numbered);
    if (error)
        free(numbered);
    return error;
}

void harness_fail_pthread_create_after(int successes)
{
    atomic_store(&failing_call,
                 successes < 0 ? -1 : atomic_load(&calls) + successes);
}

int harness_pthread_create_calls(void) { return atomic_load(&calls); }

int harness_creation_number(void) { return creation_number; }

void harness_hold_new_threads(int created, double seconds)
{
    pthread_mutex_lock(&hold_mutex);
    hold_until_calls = created < 0 ? -1 : atomic_load(&calls) + created;
    hold_give_up = now_seconds() + seconds;
    pthread_mutex_unlock(&hold_mutex);
}
