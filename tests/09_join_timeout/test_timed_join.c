/* Tests for exercise 09: timed_join waits at most a given time, then the
 * thread can still be joined later, exactly once. */

/*
 * Concurrency matrix:
 *   timed_join     vs the task's thread announcing its end: returns_as_soon_
 *                  as_the_thread_finishes, workload (racing part, tiny
 *                  timeouts); vs other joiners of the same task: wakes_every_
 *                  joiner_and_one_joins, workload (held part); vs threads
 *                  that wake it without finishing: wakeups_do_not_restart_
 *                  the_timeout; vs the task it runs in joining it back:
 *                  two_threads_joining_each_other_time_out
 *   joinable_start vs nothing shared (the task is the caller's)
 * Error paths and edges:
 *   pthread_create fails              reports_a_failed_start
 *   time-out: ETIMEDOUT after the full time, *result untouched
 *                                      check_times_out (every time-out test)
 *   second join: EINVAL               second_join_is_an_error
 *   seconds 0 joins a finished thread zero_timeout_joins_a_finished_thread
 * Clocks: the condition times out on CLOCK_MONOTONIC (a wait with a
 * monotonic deadline must last): the_condition_times_out_on_the_monotonic_
 * clock; the deadline is fixed once: wakeups_do_not_restart_the_timeout.
 */

#include "harness.h"
#include "timed_join.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Tasks held here until the test opens the gate; they return their
 * argument, so that the test can check the result it gets back. */
static struct gate release;

static void *wait_for_release(void *value)
{
    gate_wait(&release, 15.0);
    return value;
}

static void *return_at_once(void *value) { return value; }

/* How long after the moment it should return a call is called stuck: ample
 * for a right solution on a loaded machine, short for a test run. */
static const double GRACE = 1.5;

/* One timed_join call, run in its own thread so that a call that never
 * returns fails the test instead of hanging it. */
struct join_call {
    struct joinable *task;
    double seconds;
    void *result;
    int error;
    double elapsed;     /* wall seconds the call took */
    double cpu;         /* CPU seconds the calling thread used meanwhile */
    struct async_call async;
};

static void *call_timed_join(void *raw)
{
    struct join_call *call = raw;
    double cpu_before = thread_cpu_seconds(), started = now_seconds();
    call->error = timed_join(call->task, call->seconds, &call->result);
    call->elapsed = now_seconds() - started;
    call->cpu = thread_cpu_seconds() - cpu_before;
    return NULL;
}

/* What *result holds before a call: a time-out must leave it so. */
static char untouched_result;

static void join_start(struct join_call *call, struct joinable *task,
                       double seconds)
{
    *call = (struct join_call){.task = task, .seconds = seconds, .error = -1,
                               .result = &untouched_result};
    async_start(&call->async, call_timed_join, call);
}

/* True if the call returned within `limit` seconds.  If not, the gate is
 * opened (so that a call stuck in pthread_join can end) before returning. */
static bool join_returned_within(struct join_call *call, double limit)
{
    bool returned = async_wait(&call->async, limit);
    if (!returned) {
        gate_open(&release);
        async_wait(&call->async, 1.0);
    }
    async_finish(&call->async);
    return returned;
}

static const char *error_name(int error)
{
    static char others[2][80]; /* two names may share one message */
    static int next;
    if (error == 0 || error == ETIMEDOUT || error == EINVAL)
        return error == 0 ? "0" : error == ETIMEDOUT ? "ETIMEDOUT" : "EINVAL";
    char *other = others[next++ % 2];
    snprintf(other, sizeof others[0], "%d (%s)", error,
             error > 0 ? strerror(error) : "no answer");
    return other;
}

static void start_task(struct joinable *task, void *(*function)(void *),
                       void *argument)
{
    int error = joinable_start(task, function, argument);
    cr_assert_eq(error, 0, "joinable_start returned %d, expected 0", error);
}

/* Starts a task held at the gate and gives it `seconds` to finish: the
 * call must time out, after the full time and not much later. */
