/*
 * Workload for exercise 13, for ThreadSanitizer and helgrind: two threads
 * call parallel_sum at the same time, over and over, with 1 to 6 threads
 * and counts that often do not divide evenly.  Every partial sum must be
 * added to the total under a lock, and the total read only after every
 * thread was joined; the totals must be exact.
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
