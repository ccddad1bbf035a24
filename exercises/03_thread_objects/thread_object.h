/*
 * Exercise 03: a thread object with a name, a run function, start and join
 * (in the manner of a Thread class with a run method).
 */
#ifndef THREAD_OBJECT_H
#define THREAD_OBJECT_H

#include <pthread.h>

#define THREAD_OBJECT_NAME_SIZE 32

/* Where an object is in its life: each step happens once, in this order. */
enum thread_object_state {
    THREAD_OBJECT_CREATED, /* initialised, not started */
    THREAD_OBJECT_STARTED, /* its thread was created (it may have finished) */
    THREAD_OBJECT_JOINED,  /* its thread has ended and was joined */
};

struct thread_object {
    char name[THREAD_OBJECT_NAME_SIZE];
    void (*run)(struct thread_object *self); /* what the thread does */
    void *context;                           /* for run; never touched */
    pthread_t thread;                        /* valid once started */
    enum thread_object_state state;
};

/*
 * Initialises `object` in the CREATED state.  `name` is copied (cut to
 * THREAD_OBJECT_NAME_SIZE - 1 characters); NULL gives an automatic name
 * "Thread-N", where N counts the automatic names of the whole process:
 * 1, 2, 3, ..., each number given once, even when many threads initialise
 * objects at the same time.
 * Returns 0, or EINVAL if `object` or `run` is NULL.
 */
int thread_object_init(struct thread_object *object, const char *name,
                       void (*run)(struct thread_object *self),
                       void *context);

/*
 * Starts a new thread that calls object->run(object).
 * Returns 0 and moves the object to STARTED; EINVAL if the object is not
 * CREATED (an object runs at most once); or the error pthread_create gave
 * (for example EAGAIN), in which case the object stays CREATED and may be
 * started again.
 */
int thread_object_start(struct thread_object *object);

/*
 * Waits until the object's thread has ended.
 * Returns 0 and moves the object to JOINED; EINVAL if it was never started
 * or was already joined; EDEADLK if called from the object's own thread
 * (it would wait for itself forever).
 */
int thread_object_join(struct thread_object *object);

/*
 * The object whose run function the calling thread is running, or NULL on
 * a thread that no thread_object started (main, for example).
 */
struct thread_object *thread_object_current(void);

/*
 * Start and join of one object are called by one thread at a time (usually
 * the one that initialised it).  Different objects may be used from
 * different threads at the same time.
 */

#endif
