/* Tests for exercise 10: a worker that repeats a task and stops promptly
 * when asked, and detached threads. */

/*
 * Concurrency matrix (worker.h, logger.h; the logger's tests are in
 * test_logger.c):
 *   worker_stop    vs the worker asleep in its period: stops_promptly_in_a_
 *                  long_period, stop_sets_the_flag_before_waking_the_worker
 *                  (slow wake-ups: the woken worker runs before the stopper,
 *                  every run); vs a run in progress: stop_waits_for_the_run_
 *                  in_progress; vs runs at varying moments: workload
 *   worker->runs   read after stop only: check_runs_recorded
 *   run_detached   vs the detached thread ending on its own: thread_needs_
 *                  no_join_and_ends_on_its_own, workload
 * Error paths:
 *   pthread_create fails in worker_start    reports_a_thread_that_cannot_start
 *   pthread_create fails in run_detached: error returned and no detach of
 *   the thread never made                   reports_a_failed_pthread_create
 * Clocks and periods: stop_cond times out on CLOCK_MONOTONIC: the_condition_
 * times_out_on_the_monotonic_clock; the period runs from the END of a run
 * (a task of known length): the_period_starts_when_a_run_ends; a wake-up is
 * not the end of the period: waits_a_full_period_between_runs; period 0:
 * a_period_of_zero_runs_back_to_back_and_still_stops.
 */

#define _GNU_SOURCE /* pthread_getattr_np: a thread's own detach state */
#include "harness.h"
#include "worker.h"

#include <errno.h>

/* A stop with a 5 s period must take well under one period. */
static const double STOP_LIMIT = 1.5;
/* How long a test waits for what a right solution does at once. */
static const double GRACE = 2.0;

/* Static, so that a thread still running after a failed test never
 * touches a dead stack frame. */
static struct worker worker;

/* The task of most tests: counts its runs.  It never waits on a
 * condition variable itself, so the worker thread's first wait is its
 * wait for the period (the harness makes that one wake up spuriously). */
static pthread_mutex_t count_lock = PTHREAD_MUTEX_INITIALIZER;
static long counted;

static void count_run(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&count_lock);
    counted++;
    pthread_mutex_unlock(&count_lock);
}

static long counted_runs(void)
{
    pthread_mutex_lock(&count_lock);
    long runs = counted;
    pthread_mutex_unlock(&count_lock);
    return runs;
}

static bool wait_for_runs(long wanted, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (counted_runs() < wanted && now_seconds() < give_up)
        sleep_seconds(0.002);
    return counted_runs() >= wanted;
}

static void start_worker(double period, void (*task)(void *))
{
    int error = worker_start(&worker, period, task, NULL);
    cr_assert_eq(error, 0, "worker_start returned %d, expected 0", error);
}

static int stop_error = -1;

static void *call_worker_stop(void *unused)
{
    (void)unused;
    stop_error = worker_stop(&worker);
    return NULL;
}

/* How long a test waits for a stop before giving up on it: long enough
 * for the kit's hang watcher, which ignores waits that end within 5 s and
 * needs 3 s to call a loop a spin, to see a stop that deadlocks or spins
 * and name its line.  Whether the stop was
 * prompt is decided by the time it took. */
static const double STOP_WAIT = 9.5;

/* worker_stop must return within `limit` seconds. */
static void stop_within(struct async_call *stop, double limit,
                        const char *when)
{
    double started = now_seconds();
    bool returned = async_wait(stop, STOP_WAIT);
    double took = now_seconds() - started;
    cr_assert(returned && took <= limit, "worker_stop had not returned %.1f s "
              "%s, with a %.0f s period: a worker that sleeps through its "
              "period cannot hear the stop. Wait for the next run with "
              "pthread_cond_timedwait on stop_cond, and have worker_stop "
              "broadcast it, so that a stop wakes the worker at once",
              limit, when, worker.period_seconds);
    async_finish(stop);
    cr_assert_eq(stop_error, 0, "worker_stop returned %d, expected 0",
                 stop_error);
}

static void stop_promptly(void)
{
    static struct async_call stop;
    async_start(&stop, call_worker_stop, NULL);
    stop_within(&stop, STOP_LIMIT, "after it was called");
}

static void check_runs_recorded(void)
{
    long runs = counted_runs();
    cr_assert_eq(worker.runs, runs, "worker->runs is %ld after worker_stop, "
                 "but the task ran %ld times", worker.runs, runs);
}

EXERCISE_TEST(worker, repeats_the_task_every_period, 20,
              "worker_stop never returned")
{
    start_worker(0.02, count_run);
    bool repeated = wait_for_runs(5, 3.0);
    stop_promptly();
    cr_assert(repeated, "with a 0.02 s period the task ran %ld times in 3 s: "
              "run it at once, then again after each period, until stopped",
              counted_runs());
    check_runs_recorded();
}

