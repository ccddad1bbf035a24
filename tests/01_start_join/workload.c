/*
 * Workload for exercise 01, for ThreadSanitizer and helgrind: tasks count
 * under a lock, and main reads the total without one.  That read is safe
 * only if every thread was joined first (a join orders the thread's writes
 * before the joiner's reads); otherwise the checkers see a race.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   run_concurrently  x nothing shared: each call's state (its thread
 *                       array) is its own; what the tasks write is the
 *                       caller's
 *     its tasks x each other           test runs_all_threads_at_the_same_
 *                                      time (six wait for each other);
 *                                      main's rounds (4 tasks, one total)
 *     its tasks' writes x the caller's reads after the return
 *                                      main's rounds (total read without a
 *                                      lock); tests returns_only_after_
 *                                      every_task_finished, waits_for_the_
 *                                      first_thread, waits_for_the_last_
 *                                      thread
 *     threads that start late x the start loop
 *                                      test threads_that_start_late_still_
 *                                      run (held until the first join)
 *     run_concurrently x run_concurrently in another thread   no test
 * Error paths and edges:
 *   pthread_create fails (4th of 6): EAGAIN, after joining the 3 started,
 *     and no start after it            failed_start_is_reported_after_
 *                                      joining_the_others
 *   pthread_create fails on the first thread (none started)   no test
 *   count 0: nothing runs, returns 0   zero_threads_run_nothing
 *   task(argument) once per thread     runs_the_task_once_per_thread
 */
#include "start_join.h"
#include "workload.h"

#include <pthread.h>

static pthread_mutex_t total_lock = PTHREAD_MUTEX_INITIALIZER;
static long total;

static void *add_to_total(void *argument)
{
    long increments = *(const long *)argument;
    for (long i = 0; i < increments; i++) {
        pthread_mutex_lock(&total_lock);
        total++;
        pthread_mutex_unlock(&total_lock);
    }
    return NULL;
}

int main(void)
{
    const long increments = 200;
    const int rounds = workload_rounds(50, 5);
    for (int round = 0; round < rounds; round++) {
        long before = total; /* no lock: every thread has been joined */
        int error = run_concurrently(4, add_to_total, (void *)&increments);
        workload_check(error == 0, "run_concurrently failed with %d", error);
        workload_check(total == before + 4 * increments,
                       "round %d: the total grew by %ld, expected %ld",
                       round, total - before, 4 * increments);
    }
    workload_finished();
    return 0;
}
