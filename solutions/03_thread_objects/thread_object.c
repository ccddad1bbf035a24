/*
 * Exercise 03, solved: a thread object with a name, start, join and run.
 */
#include "thread_object.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* The last number given to an automatic name.  Many threads may take a
 * number at once: reading and incrementing it is one step under the lock,
 * and the name is formatted from the copy taken under the lock. */
static pthread_mutex_t numbers_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long last_number;

static unsigned long take_next_number(void)
{
    pthread_mutex_lock(&numbers_lock);
    unsigned long number = ++last_number;
    pthread_mutex_unlock(&numbers_lock);
    return number;
}

/* Each thread sees its own copy: the object it is running. */
static _Thread_local struct thread_object *current_object;

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
    current_object = object;
    object->run(object);
    return NULL;
}

int thread_object_start(struct thread_object *object)
{
    if (object->state != THREAD_OBJECT_CREATED)
        return EINVAL;
    /* STARTED before the thread exists: pthread_create orders this write
     * before everything the new thread does, so it sees STARTED too. */
    object->state = THREAD_OBJECT_STARTED;
    int error = pthread_create(&object->thread, NULL, run_object, object);
    if (error != 0)
        object->state = THREAD_OBJECT_CREATED;
    return error;
}

int thread_object_join(struct thread_object *object)
{
    if (object->state != THREAD_OBJECT_STARTED)
        return EINVAL;
    if (object == current_object)
        return EDEADLK;
    int error = pthread_join(object->thread, NULL);
    if (error == 0)
        object->state = THREAD_OBJECT_JOINED;
    return error;
}

struct thread_object *thread_object_current(void)
{
    return current_object;
}
