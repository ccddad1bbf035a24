/*
 * Workload for exercise 04, for ThreadSanitizer and helgrind.
 * 1. Many rounds of short tasks that each write their own result slot
 *    without a lock; main reads the slots after run_blocking_tasks returns.
 *    That is safe only if every thread was joined.
 * 2. The tutorial's measurement: three waits of 0.3 s overlap.  Valgrind
 *    runs one thread at a time, but a sleeping thread is not running, so the
 *    waits overlap there too (measured: about 0.31 s under helgrind).
 */
#include "io_bound.h"
#include "workload.h"

#include "clock.h"

#define TASKS 6

struct slot {
    int input;
    long output;
};

static void square_after_a_wait(void *raw)
{
    struct slot *slot = raw;
    blocking_wait(0.0005);
    slot->output = (long)slot->input * slot->input;
}

static void check_results_after_join(int rounds)
{
    struct slot slots[TASKS];
    struct blocking_task tasks[TASKS];
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < TASKS; i++) {
            slots[i] = (struct slot){round + i, -1};
            tasks[i] = (struct blocking_task){square_after_a_wait, &slots[i]};
        }
        int error = run_blocking_tasks(tasks, TASKS, NULL);
        workload_check(error == 0, "run_blocking_tasks failed with %d", error);
        for (int i = 0; i < TASKS; i++) /* no lock: all threads joined */
            workload_check(slots[i].output == (long)(round + i) * (round + i),
                           "round %d, task %d: result %ld, expected %ld",
                           round, i, slots[i].output,
                           (long)(round + i) * (round + i));
    }
}

static void wait_for_seconds(void *seconds)
{
    blocking_wait(*(const double *)seconds);
}

static void check_waits_overlap(void)
{
    double seconds = 0.3;
    struct blocking_task tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = (struct blocking_task){wait_for_seconds, &seconds};
    double elapsed = -1.0;
    int error = run_blocking_tasks(tasks, 3, &elapsed);
    workload_check(error == 0, "run_blocking_tasks failed with %d", error);
    /* One after another: 0.9 s.  Overlapped: about 0.3 s. */
    workload_check(elapsed >= 0.295 && elapsed < 0.75,
                   "3 waits of 0.3 s took %.1f s (expected about 0.3 s: "
                   "the waits should overlap)", elapsed);
}

int main(void)
{
    check_results_after_join(workload_rounds(150, 40));
    check_waits_overlap();
    workload_finished();
    return 0;
}