static const struct join_call *check_times_out(struct joinable *task,
                                               int *marker, double seconds)
{
    gate_init(&release);
    start_task(task, wait_for_release, marker);
    static struct join_call call;
    join_start(&call, task, seconds);
    cr_assert(join_returned_within(&call, seconds + GRACE),
              "timed_join(task, %.1f) had not returned %.1f s later, while "
              "the thread was still running: give up at the deadline with "
              "ETIMEDOUT (pthread_join alone waits as long as the thread "
              "runs)",
              seconds, seconds + GRACE);
    cr_assert_eq(call.error, ETIMEDOUT, "timed_join(task, %.1f) returned %s "
                 "while the thread was still running: expected ETIMEDOUT",
                 seconds, error_name(call.error));
    cr_assert_geq(call.elapsed, seconds - 0.001, "timed_join(task, %.1f) "
                  "returned ETIMEDOUT after only %.3f s: a wake-up is not a "
                  "timeout (wake-ups can be spurious: wait in a `while` loop "
                  "until finished or ETIMEDOUT), and the deadline must be an "
                  "absolute time on the clock the condition uses "
                  "(CLOCK_MONOTONIC, set with pthread_condattr_setclock)",
                  seconds, call.elapsed);
    cr_assert_eq(call.result, (void *)&untouched_result,
                 "timed_join(task, %.1f, &result) returned ETIMEDOUT but "
                 "changed *result (to %p): on a time-out *result must be "
                 "left alone (the caller may still hold a value there); "
                 "write it only when returning 0",
                 seconds, call.result);
    return &call;
}

EXERCISE_TEST(timed_join, sleeps_until_the_deadline_then_times_out, 20,
              "timed_join never returned while the thread ran: does it wait "
              "with a deadline (pthread_cond_timedwait)?")
{
    static struct joinable task;
    int marker;
    const struct join_call *call = check_times_out(&task, &marker, 0.5);
    gate_open(&release);
    /* A sleeping joiner uses microseconds; a spinning one gets a share of a
     * CPU even on a loaded machine. */
    cr_assert_lt(call->cpu, 0.02, "timed_join(task, 0.5) used %.3f s of CPU "
                 "while it waited: it should sleep in pthread_cond_timedwait, "
                 "not check the flag again and again", call->cpu);
}

EXERCISE_TEST(timed_join, joins_later_and_gets_the_result, 20,
              "the second timed_join never returned after the thread "
              "finished")
{
    int baseline = count_process_threads();
    static struct joinable task;
    int marker;
    check_times_out(&task, &marker, 0.2);
    gate_open(&release);
    static struct join_call call;
    join_start(&call, &task, 5.0);
    cr_assert(join_returned_within(&call, 5.0 + GRACE), "timed_join(task, 5) "
              "never returned after the thread had finished");
    cr_assert_eq(call.error, 0, "after a timeout, the thread finished, but "
                 "timed_join(task, 5) returned %s instead of 0: a timeout "
                 "must leave the thread joinable", error_name(call.error));
    cr_assert_eq(call.result, &marker, "timed_join gave the result %p, but "
                 "the thread's function returned %p", call.result,
                 (void *)&marker);
    cr_assert(wait_for_thread_count(baseline, 5.0), "the joined thread was "
              "still running 5 s after timed_join returned 0");
    joinable_destroy(&task);
}

EXERCISE_TEST(timed_join, returns_as_soon_as_the_thread_finishes, 20,
              "timed_join kept waiting after the thread finished: does the "
              "thread broadcast finished_cond when it sets finished?")
{
    gate_init(&release);
    static struct joinable task;
    int marker;
    start_task(&task, wait_for_release, &marker);
    static struct join_call call;
    join_start(&call, &task, 30.0);
    bool returned_early = async_wait(&call.async, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "timed_join(task, 30) returned %s while the "
                  "thread was still running: it must wait for the thread",
                  error_name(call.error));
    cr_assert(join_returned_within(&call, GRACE), "timed_join(task, 30) was "
              "still waiting %.1f s after the thread had finished: the thread "
              "must wake the joiners (broadcast finished_cond under the "
              "mutex) when it sets finished", GRACE);
    cr_assert_eq(call.error, 0, "timed_join returned %s for a thread that "
                 "finished in time, expected 0", error_name(call.error));
    cr_assert_eq(call.result, &marker, "timed_join gave the result %p, but "
                 "the thread's function returned %p", call.result,
                 (void *)&marker);
    joinable_destroy(&task);
}

/* Wakes the joiners of `nudged` every 30 ms, without finishing the task:
 * to a joiner these are wake-ups with nothing changed, like spurious ones. */
static struct joinable nudged;
static struct gate stop_nudging;

static void *nudge_joiners(void *unused)
{
    (void)unused;
    while (!gate_wait(&stop_nudging, 0.03)) {
        pthread_mutex_lock(&nudged.mutex);
        pthread_cond_broadcast(&nudged.finished_cond);
        pthread_mutex_unlock(&nudged.mutex);
    }
    return NULL;
}

