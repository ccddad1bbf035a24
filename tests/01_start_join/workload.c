/*
 * Workload for exercise 01, for ThreadSanitizer and helgrind: tasks count
 * under a lock, and main reads the total without one.  That read is safe
 * only if every thread was joined first (a join orders the thread's writes
 * before the joiner's reads); otherwise the checkers see a race.
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
