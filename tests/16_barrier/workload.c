/*
 * Workload for exercise 16, for ThreadSanitizer and helgrind: eight threads
 * meet at one barrier round after round.  Before round r each thread
 * writes r into its own slot of a two-round table (plain memory, no lock);
 * after the round it reads every thread's slot: only a barrier that really
 * orders the rounds makes those reads race-free and all equal to r.  Each
 * round must have exactly one serial thread.  Any field of the barrier
 * touched outside its mutex is a data race the checkers report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   barrier_wait x barrier_wait, the same round
 *                          the 8-thread part, every round; works_for_ten_
 *                          thousand_rounds_in_a_row (4 threads); waits_for_
 *                          the_last_thread_then_wakes_all (3 asleep, then
 *                          the last)
 *                x barrier_wait, the next round, while a waiter of the
 *                  round before has not woken yet
 *                          woken_thread_leaves_although_the_next_round_
 *                          began (the waiter paused by the test, every
 *                          run); the 8-thread part and works_for_ten_
 *                          thousand_rounds_in_a_row (by chance)
 *                x barrier_wait on another barrier: nothing shared (each
 *                  barrier's state is its own)   no test
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   count 0: EINVAL                    count_of_one_never_waits
 *   a pthread init fails: its error, nothing left to destroy
 *                                      no test
 *   count 1: BARRIER_SERIAL_THREAD from every call
 *                                      count_of_one_never_waits; the
 *                                      barrier-of-one part
 *   nobody returns before the last arrives (a spurious wake-up injected)
 *                                      waits_for_the_last_thread_then_
 *                                      wakes_all, waiting_thread_sleeps_
 *                                      instead_of_spinning
 *   exactly one BARRIER_SERIAL_THREAD a round, 0 in the others
 *                                      waits_for_the_last_thread_then_
 *                                      wakes_all; the serial thread alone
 *                                      (others not checked for 0):
 *                                      woken_thread_leaves_although_the_
 *                                      next_round_began, works_for_ten_
 *                                      thousand_rounds_in_a_row, the
 *                                      8-thread part
 *   ready for the next round at once   woken_thread_leaves_although_the_
 *                                      next_round_began
 *   a waiting thread sleeps, uses no CPU
 *                                      waiting_thread_sleeps_instead_of_
 *                                      spinning (CPU time); every test that
 *                                      counts the threads asleep
 *   rounds in order: nobody leaves before all entered, nobody two rounds
 *   ahead                              works_for_ten_thousand_rounds_in_a_
 *                                      row; the 8-thread part (slots read
 *                                      after each round)
 */
#include "barrier.h"
#include "workload.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

enum { THREADS = 8 };

static struct barrier barrier;
static long rounds;
static long slots[2][THREADS];   /* slots[r % 2][t]: the round t is in */
static bool *serial[THREADS];    /* serial[t][r]: t was round r's serial */
static long wrong_round[THREADS]; /* first round t saw a slot wrong, + 1 */
static long wrong_value[THREADS];

/* The threads say when they are done, so that main can give up on a run
 * that is stuck instead of hanging until the runner's time limit. */
static pthread_mutex_t done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond;
static int threads_done;

static void *meet(void *raw)
{
    int self = (int)(intptr_t)raw;
    for (long round = 0; round < rounds; round++) {
        slots[round % 2][self] = round;
        serial[self][round] = barrier_wait(&barrier) == BARRIER_SERIAL_THREAD;
        for (int other = 0; other < THREADS; other++) {
            long seen = slots[round % 2][other];
            if (seen != round && wrong_round[self] == 0) {
                wrong_round[self] = round + 1;
                wrong_value[self] = seen;
            }
        }
    }
    pthread_mutex_lock(&done_mutex);
    threads_done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_mutex);
    return NULL;
}

/* Waits until every thread is done; false after `seconds`. */
static bool wait_until_done(double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds;
    bool all_done = true;
    pthread_mutex_lock(&done_mutex);
    while (threads_done < THREADS && all_done)
        all_done = pthread_cond_timedwait(&done_cond, &done_mutex,
                                          &deadline) != ETIMEDOUT ||
                   threads_done == THREADS;
    pthread_mutex_unlock(&done_mutex);
    return all_done;
}

int main(void)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&done_cond, &attributes);
    pthread_condattr_destroy(&attributes);

    rounds = workload_rounds(10000, 300);
    int error = barrier_init(&barrier, THREADS);
    workload_check(error == 0, "barrier_init(%d) failed with %d", THREADS,
                   error);
    for (int t = 0; t < THREADS; t++) {
        serial[t] = calloc((size_t)rounds, sizeof *serial[t]);
        workload_check(serial[t] != NULL, "out of memory");
    }
    pthread_t threads[THREADS];
    for (int t = 0; t < THREADS; t++)
        pthread_create(&threads[t], NULL, meet, (void *)(intptr_t)t);
    /* Native runs take well under a second; valgrind is slower.  Threads
     * left stuck are detached, so that the report is this message and not
     * ThreadSanitizer's "thread leak" at exit. */
    bool done = wait_until_done(workload_under_valgrind() ? 100 : 10);
    for (int t = 0; t < THREADS && !done; t++)
        pthread_detach(threads[t]);
    workload_check(done, "the threads were still at the barrier long after they "
                   "should have finished %ld rounds: a deadlock or a lost "
                   "wake-up", rounds);
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    barrier_destroy(&barrier);

    for (int t = 0; t < THREADS; t++)
        workload_check(wrong_round[t] == 0, "a thread left round %ld while "
                       "another thread's slot said round %ld: the barrier let "
                       "it through before everybody had arrived",
                       wrong_round[t] - 1, wrong_value[t]);
    for (long r = 0; r < rounds; r++) {
        int count = 0;
        for (int t = 0; t < THREADS; t++)
            count += serial[t][r];
        workload_check(count == 1, "round %ld: %d threads got "
                       "BARRIER_SERIAL_THREAD, expected exactly 1", r, count);
    }
    for (int t = 0; t < THREADS; t++)
        free(serial[t]);

    /* A barrier of one: every call is its round's serial thread. */
    error = barrier_init(&barrier, 1);
    workload_check(error == 0, "barrier_init(1) failed with %d", error);
    for (int i = 0; i < 3; i++)
        workload_check(barrier_wait(&barrier) == BARRIER_SERIAL_THREAD,
                       "call %d on a barrier of 1 thread did not return "
                       "BARRIER_SERIAL_THREAD", i + 1);
    barrier_destroy(&barrier);
    workload_finished();
    return 0;
}