EXERCISE_TEST(timed_join, wakeups_do_not_restart_the_timeout, 20,
              "timed_join never returned while it was woken up again and "
              "again: is the deadline computed once, before the loop?")
{
    gate_init(&release);
    gate_init(&stop_nudging);
    int marker;
    start_task(&nudged, wait_for_release, &marker);
    static struct async_call nudger;
    async_start(&nudger, nudge_joiners, NULL);
    static struct join_call call;
    join_start(&call, &nudged, 0.6);
    bool returned = join_returned_within(&call, 0.6 + GRACE);
    gate_open(&stop_nudging);
    gate_open(&release);
    async_wait(&nudger, 5.0);
    async_finish(&nudger);
    cr_assert(returned, "timed_join(task, 0.6) was still waiting after "
              "%.1f s while the thread was woken every 30 ms without the task "
              "finishing: compute the deadline once, before the loop, and "
              "keep it (a wake-up must not restart the timeout)", 0.6 + GRACE);
    cr_assert_eq(call.error, ETIMEDOUT, "timed_join(task, 0.6) returned %s "
                 "while the thread was still running: expected ETIMEDOUT",
                 error_name(call.error));
    cr_assert_geq(call.elapsed, 0.599, "timed_join(task, 0.6) returned "
                  "ETIMEDOUT after only %.3f s, when woken without the task "
                  "finishing: a wake-up is not a timeout, wait in a `while` "
                  "loop", call.elapsed);
}

EXERCISE_TEST(timed_join, zero_timeout_joins_a_finished_thread, 20,
              "timed_join(task, 0) never returned for a finished thread")
{
    int baseline = count_process_threads();
    gate_init(&release);
    static struct joinable task;
    int marker;
    start_task(&task, return_at_once, &marker);
    cr_assert(wait_for_thread_count(baseline, 5.0), "the task's thread did "
              "not end within 5 s");
    static struct join_call call;
    join_start(&call, &task, 0.0);
    cr_assert(join_returned_within(&call, GRACE), "timed_join(task, 0) never "
              "returned for a thread that had already ended");
    cr_assert_eq(call.error, 0, "timed_join(task, 0) returned %s for a thread "
                 "that had already ended: check `finished` before waiting, "
                 "and after a timeout (expected 0)", error_name(call.error));
    cr_assert_eq(call.result, &marker, "timed_join gave the result %p, but "
                 "the thread's function returned %p", call.result,
                 (void *)&marker);
    joinable_destroy(&task);
}

EXERCISE_TEST(timed_join, second_join_is_an_error, 20,
              "a second timed_join of the same task never returned: does it "
              "call pthread_join again?")
{
    gate_init(&release);
    static struct joinable task;
    int marker;
    start_task(&task, return_at_once, &marker);
    static struct join_call first, second;
    join_start(&first, &task, 5.0);
    cr_assert(join_returned_within(&first, 5.0 + GRACE), "timed_join never "
              "returned for a thread that returns at once");
    cr_assert_eq(first.error, 0, "the first timed_join returned %s, "
                 "expected 0", error_name(first.error));
    join_start(&second, &task, 1.0);
    cr_assert(join_returned_within(&second, GRACE), "a second timed_join of "
              "the same task never returned: it must return EINVAL at once "
              "(joining a thread twice is undefined)");
    cr_assert_eq(second.error, EINVAL, "a second timed_join of the same task "
                 "returned %s, expected EINVAL: remember under the mutex that "
                 "the thread was joined, and never call pthread_join twice",
                 error_name(second.error));
    joinable_destroy(&task);
}

EXERCISE_TEST(timed_join, wakes_every_joiner_and_one_joins, 20,
              "a joiner was never woken: is finished_cond broadcast, not "
              "signalled?")
{
    enum { JOINERS = 4 };
    gate_init(&release);
    static struct joinable task;
    int marker;
    start_task(&task, wait_for_release, &marker);
    static struct join_call calls[JOINERS];
    for (int i = 0; i < JOINERS; i++)
        join_start(&calls[i], &task, 30.0);
    bool returned_early = async_wait(&calls[0].async, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "timed_join(task, 30) returned while the "
                  "thread was still running");
    double give_up = now_seconds() + GRACE;
    int zeros = 0, einvals = 0, stuck = 0;
    for (int i = 0; i < JOINERS; i++) {
        double left = give_up - now_seconds();
        if (!async_wait(&calls[i].async, left > 0 ? left : 0))
            stuck++;
        else if (calls[i].error == 0)
            zeros++;
        else if (calls[i].error == EINVAL)
            einvals++;
        async_finish(&calls[i].async);
    }
    cr_assert_eq(stuck, 0, "%d of %d joiners were still waiting %.1f s after "
                 "the thread finished: the thread must wake them all "
                 "(pthread_cond_broadcast; pthread_cond_signal wakes only "
                 "one), and only the joiner that claims the finished thread "
                 "may call pthread_join (two joins of one thread are "
                 "undefined: they can hang)", stuck, JOINERS, GRACE);
    cr_assert(zeros == 1 && einvals == JOINERS - 1, "of %d joiners waiting "
              "for the same thread, %d got 0 and %d EINVAL: exactly one may "
              "join it (claim it under the mutex), the others get EINVAL",
              JOINERS, zeros, einvals);
    joinable_destroy(&task);
}

