/* Grader self-test: locks a mutex it already holds when asked for 8 threads */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    if (count == 8) {
        pthread_mutex_lock(&held);
        pthread_mutex_lock(&held);
    }
    pthread_t *threads = malloc((count ? count : 1) * sizeof *threads);
    if (threads == NULL)
        return ENOMEM;
    size_t started = 0;
    int error = 0;
    while (started < count) {
        error = pthread_create(&threads[started], NULL, task, argument);
        if (error != 0)
            break;
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    return error;
}
