/* Tests for exercise 07: an event flag that waiters sleep on. */
#include "harness.h"
#include "event.h"
#include "sleepers.h"

/* The event, and every call a test runs in another thread, are static: a
 * thread that a failed test leaves behind must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct event event;

static void init_event(void)
{
    int error = event_init(&event);
    cr_assert_eq(error, 0, "event_init returned %d, expected 0", error);
}

/* Waits (at most `seconds`) until the threads of `count` calls sleep in
 * pthread_cond_wait on the event's condition variable, and returns how many
 * threads do (sleepers.h; -1 where /proc cannot tell); stops early once one
 * of the calls has returned (a failure of its own). */
static int wait_for_sleepers(struct async_call *calls, int count,
                             double seconds)
{
    return wait_until_asleep_on(&event.changed, sizeof event.changed, count,
                                seconds, any_async_call_returned,
                                &(struct async_calls){calls, sizeof *calls,
                                                      count});
}

/* event_wait in its own thread; records the CPU time the wait used. */
struct waiter {
    double cpu_seconds;
};

static void *wait_for_event(void *raw)
{
    struct waiter *waiter = raw;
    double cpu_before = thread_cpu_seconds();
    event_wait(&event);
    if (waiter)
        waiter->cpu_seconds = thread_cpu_seconds() - cpu_before;
    return NULL;
}

/* event_wait_timeout in its own thread. */
struct timed_waiter {
    double timeout;
    bool result;
};

static void *wait_with_timeout(void *raw)
{
    struct timed_waiter *waiter = raw;
    waiter->result = event_wait_timeout(&event, waiter->timeout);
    return NULL;
}

EXERCISE_TEST(event, flag_follows_set_and_clear, 10,
              "event_init, event_set, event_clear or event_is_set never "
              "returned: is a mutex left locked?")
{
    init_event();
    cr_assert_not(event_is_set(&event), "a new event must be clear");
    event_set(&event);
    cr_assert(event_is_set(&event), "after event_set, event_is_set was false");
    event_set(&event);
    cr_assert(event_is_set(&event), "setting a set event must leave it set");
    event_clear(&event);
    cr_assert_not(event_is_set(&event), "after event_clear, event_is_set "
                  "was true");
    event_clear(&event);
    cr_assert_not(event_is_set(&event), "clearing a clear event must leave "
                  "it clear");
    event_destroy(&event);
}

EXERCISE_TEST(event, wait_returns_at_once_when_already_set, 10,
              "a wait on an event that was already set never returned")
{
    /* No injected wake-ups here: a wait that starts without looking at the
     * flag would otherwise be rescued by one. */
    harness_set_spurious_wakeups(false);
    init_event();
    event_set(&event);
    static struct async_call call;
    async_start(&call, wait_for_event, NULL);
    cr_assert(async_wait(&call, 3.0), "event_wait blocked although the event "
              "was set before it was called: check the flag (under the "
              "mutex) before waiting, so that an earlier set is not missed");
    async_finish(&call);

    static struct timed_waiter timed = {30.0, false};
    static struct async_call timed_call;
    async_start(&timed_call, wait_with_timeout, &timed);
    cr_assert(async_wait(&timed_call, 3.0), "event_wait_timeout(30 s) blocked "
              "although the event was already set: check the flag before "
              "waiting");
    async_finish(&timed_call);
    cr_assert(timed.result, "event_wait_timeout returned false on an event "
              "that was set");
}

EXERCISE_TEST(event, wait_blocks_until_set, 15,
              "event_wait never returned after event_set: does event_set "
              "wake the waiters?")
{
    init_event();
    static struct async_call call;
    async_start(&call, wait_for_event, NULL);
    bool returned_early = async_wait(&call, 0.7);
    if (!returned_early)
        event_set(&event);
    cr_assert_not(returned_early, "event_wait returned although nobody had "
                  "set the event: a wait can wake up without a signal (a "
                  "spurious wake-up), so wait in a loop: while (!is_set) "
                  "pthread_cond_wait(...)");
    cr_assert(async_wait(&call, 3.0), "event_wait was still blocked 3 s after "
              "event_set: event_set must set the flag and broadcast the "
              "condition variable, under the mutex");
    async_finish(&call);
}

