/*
 * Exercise 02, solved: one argument per thread, one result per thread,
 * handed back through pthread_join.
 */
#include "args_results.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define MESSAGE_FORMAT "Done sleeping %ld ms"

char *do_something(long milliseconds)
{
    if (milliseconds > 0) {
        struct timespec pause = {milliseconds / 1000,
                                 milliseconds % 1000 * 1000000L};
        while (nanosleep(&pause, &pause) == -1 && errno == EINTR)
            continue;
    }
    /* The message must outlive this call and this thread: it goes on the
     * heap, and whoever ends up with it frees it. */
    int length = snprintf(NULL, 0, MESSAGE_FORMAT, milliseconds);
    char *message = malloc((size_t)length + 1);
    if (message != NULL)
        snprintf(message, (size_t)length + 1, MESSAGE_FORMAT, milliseconds);
    return message;
}

/* One thread's argument.  Each thread has its own, and it must stay valid
 * until that thread has been joined. */
struct job_call {
    job_function *job;
    long input;
};

static void *run_job(void *argument)
{
    const struct job_call *call = argument;
    return call->job(call->input); /* pthread_join hands this to the joiner */
}

int run_jobs(job_function *job, const long *inputs, size_t count,
             char **results)
{
    for (size_t i = 0; i < count; i++)
        results[i] = NULL;
    if (count == 0)
        return 0;
    pthread_t *threads = malloc(count * sizeof *threads);
    struct job_call *calls = malloc(count * sizeof *calls);
    if (threads == NULL || calls == NULL) {
        free(threads);
        free(calls);
        return ENOMEM;
    }

    size_t started = 0;
    int error = 0;
    while (started < count) {
        calls[started] = (struct job_call){job, inputs[started]};
        error = pthread_create(&threads[started], NULL, run_job,
                               &calls[started]);
        if (error != 0)
            break;
        started++;
    }

    /* Joining thread i in slot i keeps the results in input order, whatever
     * order the threads finish in. */
    for (size_t i = 0; i < started; i++) {
        void *result;
        pthread_join(threads[i], &result);
        results[i] = result;
    }
    free(calls); /* only now: a thread may read its call until it ends */
    free(threads);
    return error;
}