EXERCISE_TEST(worker, stops_promptly_in_a_long_period, 20,
              "worker_stop never returned")
{
    start_worker(5.0, count_run);
    cr_assert(wait_for_runs(1, GRACE), "the task had not run %.0f s after "
              "worker_start: run it at once", GRACE);
    stop_promptly();
    cr_assert_eq(counted_runs(), 1, "with a 5 s period, stopped at once, the "
                 "task ran %ld times, expected 1", counted_runs());
    check_runs_recorded();
}

EXERCISE_TEST(worker, waits_a_full_period_between_runs, 20,
              "worker_stop never returned")
{
    start_worker(5.0, count_run);
    cr_assert(wait_for_runs(1, GRACE), "the task had not run %.0f s after "
              "worker_start: run it at once", GRACE);
    sleep_seconds(0.5);
    long runs = counted_runs();
    stop_promptly();
    cr_assert_eq(runs, 1, "with a 5 s period the task ran %ld times in its "
                 "first 0.5 s: a wake-up is not the end of the period (they "
                 "can be spurious): wait in a `while` loop until a stop or "
                 "the deadline", runs);
}

/* A task that stays inside until the test opens the gate. */
static struct gate release;
static struct peak_probe inside;

static void held_run(void *unused)
{
    (void)unused;
    probe_enter(&inside);
    count_run(NULL);
    gate_wait(&release, 10.0);
    probe_leave(&inside);
}

EXERCISE_TEST(worker, stop_waits_for_the_run_in_progress, 20,
              "worker_stop never returned after the run ended")
{
    gate_init(&release);
    probe_init(&inside);
    start_worker(5.0, held_run);
    double give_up = now_seconds() + GRACE;
    while (probe_entered(&inside) < 1 && now_seconds() < give_up)
        sleep_seconds(0.002);
    cr_assert_eq(probe_entered(&inside), 1, "the task had not run %.0f s "
                 "after worker_start: run it at once", GRACE);
    static struct async_call stop;
    async_start(&stop, call_worker_stop, NULL);
    bool returned_early = async_wait(&stop, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "worker_stop returned while the task was "
                  "still running: join the worker thread, so that nothing "
                  "runs after the stop returns");
    stop_within(&stop, STOP_LIMIT, "after the last run ended");
    cr_assert_eq(counted_runs(), 1, "the task ran %ld times: no run may start "
                 "after a stop was asked for", counted_runs());
    check_runs_recorded();
}

EXERCISE_TEST(worker, reports_a_thread_that_cannot_start, 10,
              "worker_start never returned when pthread_create failed")
{
    harness_fail_pthread_create_after(0);
    int error = worker_start(&worker, 1.0, count_run, NULL);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(error, EAGAIN, "worker_start returned %d when pthread_create "
                 "failed with EAGAIN (%d): return its error", error, EAGAIN);
}

/* A detached task reports its own detach state once run_detached has
 * returned (it may detach itself only after pthread_create). */
static struct gate finished;
static int detach_state = -1;

static void *report_detach_state(void *unused)
{
    (void)unused;
    gate_wait(&release, 10.0);
    pthread_attr_t attributes;
    int state = -1;
    if (pthread_getattr_np(pthread_self(), &attributes) == 0) {
        pthread_attr_getdetachstate(&attributes, &state);
        pthread_attr_destroy(&attributes);
    }
    detach_state = state; /* read by the test after `finished` opens */
    gate_open(&finished);
    return NULL;
}

EXERCISE_TEST(detached, thread_needs_no_join_and_ends_on_its_own, 20,
              "the detached task never ran")
{
    gate_init(&release);
    gate_init(&finished);
    int baseline = count_process_threads();
    int error = run_detached(report_detach_state, NULL);
    cr_assert_eq(error, 0, "run_detached returned %d, expected 0", error);
    gate_open(&release);
    cr_assert(gate_wait(&finished, GRACE), "the detached task had not run "
              "%.0f s after run_detached", GRACE);
    cr_assert_eq(detach_state, PTHREAD_CREATE_DETACHED, "the thread "
                 "run_detached started is joinable: nobody will join it, so "
                 "its stack and descriptor stay allocated after it ends. "
                 "Create it with PTHREAD_CREATE_DETACHED (or pthread_detach "
                 "it)");
    cr_assert(wait_for_thread_count(baseline, GRACE), "the detached thread "
              "was still running %.0f s after its task returned", GRACE);
}

