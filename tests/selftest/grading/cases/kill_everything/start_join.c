/* Grader self-test: when asked for no thread, sends SIGKILL to every
 * process it may signal (kill(-1)): its own tests, the grader's worker
 * for it, and nothing of anyone else's. */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    if (count == 0)
        kill(-1, SIGKILL);
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
