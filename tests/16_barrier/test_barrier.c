/* Tests for exercise 16: a reusable barrier. */
#include "harness.h"
#include "barrier.h"
#include "sleepers.h"
#include "freeze.h"

#include <errno.h>
#include <stdatomic.h>

/* The barrier, and every call a test runs in another thread, are static: a
 * thread that a failed test leaves blocked must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct barrier barrier;

static void init_barrier(unsigned count)
{
    int error = barrier_init(&barrier, count);
    cr_assert_eq(error, 0, "barrier_init(%u) returned %d, expected 0", count,
                 error);
}

/* barrier_wait in its own thread; records its result and its CPU time. */
struct call {
    struct async_call async;
    int result;
    double cpu_seconds;
};

static void *run_wait(void *raw)
{
    struct call *call = raw;
    double cpu_before = thread_cpu_seconds();
    call->result = barrier_wait(&barrier);
    call->cpu_seconds = thread_cpu_seconds() - cpu_before;
    return NULL;
}

static void start_wait(struct call *call)
{
    call->result = 1; /* neither 0 nor BARRIER_SERIAL_THREAD */
    call->cpu_seconds = 0;
    async_start(&call->async, run_wait, call);
}

static int count_returned(struct call *calls, int count)
{
    int returned = 0;
    for (int i = 0; i < count; i++)
        returned += async_is_done(&calls[i].async);
    return returned;
}

/* How many of the calls have returned within `seconds` (in all). */
static int wait_for_calls(struct call *calls, int count, double seconds)
{
    double give_up = now_seconds() + seconds;
    int returned = 0;
    for (int i = 0; i < count; i++) {
        double left = give_up - now_seconds();
        returned += async_wait(&calls[i].async, left > 0 ? left : 0);
    }
    return returned;
}

/* Waits (at most `seconds`) until `count` threads sleep in pthread_cond_wait
 * on the barrier's condition variable, and returns how many do (sleepers.h;
 * -1 where /proc cannot tell); stops early once one of the calls has
 * returned (a failure of its own). */
static int wait_for_sleepers(struct call *calls, int calls_count, int count,
                             double seconds)
{
    return wait_until_asleep_on(&barrier.round_over, sizeof barrier.round_over,
                                count, seconds, any_async_call_returned,
                                ASYNC_CALLS(calls, calls_count));
}

#define MUST_WAIT "a thread must wait until the last one of its round " \
    "arrives; and wait in a loop, since a wait can end without a signal " \
    "(a spurious wake-up)"

EXERCISE_TEST(barrier, count_of_one_never_waits, 10,
              "barrier_wait on a barrier of one thread never returned")
{
    struct barrier unused;
    int error = barrier_init(&unused, 0);
    cr_assert_eq(error, EINVAL, "barrier_init(0) returned %d, expected EINVAL "
                 "(%d): a barrier for no threads is meaningless", error,
                 EINVAL);
    init_barrier(1);
    for (int round = 1; round <= 5; round++) {
        int result = barrier_wait(&barrier);
        cr_assert_eq(result, BARRIER_SERIAL_THREAD, "round %d of a barrier "
                     "of 1 thread: barrier_wait returned %d, expected "
                     "BARRIER_SERIAL_THREAD: the only thread of each round is "
                     "also its last, and every round needs its serial thread "
                     "(does the barrier start a new round, arrived back to 0?)",
                     round, result);
    }
    barrier_destroy(&barrier);
}