EXERCISE_TEST(event, set_wakes_every_waiter, 15,
              "the waiters never returned after event_set")
{
    enum { WAITERS = 5 };
    init_event();
    static struct async_call calls[WAITERS];
    for (int i = 0; i < WAITERS; i++)
        async_start(&calls[i], wait_for_event, NULL);
    int asleep = wait_for_sleepers(calls, WAITERS, 3.0);
    int returned_early = 0;
    for (int i = 0; i < WAITERS; i++)
        returned_early += async_is_done(&calls[i]);
    event_set(&event);
    cr_assert_eq(returned_early, 0, "%d of %d waiters returned before the "
                 "event was set: a wait can end without a set (a spurious "
                 "wake-up), so wait in a loop: while (!is_set)",
                 returned_early, WAITERS);
    cr_assert(asleep < 0 || asleep == WAITERS, "only %d of %d waiters went to "
              "sleep in pthread_cond_wait on the event's condition variable: "
              "a waiting thread must block there, not poll the flag "
              "(busy-waiting)", asleep, WAITERS);
    int woken = 0;
    double give_up = now_seconds() + 3.0;
    for (int i = 0; i < WAITERS; i++) {
        double left = give_up - now_seconds();
        woken += async_wait(&calls[i], left > 0 ? left : 0);
    }
    cr_assert_eq(woken, WAITERS, "only %d of %d sleeping waiters returned "
                 "after one event_set: pthread_cond_signal wakes one waiter, "
                 "pthread_cond_broadcast wakes them all", woken, WAITERS);
    for (int i = 0; i < WAITERS; i++)
        async_finish(&calls[i]);
}

EXERCISE_TEST(event, clear_makes_later_waits_block, 15,
              "event_wait never returned after event_set")
{
    init_event();
    event_set(&event);
    event_clear(&event);
    static struct async_call call;
    async_start(&call, wait_for_event, NULL);
    bool returned_early = async_wait(&call, 0.7);
    event_set(&event);
    cr_assert_not(returned_early, "event_wait returned on an event that was "
                  "set and then cleared: event_clear must clear the flag, and "
                  "a wait that wakes up without a set (a spurious wake-up) "
                  "must wait again: while (!is_set)");
    cr_assert(async_wait(&call, 3.0), "event_wait was still blocked 3 s after "
              "event_set");
    async_finish(&call);
}

EXERCISE_TEST(event, waiting_thread_sleeps_instead_of_spinning, 15,
              "event_wait never returned after event_set")
{
    init_event();
    static struct waiter waiter;
    static struct async_call call;
    double started = now_seconds();
    async_start(&call, wait_for_event, &waiter);
    bool returned_early = async_wait(&call, 1.0);
    int asleep = returned_early ? 0 : wait_for_sleepers(&call, 1, 2.0);
    double blocked = now_seconds() - started;
    event_set(&event);
    cr_assert_not(returned_early, "event_wait returned although nobody had "
                  "set the event: a wait can end without a set (a spurious "
                  "wake-up), so wait in a loop: while (!is_set)");
    cr_assert(async_wait(&call, 3.0), "event_wait was still blocked 3 s after "
              "event_set");
    async_finish(&call);
    /* A sleeping thread uses microseconds of CPU; 50 ms is a wide margin. */
    cr_assert_lt(waiter.cpu_seconds, 0.05, "a thread blocked in event_wait for "
                 "%.1f s used %.2f s of CPU: it polls the flag in a loop "
                 "(busy-waiting); sleep in pthread_cond_wait instead",
                 blocked, waiter.cpu_seconds);
    cr_assert(asleep != 0, "the waiting thread never slept in "
              "pthread_cond_wait on the event's condition variable: it polls "
              "the flag (busy-waiting, perhaps with a sleep) instead of "
              "waiting to be woken");
}

