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

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

enum { THREADS = 8 };

static struct barrier barrier;
static long rounds;
static long slots[2][THREADS];   /* slots[r % 2][t]: the round t is in */
static bool *serial[THREADS];    /* serial[t][r]: t was round r's serial */
static long wrong_round[THREADS]; /* first round t saw a slot wrong, + 1 */
static long wrong_value[THREADS];

/* The threads count their passages through the barrier and say when they
 * are done, so that main can give up on a run that is stuck instead of
 * hanging until the runner's time limit.  Relaxed: the counts must not
 * order the threads' other accesses, or ThreadSanitizer would miss a race
 * that the barrier itself lets through. */
static atomic_long passages;
static atomic_int threads_done;

static void *meet(void *raw)
{
    int self = (int)(intptr_t)raw;
    for (long round = 0; round < rounds; round++) {
        slots[round % 2][self] = round;
        serial[self][round] = barrier_wait(&barrier) == BARRIER_SERIAL_THREAD;
        atomic_fetch_add_explicit(&passages, 1, memory_order_relaxed);
        for (int other = 0; other < THREADS; other++) {
            long seen = slots[round % 2][other];
            if (seen != round && wrong_round[self] == 0) {
                wrong_round[self] = round + 1;
                wrong_value[self] = seen;
            }
        }
    }
    atomic_fetch_add_explicit(&threads_done, 1, memory_order_relaxed);
    return NULL;
}

/* Waits until every thread is done; false once `quiet_seconds` have passed
 * in which no thread got through the barrier (a bound on progress, not on
 * the whole run: a slow machine still passes, a stuck run ends soon). */
static bool wait_until_done(double quiet_seconds)
{
    long seen = atomic_load_explicit(&passages, memory_order_relaxed);
    double last_progress = now_seconds();
    while (atomic_load_explicit(&threads_done, memory_order_relaxed) < THREADS) {
        if (now_seconds() - last_progress > quiet_seconds)
            return false;
        sleep_seconds(0.01);
        long now = atomic_load_explicit(&passages, memory_order_relaxed);
        if (now != seen) {
            seen = now;
            last_progress = now_seconds();
        }
    }
    return true;
}

int main(void)
{
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
    /* A round takes microseconds natively and milliseconds under valgrind:
     * seconds without one are a stuck run.  Threads left stuck are
     * detached, so that the report is this message and not
     * ThreadSanitizer's "thread leak" at exit. */
    double quiet_seconds = workload_under_valgrind() ? 10 : 3;
    bool done = wait_until_done(quiet_seconds);
    for (int t = 0; t < THREADS && !done; t++)
        pthread_detach(threads[t]);
    workload_check(done, "no thread got through the barrier for %.0f s, after "
                   "%ld of %ld passages: a deadlock, a lost wake-up or a "
                   "thread that busy-waits instead of sleeping", quiet_seconds,
                   atomic_load(&passages), rounds * THREADS);
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