/* The tutorial's deadlock: two threads, each joining the other.  Each one
 * gets its answer, then waits (bounded) until the other got one too, so
 * neither can finish before both timed joins have returned. */
static struct joinable first, second;
static struct gate both_started;
static struct peak_probe answered;
static int first_error = -1, second_error = -1;

static void *first_joins_second(void *unused)
{
    (void)unused;
    gate_wait(&both_started, 10.0);
    first_error = timed_join(&second, 0.3, NULL);
    probe_enter_and_wait_for(&answered, 2, 10.0);
    return NULL;
}

static void *second_joins_first(void *unused)
{
    (void)unused;
    gate_wait(&both_started, 10.0);
    second_error = timed_join(&first, 0.3, NULL);
    probe_enter_and_wait_for(&answered, 2, 10.0);
    return NULL;
}

EXERCISE_TEST(timed_join, two_threads_joining_each_other_time_out, 20,
              "two threads that join each other waited for ever: each "
              "timed_join must give up at its deadline")
{
    gate_init(&release);
    gate_init(&both_started);
    probe_init(&answered);
    start_task(&first, first_joins_second, NULL);
    start_task(&second, second_joins_first, NULL);
    gate_open(&both_started);
    double give_up = now_seconds() + 0.3 + GRACE;
    while (probe_entered(&answered) < 2 && now_seconds() < give_up)
        sleep_seconds(0.005);
    int answers = probe_entered(&answered);
    cr_assert_eq(answers, 2, "two threads that timed_join each other with a "
                 "0.3 s timeout: after %.1f s, %d of them had got an answer. "
                 "Each waits for the other to finish, so with pthread_join "
                 "both wait for ever; a timed join must give up", 0.3 + GRACE,
                 answers);
    static struct join_call call;
    join_start(&call, &first, 5.0);
    cr_assert(join_returned_within(&call, 5.0 + GRACE) && call.error == 0,
              "joining the first thread afterwards failed (%s)",
              error_name(call.error));
    join_start(&call, &second, 5.0);
    cr_assert(join_returned_within(&call, 5.0 + GRACE) && call.error == 0,
              "joining the second thread afterwards failed (%s)",
              error_name(call.error));
    cr_assert(first_error == ETIMEDOUT && second_error == ETIMEDOUT,
              "the two threads joining each other got %s and %s: neither "
              "can finish while it waits for the other, so both must get "
              "ETIMEDOUT", error_name(first_error), error_name(second_error));
    joinable_destroy(&first);
    joinable_destroy(&second);
}

EXERCISE_TEST(timed_join, reports_a_failed_start, 10,
              "joinable_start never returned when pthread_create failed")
{
    static struct joinable task;
    harness_fail_pthread_create_after(0);
    int error = joinable_start(&task, return_at_once, NULL);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(error, EAGAIN, "joinable_start returned %d when "
                 "pthread_create failed with EAGAIN (%d): return its error",
                 error, EAGAIN);
}

/* The header promises deadlines on CLOCK_MONOTONIC.  A condition left on
 * the wall clock with deadlines also taken from the wall clock passes every
 * timing test, and breaks when the wall clock steps: ask the condition
 * itself which clock it reads. */
EXERCISE_TEST(timed_join, the_condition_times_out_on_the_monotonic_clock, 10,
              "a wait on finished_cond with a monotonic deadline never "
              "ended")
{
    static struct joinable task;
    gate_init(&release);
    start_task(&task, wait_for_release, NULL);
    double waited =
        harness_monotonic_wait_seconds(&task.finished_cond, &task.mutex, 0.4);
    gate_open(&release);
    void *result;
    int error = timed_join(&task, 5.0, &result);
    cr_assert(waited >= 0.3, "a pthread_cond_timedwait on finished_cond "
              "with a deadline 0.4 s ahead on CLOCK_MONOTONIC returned after "
              "%.3f s: the condition times out on CLOCK_REALTIME (the "
              "default), where that deadline is a date long past.  Make it "
              "with a pthread_condattr_t set by pthread_condattr_setclock("
              "&attributes, CLOCK_MONOTONIC), and take deadlines from "
              "clock_gettime(CLOCK_MONOTONIC): the wall clock can step", waited);
    cr_assert_eq(error, 0, "timed_join(task, 5.0) of a released task "
                 "returned %s, expected 0", error_name(error));
    joinable_destroy(&task);
}
