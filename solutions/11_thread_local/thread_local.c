/*
 * Exercise 11, solved: a counter per thread with _Thread_local, and a
 * context per thread in a pthread key whose destructor releases it.
 */
#include "thread_local.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

/* ---- Part 1: every thread gets its own copy of this variable ---- */

static _Thread_local long counter;

void local_counter_add(long amount) { counter += amount; }

long local_counter_value(void) { return counter; }

/* ---- Part 2: one key, a slot per thread ---- */

/* What a thread's slot points to: the value and how to release it. */
struct context {
    void *value;
    context_release release;
};

static pthread_key_t context_key;
static pthread_once_t context_key_once = PTHREAD_ONCE_INIT;
static int context_key_error;

static void release_context(struct context *context)
{
    if (context->release != NULL)
        context->release(context->value);
    free(context);
}

/* The key's destructor: when a thread ends, pthread calls it with the
 * thread's slot if the slot is not NULL (and sets the slot to NULL first),
 * so every stored context is released once, in its own thread. */
static void release_at_thread_exit(void *context) { release_context(context); }

static void create_context_key(void)
{
    context_key_error = pthread_key_create(&context_key, release_at_thread_exit);
}

/* pthread_once runs create_context_key exactly once in the process; threads
 * that arrive meanwhile wait until it has finished, and every caller sees
 * context_key and context_key_error afterwards. */
static int context_key_ready(void)
{
    pthread_once(&context_key_once, create_context_key);
    return context_key_error;
}

int context_set(void *value, context_release release)
{
    if (value == NULL)
        return EINVAL;
    int error = context_key_ready();
    if (error != 0)
        return error;
    struct context *context = malloc(sizeof *context);
    if (context == NULL)
        return ENOMEM;
    *context = (struct context){value, release};
    struct context *old = pthread_getspecific(context_key);
    error = pthread_setspecific(context_key, context);
    if (error != 0) {
        free(context);
        return error;
    }
    if (old != NULL)
        release_context(old);
    return 0;
}

void *context_get(void)
{
    if (context_key_ready() != 0)
        return NULL;
    struct context *context = pthread_getspecific(context_key);
    return context != NULL ? context->value : NULL;
}
