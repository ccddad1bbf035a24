/*
 * Workload for exercise 13, for ThreadSanitizer and helgrind: two threads
 * call parallel_sum at the same time, over and over, with 1 to 6 threads
 * and counts that often do not divide evenly.  Every partial sum must be
 * added to the total under a lock, and the total read only after every
 * thread was joined; the totals must be exact.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   sum_chunk     x nothing shared: each call only reads its own chunk;
 *                   calls at the same time: both callers, every round;
 *                   computes_the_chunks_at_the_same_time (4 at once)
 *   parallel_sum  its threads x each other, adding partials to the total
 *                   both callers, 1 to 6 threads a call; exact totals:
 *                   sums_every_value_exactly, sums_every_value_when_the_
 *                   count_does_not_divide (functional only)
 *                 its threads x each other, computing (no lock held)
 *                   computes_the_chunks_at_the_same_time (each chunk
 *                   waits until all 4 are inside)
 *                 its start loop x the threads reading their chunk records
 *                   gives_each_thread_its_own_equal_chunk (new threads
 *                   held until all are created)
 *                 the total read x its threads' additions
 *                   both callers (a read before the join races)
 *                 x parallel_sum in another thread (nothing shared: the
 *                   total and its lock belong to one call)
 *                   the two callers, every round
 *                 x its started threads, after a failed start
 *                   failed_start_is_reported_after_joining_the_others
 * Error paths and edges (*total unchanged on every error):
 *   thread_count 0: EINVAL             zero_threads_is_an_error
 *   an allocation fails: ENOMEM        no test
 *   pthread_create fails (3rd of 4): EAGAIN after joining the 2 started,
 *   no more starts, no thread left     failed_start_is_reported_after_
 *                                      joining_the_others
 *   every thread joined before a successful return
 *                                      no test (only the failed start
 *                                      counts the threads left)
 *   count 0                            empty_input_sums_to_zero
 *   count < thread_count: empty chunks, still one call each
 *                                      gives_each_thread_its_own_equal_
 *                                      chunk (3 in 5); sums_every_value_
 *                                      when_the_count_does_not_divide
 *   consecutive chunks, sizes within one, each value in one chunk, one
 *   call per thread                    gives_each_thread_its_own_equal_
 *                                      chunk
 *   counts that do not divide          sums_every_value_when_the_count_
 *                                      does_not_divide; both callers
 */
#include "parallel_sum.h"
#include "workload.h"

#include <pthread.h>

#define MOST_VALUES 500

struct caller {
    pthread_t thread;
    int64_t values[MOST_VALUES];
    int rounds;
};

static void *call_repeatedly(void *raw)
{
    struct caller *self = raw;
    for (int round = 0; round < self->rounds; round++) {
        size_t count = 1 + (size_t)(round * 37) % MOST_VALUES;
        size_t threads = 1 + (size_t)round % 6;
        int64_t expected = 0;
        for (size_t i = 0; i < count; i++)
            expected += self->values[i];
        int64_t total = 0;
        int error = parallel_sum(self->values, count, threads, sum_chunk,
                                 NULL, &total);
        workload_check(error == 0, "parallel_sum returned %d", error);
        /* The wrong total itself is left out: it differs from run to
         * run, and the reason should not. */
        workload_check(total == expected, "parallel_sum of %zu values in %zu "
                       "threads gave a wrong total (were partial sums added "
                       "without the lock, or read before the join?)", count,
                       threads);
    }
    return NULL;
}

int main(void)
{
    static struct caller callers[2];
    const int rounds = workload_rounds(250, 25);
    for (int c = 0; c < 2; c++) {
        callers[c].rounds = rounds;
        for (int i = 0; i < MOST_VALUES; i++)
            callers[c].values[i] = (int64_t)(i * 7919 % 1000) * 1000000007 -
                                   (int64_t)c * 500000000000;
    }
    for (int c = 0; c < 2; c++) {
        int error = pthread_create(&callers[c].thread, NULL, call_repeatedly,
                                   &callers[c]);
        workload_check(error == 0, "pthread_create returned %d", error);
    }
    for (int c = 0; c < 2; c++)
        pthread_join(callers[c].thread, NULL);
    workload_finished();
    return 0;
}
