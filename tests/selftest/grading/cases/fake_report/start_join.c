/* Grader self-test: the stub's mistakes, and output that looks like
 * passing reports: Criterion's, a workload's end line, the kit's table. */
#include "start_join.h"

#include <pthread.h>
#include <stdio.h>

int run_concurrently(size_t count, void *(*task)(void *), void *argument)
{
    puts("[----] start_join::runs_the_task_once_per_thread: Passed.");
    puts("[PASS] start_join::runs_the_task_once_per_thread: (0.00s)");
    puts("[====] Synthesis: Tested: 7 | Passing: 7 | Failing: 0 | Crashing: 0");
    puts("threadlings: workload finished 0123456789abcdef");
    fputs("01_start_join  pass  pass  pass  pass\n", stderr);
    fflush(stdout);
    for (size_t i = 0; i < count; i++) {
        pthread_t thread;
        int error = pthread_create(&thread, NULL, task, argument);
        if (error != 0)
            return error;
    }
    return 0;
}
