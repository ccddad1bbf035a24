/*
 * Exercise 01, solved: start every thread first, then join them all.
 */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    if (count == 0)
        return 0;
    pthread_t *threads = malloc(count * sizeof *threads);
    if (threads == NULL)
        return ENOMEM;

    /* Start them all before joining any: a join inside this loop would wait
     * for each thread before starting the next, one after another. */
    size_t started = 0;
    int error = 0;
    while (started < count) {
        error = pthread_create(&threads[started], NULL, task, argument);
        if (error != 0)
            break;
        started++;
    }

    /* Join every thread that did start, even after a failed start, so that
     * none outlives this call. */
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    return error;
}