EXERCISE_TEST(event, timed_wait_gives_up_after_its_timeout, 15,
              "event_wait_timeout(0.5 s) on an event nobody sets never "
              "returned: does it stop at the deadline (ETIMEDOUT)?")
{
    init_event();
    double started = now_seconds(), cpu_before = thread_cpu_seconds();
    bool result = event_wait_timeout(&event, 0.5);
    double took = now_seconds() - started;
    double cpu = thread_cpu_seconds() - cpu_before;
    cr_assert_not(result, "event_wait_timeout returned true although the "
                  "event was never set");
    /* A wait that respects its deadline cannot return before it. */
    cr_assert_geq(took, 0.49, "event_wait_timeout(0.5 s) gave up after only "
                  "%.3f s: wait in a loop (a wait can also end early, in a "
                  "spurious wake-up) until the flag is set or "
                  "pthread_cond_timedwait says ETIMEDOUT, with an absolute "
                  "deadline on the clock the condition variable uses "
                  "(CLOCK_MONOTONIC, set with pthread_condattr_setclock)", took);
    cr_assert_lt(cpu, 0.05, "event_wait_timeout(0.5 s) used %.2f s of CPU: it "
                 "polls the flag (busy-waiting); sleep in "
                 "pthread_cond_timedwait", cpu);
    started = now_seconds();
    result = event_wait_timeout(&event, 0);
    took = now_seconds() - started;
    cr_assert_not(result, "event_wait_timeout(0) returned true on a clear "
                  "event");
    cr_assert_lt(took, 2.0, "event_wait_timeout(0) took %.2f s: with no time "
                 "to wait it must only look at the flag", took);
}

/* The header promises deadlines on CLOCK_MONOTONIC.  A condition left on
 * the wall clock, with deadlines also taken from the wall clock, passes
 * every timing test and breaks when the wall clock steps: ask the
 * condition itself which clock it reads. */
EXERCISE_TEST(event, the_condition_times_out_on_the_monotonic_clock, 10,
              "a wait on the event's condition variable with a monotonic "
              "deadline never ended")
{
    init_event();
    double waited =
        harness_monotonic_wait_seconds(&event.changed, &event.mutex, 0.4);
    cr_assert(waited >= 0.3, "a pthread_cond_timedwait on the event's "
              "condition variable with a deadline 0.4 s ahead on "
              "CLOCK_MONOTONIC returned after %.3f s: the condition times "
              "out on CLOCK_REALTIME (the default), where that deadline is a "
              "date long past.  In event_init, make it with a "
              "pthread_condattr_t set by pthread_condattr_setclock("
              "&attributes, CLOCK_MONOTONIC), and take deadlines from "
              "clock_gettime(CLOCK_MONOTONIC): the wall clock can step",
              waited);
}

EXERCISE_TEST(event, timed_wait_returns_true_once_set, 15,
              "event_wait_timeout(30 s) did not return after event_set")
{
    init_event();
    static struct timed_waiter timed = {30.0, false};
    static struct async_call call;
    async_start(&call, wait_with_timeout, &timed);
    bool returned_early = async_wait(&call, 0.7);
    int asleep = returned_early ? 0 : wait_for_sleepers(&call, 1, 2.3);
    event_set(&event);
    cr_assert_not(returned_early, "event_wait_timeout(30 s) returned after "
                  "0.7 s although nobody had set the event: a wait can end "
                  "without a set (a spurious wake-up), so wait in a loop "
                  "until the flag is set or the deadline passes");
    cr_assert(asleep != 0, "the timed wait never slept in "
              "pthread_cond_timedwait on the event's condition variable: it "
              "polls the flag (busy-waiting) instead of waiting to be woken");
    cr_assert(async_wait(&call, 3.0), "event_wait_timeout(30 s) was still "
              "blocked 3 s after event_set: event_set must broadcast");
    async_finish(&call);
    cr_assert(timed.result, "event_wait_timeout returned false although the "
              "event was set while it waited");
}
