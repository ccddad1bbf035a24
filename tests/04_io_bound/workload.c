/*
 * Workload for exercise 04, for ThreadSanitizer and helgrind.
 * 1. Many rounds of short tasks that each write their own result slot
 *    without a lock; main reads the slots after run_blocking_tasks returns.
 *    That is safe only if every thread was joined.
 * 2. The tutorial's measurement: three waits of 0.3 s overlap.  Valgrind
 *    runs one thread at a time, but a sleeping thread is not running, so the
 *    waits overlap there too (measured: about 0.31 s under helgrind).
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   blocking_wait       x nothing shared: each call's state is its own
 *                         (a static timespec would race)   parts 1 (6 at
 *                         once) and 2 (3 at once); tests three_half_second_
 *                         waits_take_about_half_a_second, reports_the_wall_
 *                         clock_time_of_the_whole_run
 *   run_blocking_tasks  x nothing shared: each call's state (its thread
 *                         array) is its own; tasks[] is the caller's
 *     its threads reading tasks[i] x the start loop moving on
 *                         test runs_each_task_once_with_its_own_argument
 *                         (new threads held until all six exist)
 *     its tasks x each other   test runs_all_tasks_at_the_same_time (five
 *                         wait for each other); parts 1 and 2
 *     its tasks' writes x the caller's reads after the return
 *                         part 1 (slots read without a lock); test returns_
 *                         only_after_every_task_finished (4 held at a gate)
 *     run_blocking_tasks x run_blocking_tasks in another thread   no test
 * Error paths and edges:
 *   pthread_create fails (3rd of 5): EAGAIN, after the 2 started finish;
 *     no start after it, the later tasks do not run
 *                                    failed_start_is_reported_after_the_
 *                                    started_tasks_finish
 *   pthread_create fails on the first task (none started)   no test
 *   count 0 (tasks NULL): returns 0, elapsed a little over 0
 *                                    zero_tasks_run_nothing
 *   elapsed_seconds NULL             zero_tasks_run_nothing, runs_each_
 *                                    task_once_with_its_own_argument; part 1
 *   elapsed: wall clock, first start to last finish
 *                                    reports_the_wall_clock_time_of_the_
 *                                    whole_run, three_half_second_waits_
 *                                    take_about_half_a_second; part 2
 *   blocking_wait: no CPU while it waits
 *                                    blocking_wait_sleeps_without_using_
 *                                    the_cpu
 *   blocking_wait: fractions and whole seconds (0.1, 1.0)
 *                                    blocking_wait_handles_fractions_and_
 *                                    whole_seconds
 *   blocking_wait(1.5): whole seconds and a fraction   no test
 *   blocking_wait(0)                 no test
 *   blocking_wait: a signal does not shorten it
 *                                    blocking_wait_sleeps_on_after_a_signal
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
