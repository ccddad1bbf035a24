/*
 * Exercise 04's demonstration, from the student's own run_blocking_tasks
 * and blocking_wait: three tasks that each wait 1 second take 3 s one
 * after another and about 1 s in threads.  The CPU time shows whether the
 * wait sleeps (near 0 s) or spins (a core busy for the whole wait).
 */
#include "bench.h"
#include "io_bound.h"

#include <stdint.h>
#include <string.h>

#define TASKS 3

static void wait_task(void *argument)
{
    blocking_wait(*(const double *)argument);
}

/* The three tasks one after another, as the tutorial's first version. */
static void one_after_another(const struct blocking_task *tasks)
{
    for (size_t i = 0; i < TASKS; i++)
        tasks[i].run(tasks[i].argument);
}

static void measure(const char *series, const struct blocking_task *tasks,
                    int threaded)
{
    double cpu = bench_process_cpu();
    double started = bench_now();
    if (threaded) {
        if (run_blocking_tasks(tasks, TASKS, NULL) != 0)
            bench_fail("run_blocking_tasks failed");
    } else {
        one_after_another(tasks);
    }
    bench_value("io04", series, "wall (s)", bench_now() - started);
    bench_value("io04", series, "CPU (s)", bench_process_cpu() - cpu);
}

int main(int argc, char **argv)
{
    double seconds = 1.0 * bench_scale();
    struct blocking_task tasks[TASKS];
    for (size_t i = 0; i < TASKS; i++)
        tasks[i] = (struct blocking_task){wait_task, &seconds};

    printf("note\tWhat to see: one after another takes 3 s; in threads about "
           "1 s (if it is still 3 s, the tasks do not run in threads yet).\n"
           "note\tCPU near 0 s: the waits sleep; CPU in seconds: they spin "
           "(blocking_wait loops on the clock).\n");
    bench_table("io04", "s", "Three blocking tasks of 1 s each: "
                "one after another vs run_blocking_tasks (your threads)");
    if (bench_round(argc, argv) % 2 == 0) {
        measure("one after another", tasks, 0);
        measure("run_blocking_tasks", tasks, 1);
    } else {
        measure("run_blocking_tasks", tasks, 1);
        measure("one after another", tasks, 0);
    }
    return 0;
}
