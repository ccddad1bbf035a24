/* Grader self-test: every thread it starts calls exit(0) */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

static void *exit_instead(void *unused)
{
    (void)unused;
    exit(0);
}

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    (void)task;
    pthread_t *threads = malloc((count ? count : 1) * sizeof *threads);
    if (threads == NULL)
        return ENOMEM;
    size_t started = 0;
    int error = 0;
    while (started < count) {
        error = pthread_create(&threads[started], NULL, exit_instead, argument);
        if (error != 0)
            break;
        started++;
    }
    for (size_t i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    free(threads);
    return error;
}