EXERCISE_TEST(detached, reports_a_failed_pthread_create, 10,
              "run_detached never returned when pthread_create failed")
{
    harness_fail_pthread_create_after(0);
    int error = run_detached(report_detach_state, NULL);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(error, EAGAIN, "run_detached returned %d when pthread_create "
                 "failed with EAGAIN (%d): return its error", error, EAGAIN);
    cr_assert_eq(harness_uses_of_uncreated_threads(), 0, "run_detached "
                 "called pthread_detach (or join) on the pthread_t of a "
                 "pthread_create that failed: no thread was made, so there "
                 "is nothing to detach (with a real garbage pthread_t that "
                 "call can crash).  Check pthread_create's result first, or "
                 "create the thread detached (pthread_attr_setdetachstate)");
}

/* The header promises timeouts on CLOCK_MONOTONIC: ask the condition which
 * clock it reads (a wall-clock condition with wall-clock deadlines passes
 * every timing test, and breaks when the wall clock steps). */
EXERCISE_TEST(worker, the_condition_times_out_on_the_monotonic_clock, 20,
              "worker_stop never returned")
{
    start_worker(5.0, count_run);
    double waited =
        harness_monotonic_wait_seconds(&worker.stop_cond, &worker.mutex, 0.4);
    stop_promptly();
    cr_assert(waited >= 0.3, "a pthread_cond_timedwait on stop_cond with a "
              "deadline 0.4 s ahead on CLOCK_MONOTONIC returned after %.3f "
              "s: stop_cond times out on CLOCK_REALTIME (the default), where "
              "that deadline is a date long past.  Make it with a "
              "pthread_condattr_t set by pthread_condattr_setclock("
              "&attributes, CLOCK_MONOTONIC), and take the deadline of the "
              "next run from clock_gettime(CLOCK_MONOTONIC): the wall clock "
              "can step", waited);
}

/* A task that takes a known time, and records when each run began. */
static const double TASK_SECONDS = 0.25;
static double run_started[8];

static void slow_run(void *unused)
{
    (void)unused;
    long run = counted_runs();
    if (run < 8)
        run_started[run] = now_seconds();
    sleep_seconds(TASK_SECONDS);
    count_run(NULL);
}

EXERCISE_TEST(worker, the_period_starts_when_a_run_ends, 20,
              "worker_stop never returned")
{
    const double period = 0.25;
    start_worker(period, slow_run);
    bool ran = wait_for_runs(3, 10.0);
    stop_promptly();
    cr_assert(ran, "the task (%.2f s long) ran %ld times in 10 s with a "
              "%.2f s period", TASK_SECONDS, counted_runs(), period);
    for (int run = 1; run < 3; run++) {
        double gap = run_started[run] - run_started[run - 1];
        cr_assert_geq(gap, TASK_SECONDS + period - 0.05, "run %d began %.3f "
                      "s after run %d, with a task of %.2f s and a period of "
                      "%.2f s: the period is measured from the END of the "
                      "previous run (header), so the gap must be at least "
                      "%.2f s.  Take the deadline after the task returns, "
                      "not before it starts", run + 1, gap, run, TASK_SECONDS,
                      period, TASK_SECONDS + period);
    }
}

/* A stop that wakes the worker before it sets stop_requested loses the
 * wake-up whenever the worker takes the mutex in between: the harness makes
 * that happen every run (it pauses the caller after each broadcast). */
EXERCISE_TEST(worker, stop_sets_the_flag_before_waking_the_worker, 20,
              "worker_stop never returned")
{
    start_worker(5.0, count_run);
    cr_assert(wait_for_runs(1, GRACE), "the task had not run %.0f s after "
              "worker_start: run it at once", GRACE);
    harness_pause_after_wakeups(0.1);
    static struct async_call stop;
    async_start(&stop, call_worker_stop, NULL);
    bool returned = async_wait(&stop, STOP_LIMIT);
    harness_pause_after_wakeups(0);
    if (!returned)
        async_wait(&stop, 6.0);
    async_finish(&stop);
    cr_assert(returned, "worker_stop had not returned %.1f s after it was "
              "called, with a 5 s period, when the worker woke up right "
              "after the broadcast: it found stop_requested still false and "
              "went back to sleep for the rest of the period.  Set "
              "stop_requested and broadcast stop_cond while holding the "
              "mutex, so that a woken worker always sees the flag",
              STOP_LIMIT);
    cr_assert_eq(counted_runs(), 1, "the task ran %ld times: no run may "
                 "start after a stop was asked for", counted_runs());
}

EXERCISE_TEST(worker, a_period_of_zero_runs_back_to_back_and_still_stops, 20,
              "worker_stop never returned with a period of 0")
{
    start_worker(0.0, count_run);
    bool repeated = wait_for_runs(50, 5.0);
    stop_promptly();
    cr_assert(repeated, "with a period of 0 the task ran %ld times in 5 s: "
              "run it again as soon as it returns (the header)",
              counted_runs());
    check_runs_recorded();
}
