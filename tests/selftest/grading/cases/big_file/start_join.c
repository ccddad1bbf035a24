/* Grader self-test: writes a 200 MiB file when asked for no thread */
#include "start_join.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    if (count == 0) {
        static char block[1 << 20];
        memset(block, 'x', sizeof block);
        FILE *file = fopen("big.out", "w");
        for (int i = 0; file != NULL && i < 200; i++)
            fwrite(block, 1, sizeof block, file);
        if (file != NULL)
            fclose(file);
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
