/*
 * Exercise 02: give every thread its own argument, and collect its result.
 * Read README.md in this folder, then fix the TODOs.
 */
#include "args_results.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

char *do_something(long milliseconds)
{
    if (milliseconds > 0) {
        struct timespec pause = {milliseconds / 1000,
                                 milliseconds % 1000 * 1000000L};
        while (nanosleep(&pause, &pause) == -1 && errno == EINTR)
            continue;
    }
    /* TODO: return a new string "Done sleeping N ms" (N = milliseconds)
     * that outlives this call: the caller will free() it. */
    return NULL;
}

/* What a thread needs to run its job. */
struct job_call {
    job_function *job;
    long input;
};

static void *run_job(void *argument)
{
    const struct job_call *call = argument;
    call->job(call->input);
    /* TODO: the job's result is thrown away here.  Whatever this function
     * returns, pthread_join hands to the thread that joins it. */
    return NULL;
}

int run_jobs(job_function *job, const long *inputs, size_t count,
             char **results)
{
    if (count == 0)
        return 0;
    pthread_t *threads = malloc(count * sizeof *threads);
    if (threads == NULL)
        return ENOMEM;

    size_t started = 0;
    int error = 0;
    while (started < count) {
        /* TODO: every thread gets the address of this one variable, and the
         * next turn of the loop overwrites it, perhaps before the thread
         * has read it.  Give each thread its own struct job_call that
         * stays valid until the thread is joined. */
        struct job_call call = {job, inputs[started]};
        error = pthread_create(&threads[started], NULL, run_job, &call);
        if (error != 0)
            break;
        started++;
    }

    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    /* TODO: store each thread's result in results[i], in input order, and
     * make the results of jobs that never ran NULL. */
    (void)results;
    free(threads);
    return error;
}
