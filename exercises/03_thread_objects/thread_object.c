/*
 * Exercise 03: a thread object with a name, start, join and a run function.
 * Read README.md in this folder, then fix the TODOs.
 */
#include "thread_object.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The last number given to an automatic name. */
static unsigned long last_number;

static unsigned long take_next_number(void)
{
    /* TODO: several threads may be here at once.  ++ reads the counter,
     * adds one and writes it back: two threads can read the same value and
     * hand out the same number.  Protect it with a mutex. */
    return ++last_number;
}

int thread_object_init(struct thread_object *object, const char *name,
                       void (*run)(struct thread_object *self),
                       void *context)
{
    if (object == NULL || run == NULL)
        return EINVAL;
    if (name != NULL)
        snprintf(object->name, sizeof object->name, "%s", name);
    else
        snprintf(object->name, sizeof object->name, "Thread-%lu",
                 take_next_number());
    object->run = run;
    object->context = context;
    object->state = THREAD_OBJECT_CREATED;
    return 0;
}

static void *run_object(void *argument)
{
    struct thread_object *object = argument;
    /* TODO: remember, for this thread only, which object it runs (for
     * thread_object_current). */
    object->run(object);
    return NULL;
}

int thread_object_start(struct thread_object *object)
{
    /* TODO: only a CREATED object may start (EINVAL otherwise), and an
     * object whose pthread_create failed must stay CREATED. */
    object->state = THREAD_OBJECT_STARTED;
    return pthread_create(&object->thread, NULL, run_object, object);
}

int thread_object_join(struct thread_object *object)
{
    /* TODO: an object that was never started, or is joined already, has no
     * thread to join: EINVAL.  Its own thread must not wait for itself:
     * EDEADLK. */
    int error = pthread_join(object->thread, NULL);
    if (error == 0)
        object->state = THREAD_OBJECT_JOINED;
    return error;
}

struct thread_object *thread_object_current(void)
{
    return NULL; /* TODO: the object the calling thread runs, or NULL. */
}
