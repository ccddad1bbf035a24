/* Grader self-test: writes through a null pointer when asked for no thread */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    if (count == 0)
        *(volatile int *)0 = 1;
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