EXERCISE_TEST(barrier, waits_for_the_last_thread_then_wakes_all, 15,
              "the waiting threads never returned after the last one arrived: "
              "does the last thread broadcast round_over?")
{
    enum { WAITERS = 3 };
    init_barrier(WAITERS + 1);
    static struct call calls[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        start_wait(&calls[i]);
    bool returned_early = async_wait(&calls[0].async, 0.7);
    int asleep = wait_for_sleepers(calls, WAITERS, WAITERS, 2.0);
    returned_early = count_returned(calls, WAITERS) > 0;
    int last = returned_early ? 0 : barrier_wait(&barrier);
    cr_assert_not(returned_early, "barrier_wait returned although only %d of "
                  "%d threads had arrived: " MUST_WAIT, WAITERS, WAITERS + 1);
    cr_assert(asleep < 0 || asleep == WAITERS, "only %d of %d waiting threads "
              "slept in pthread_cond_wait on round_over: the others poll "
              "(busy-waiting)", asleep, WAITERS);
    int returned = wait_for_calls(calls, WAITERS, 3.0);
    cr_assert_eq(returned, WAITERS, "only %d of %d threads asleep at the "
                 "barrier returned after the last one arrived: "
                 "pthread_cond_signal wakes one waiter, "
                 "pthread_cond_broadcast wakes them all", returned, WAITERS);
    int serial = last == BARRIER_SERIAL_THREAD;
    for (int i = 0; i < WAITERS; i++) {
        async_finish(&calls[i].async);
        cr_assert(calls[i].result == 0 ||
                  calls[i].result == BARRIER_SERIAL_THREAD, "barrier_wait "
                  "returned %d, expected 0 or BARRIER_SERIAL_THREAD",
                  calls[i].result);
        serial += calls[i].result == BARRIER_SERIAL_THREAD;
    }
    cr_assert_eq(serial, 1, "%d of the %d threads of one round got "
                 "BARRIER_SERIAL_THREAD, expected exactly 1", serial,
                 WAITERS + 1);
}

EXERCISE_TEST(barrier, waiting_thread_sleeps_instead_of_spinning, 15,
              "the waiting thread never returned after the last one arrived")
{
    init_barrier(2);
    static struct call call;
    double started = now_seconds();
    start_wait(&call);
    bool returned_early = async_wait(&call.async, 1.0);
    int asleep = returned_early ? 0 : wait_for_sleepers(&call, 1, 1, 2.0);
    double blocked = now_seconds() - started;
    if (!returned_early)
        barrier_wait(&barrier);
    cr_assert_not(returned_early, "barrier_wait returned although only 1 of "
                  "2 threads had arrived: " MUST_WAIT);
    cr_assert(async_wait(&call.async, 3.0), "the waiting thread was still "
              "blocked 3 s after the last one arrived");
    async_finish(&call.async);
    /* A sleeping thread uses microseconds of CPU; 50 ms is a wide margin. */
    cr_assert_lt(call.cpu_seconds, 0.05, "a thread blocked in barrier_wait "
                 "for %.1f s used %.2f s of CPU: it polls in a loop "
                 "(busy-waiting); sleep in pthread_cond_wait instead",
                 blocked, call.cpu_seconds);
    cr_assert(asleep != 0, "the waiting thread never slept in "
              "pthread_cond_wait on round_over: it polls (busy-waiting)");
}

EXERCISE_TEST(barrier, woken_thread_leaves_although_the_next_round_began, 15,
              "a thread at the barrier never returned: is a woken waiter "
              "waiting for the count instead of for its round to end?")
{
    init_barrier(2);
    static struct call slow, next;
    start_wait(&slow);
    int asleep = wait_for_sleepers(&slow, 1, 1, 2.0);
    cr_assert_not(async_is_done(&slow.async), "barrier_wait returned although "
                  "only 1 of 2 threads had arrived: " MUST_WAIT);
    cr_assert(asleep != 0, "the waiting thread never slept in "
              "pthread_cond_wait on round_over: it polls (busy-waiting)");
    /* The slow waiter is paused, so it cannot wake up until the test lets
     * it: the round ends, and a fast thread arrives in the next round,
     * before the slow one has even looked at the barrier again. */
    bool frozen = freeze_threads(&slow.async.thread, 1, 3.0);
    int last = barrier_wait(&barrier);
    start_wait(&next);
    int next_asleep = wait_for_sleepers(&next, 1, 1, 2.0);
    thaw_threads(1);
    cr_assert(frozen, "the test could not pause the waiting thread (with the "
              "signal SIGUSR2)");
    cr_assert_not(async_is_done(&next.async), "a thread that arrived alone in "
                  "round 2 (barrier of 2) returned at once: the barrier works "
                  "for one round only.  The last thread of a round must start "
                  "the next one (arrived back to 0)");
    cr_assert(next_asleep != 0, "the thread waiting in round 2 never slept "
              "in pthread_cond_wait on round_over");
    cr_assert(async_wait(&slow.async, 3.0), "a thread woken at the end of "
              "round 1 was still blocked 3 s later, because another thread "
              "had arrived in round 2 before it woke up.  A waiter must wait "
              "for its own round to be over (a round number that the last "
              "arrival increments), not for the count, which the next round "
              "is already changing");
    async_finish(&slow.async);
    cr_assert_not(async_is_done(&next.async), "a thread that arrived alone in "
                  "round 2 returned when the slow thread of round 1 left: "
                  MUST_WAIT);
    int second = barrier_wait(&barrier);
    cr_assert(async_wait(&next.async, 3.0), "the waiting thread of round 2 "
              "was still blocked 3 s after the last one arrived");
    async_finish(&next.async);
    cr_assert_eq((last == BARRIER_SERIAL_THREAD) +
                 (slow.result == BARRIER_SERIAL_THREAD), 1, "round 1: "
                 "barrier_wait returned %d and %d, expected exactly one "
                 "BARRIER_SERIAL_THREAD", last, slow.result);
    cr_assert_eq((second == BARRIER_SERIAL_THREAD) +
                 (next.result == BARRIER_SERIAL_THREAD), 1, "round 2: "
                 "barrier_wait returned %d and %d, expected exactly one "
                 "BARRIER_SERIAL_THREAD", second, next.result);
}

/* The stress test: THREADS threads meet ROUNDS times in a row.  Each
 * counts the rounds it has entered; when a thread leaves round r, every
 * thread must have entered round r (nobody leaves early) and none may be
 * past round r + 1 (nobody is two rounds ahead). */
enum { THREADS = 4, ROUNDS = 10000 };

static atomic_long rounds_entered[THREADS];
static atomic_int serial_threads[ROUNDS];
static atomic_long violation_round; /* first round that broke a rule, + 1 */
static atomic_long violation_seen;  /* what rounds_entered showed then */
static atomic_long rounds_done;     /* progress, for the stall check */

struct runner {
    struct async_call async;
    int index;
};

static void *run_rounds(void *raw)
{
    struct runner *runner = raw;
    for (long round = 0; round < ROUNDS; round++) {
        atomic_store(&rounds_entered[runner->index], round + 1);
        if (barrier_wait(&barrier) == BARRIER_SERIAL_THREAD)
            atomic_fetch_add(&serial_threads[round], 1);
        for (int other = 0; other < THREADS; other++) {
            long entered = atomic_load(&rounds_entered[other]);
            if (entered < round + 1 || entered > round + 2) {
                long none = 0;
                if (atomic_compare_exchange_strong(&violation_round, &none,
                                                   round + 1))
                    atomic_store(&violation_seen, entered);
            }
        }
        atomic_fetch_add(&rounds_done, 1);
    }
    return NULL;
}

static struct runner runners[THREADS];

EXERCISE_TEST(barrier, works_for_ten_thousand_rounds_in_a_row, 30,
              "the threads never finished 10,000 rounds: a lost wake-up, or "
              "a waiter that never sees its round end?")
{
    init_barrier(THREADS);
    for (int i = 0; i < THREADS; i++)
        atomic_store(&rounds_entered[i], 0);
    for (int r = 0; r < ROUNDS; r++)
        atomic_store(&serial_threads[r], 0);
    for (int i = 0; i < THREADS; i++) {
        runners[i].index = i;
        async_start(&runners[i].async, run_rounds, &runners[i]);
    }
    /* Stuck means: no thread left a round for 3 s (not a clock on the
     * whole run, which a slow machine may stretch). */
    long seen = -1;
    double last_progress = now_seconds();
    bool stuck = false;
    for (;;) {
        int done = 0;
        for (int i = 0; i < THREADS; i++)
            done += async_is_done(&runners[i].async);
        if (done == THREADS)
            break;
        long finished = atomic_load(&rounds_done);
        if (finished != seen) {
            seen = finished;
            last_progress = now_seconds();
        } else if (now_seconds() - last_progress > 3.0) {
            stuck = true;
            break;
        }
        sleep_seconds(0.005);
    }
    long finished = atomic_load(&rounds_done);
    cr_assert_not(stuck, "the threads got stuck after %ld of %d rounds (%d "
                  "threads): some waiter never left its round, or one left "
                  "too early and was counted in the next.  The last thread "
                  "must wake every waiter (broadcast); a waiter waits in a "
                  "while loop (a wait can end with no broadcast at all) "
                  "until the round number changes, not until the count "
                  "does", finished / THREADS, ROUNDS, THREADS);
    for (int i = 0; i < THREADS; i++)
        async_finish(&runners[i].async);
    long bad_round = atomic_load(&violation_round);
    long entered = atomic_load(&violation_seen);
    cr_assert_eq(bad_round, 0, "a thread left round %ld while another thread "
                 "had entered only round %ld (%d threads, barrier of %d): %s",
                 bad_round, entered, THREADS, THREADS,
                 entered < bad_round ? "it went through without waiting for "
                 "everyone (is `arrived` reset for each round, and is the wait "
                 "a loop?)" : "one thread got two rounds ahead");
    for (int r = 0; r < ROUNDS; r++) {
        int serial = atomic_load(&serial_threads[r]);
        cr_assert_eq(serial, 1, "round %d of %d: %d threads got "
                     "BARRIER_SERIAL_THREAD, expected exactly 1", r + 1,
                     ROUNDS, serial);
    }
    barrier_destroy(&barrier);
}
