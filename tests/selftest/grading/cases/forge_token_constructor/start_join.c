/*
 * Exercise 01: start every thread first, then join them all.
 * Read README.md in this folder, then fix the TODOs.
 */
#include "start_join.h"

#include <pthread.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    for (size_t i = 0; i < count; i++) {
        pthread_t thread;
        int error = pthread_create(&thread, NULL, task, argument);
        if (error != 0)
            return error; /* TODO: first wait for the threads already started. */
    }
    /* TODO: the threads are still running here, and nobody waits for them:
     * keep every pthread_t, and join each thread before returning. */
    return 0;
}

/* Grader self-test: a constructor, run before main in every workload, that
 * prints the workload's end line with the token from the environment and
 * ends the program with status 0 before any thread ran. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((constructor)) static void forge_finished_line(void)
{
    const char *token = getenv("THREADLINGS_TOKEN");
    if (!token)
        return;
    printf("threadlings: workload finished %s\n", token);
    fflush(stdout);
    exit(0);
}
