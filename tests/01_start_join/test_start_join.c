/* Tests for exercise 01: run_concurrently starts all, then joins all. */
#include "harness.h"
#include "start_join.h"

#include <errno.h>

/* A task that counts its runs and checks the argument it was given. */
struct tally {
    pthread_mutex_t mutex;
    int runs;
    int wrong_arguments;
    void *expected_argument;
};

static void *count_run(void *argument)
{
    struct tally *tally = argument;
    pthread_mutex_lock(&tally->mutex);
    tally->runs++;
    if (argument != tally->expected_argument)
        tally->wrong_arguments++;
    pthread_mutex_unlock(&tally->mutex);
    return NULL;
}

EXERCISE_TEST(start_join, runs_the_task_once_per_thread, 10,
              "run_concurrently never returned: is every thread joined once?")
{
    struct tally tally = {PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL};
    tally.expected_argument = &tally;
    int error = run_concurrently(8, count_run, &tally);
    pthread_mutex_lock(&tally.mutex);
    int runs = tally.runs, wrong = tally.wrong_arguments;
    pthread_mutex_unlock(&tally.mutex);
    cr_assert_eq(error, 0, "run_concurrently returned %d, expected 0", error);
    cr_assert_eq(runs, 8, "the task ran %d times for 8 threads: every thread "
                 "must have finished when run_concurrently returns", runs);
    cr_assert_eq(wrong, 0, "%d tasks got another argument than the one "
                 "given to run_concurrently", wrong);
}

/* Every new thread is held before its first line until run_concurrently
 * calls pthread_join: code that signals its threads once, before they wait
 * (a start signal with no flag to check), loses the signal on every run.
 * Injected spurious wake-ups are off here: one would end the lost wait. */
EXERCISE_TEST(start_join, threads_that_start_late_still_run, 20,
              "run_concurrently never returned when its threads started late: "
              "do they wait for a signal that was sent before they waited?")
{
    static struct tally tally = {PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL};
    tally.expected_argument = &tally;
    harness_set_spurious_wakeups(false);
    harness_hold_new_threads_until_joined(10.0);
    int error = run_concurrently(4, count_run, &tally);
    harness_hold_new_threads(-1, 0);
    harness_set_spurious_wakeups(true);
    pthread_mutex_lock(&tally.mutex);
    int runs = tally.runs;
    pthread_mutex_unlock(&tally.mutex);
    cr_assert_eq(error, 0, "run_concurrently returned %d, expected 0", error);
    cr_assert_eq(runs, 4, "the task ran %d times for 4 threads", runs);
}

EXERCISE_TEST(start_join, zero_threads_run_nothing, 10,
              "run_concurrently(0, ...) never returned")
{
    struct tally tally = {PTHREAD_MUTEX_INITIALIZER, 0, 0, NULL};
    cr_assert_eq(run_concurrently(0, count_run, &tally), 0);
    cr_assert_eq(tally.runs, 0, "with count 0 no task may run");
}

/* Each task waits (at most 3 s) until all of them are running at once. */
static struct peak_probe overlap;

static void *wait_for_all_six(void *unused)
{
    (void)unused;
    probe_enter_and_wait_for(&overlap, 6, 3.0);
    probe_leave(&overlap);
    return NULL;
}

EXERCISE_TEST(start_join, runs_all_threads_at_the_same_time, 20,
              "run_concurrently never returned")
{
    probe_init(&overlap);
    cr_assert_eq(run_concurrently(6, wait_for_all_six, NULL), 0);
    int peak = probe_peak(&overlap);
    cr_assert_eq(peak, 6, "at most %d of 6 threads were running at the same "
                 "time: start every thread before joining any (a join inside "
                 "the start loop makes them run one after another)", peak);
}

/* Tasks that stay inside until the test opens a gate.  Everything a
 * thread may still write after a failed assertion ends the test function is
 * static, so that a late write never lands in a dead stack frame. */
static struct gate release;
static struct peak_probe started;

static void *wait_for_release(void *unused)
{
    (void)unused;
    probe_enter(&started);
    gate_wait(&release, 15.0);
    probe_leave(&started);
    return NULL;
}

struct call {
    size_t count;
    void *(*task)(void *);
    int error;
};

static void *call_run_concurrently(void *raw)
{
    struct call *call = raw;
    call->error = run_concurrently(call->count, call->task, NULL);
    return NULL;
}

/* How long run_concurrently must not return while its tasks are held: one
 * that returns without joining does so within microseconds.  Short, since
 * while the test waits with a deadline this near the kit's hang watcher
 * cannot call a loop of the code under test a spin. */
static const double RETURN_EARLY_WINDOW = 0.5;

EXERCISE_TEST(start_join, returns_only_after_every_task_finished, 20,
              "run_concurrently never returned after its tasks finished")
{
    gate_init(&release);
    probe_init(&started);
    static struct call call;
    call = (struct call){4, wait_for_release, -1};
    static struct async_call async;
    async_start(&async, call_run_concurrently, &call);
    cr_assert(probe_wait_for_entered(&started, 4, 10.0),
              "only %d of 4 tasks started", probe_entered(&started));
    bool returned_early = async_wait(&async, RETURN_EARLY_WINDOW);
    gate_open(&release);
    cr_assert_not(returned_early, "run_concurrently returned while its "
                  "threads were still running: join every thread before "
                  "returning");
    cr_assert(async_wait(&async, 10.0), "run_concurrently did not return "
              "after its tasks finished");
    async_finish(&async);
    cr_assert_eq(call.error, 0);
}

/* Only the thread created `held_creation` is held at the gate. */
static int held_creation;
static struct peak_probe finished;

static void *hold_one_thread(void *unused)
{
    (void)unused;
    if (harness_creation_number() == held_creation)
        gate_wait(&release, 15.0);
    probe_enter(&finished);
    return NULL;
}

static void check_waits_for_created_thread(int which, const char *name)
{
    gate_init(&release);
    probe_init(&finished);
    held_creation = harness_pthread_create_calls() + which;
    static struct call call;
    call = (struct call){5, hold_one_thread, -1};
    static struct async_call async;
    async_start(&async, call_run_concurrently, &call);
    cr_assert(probe_wait_for_entered(&finished, 4, 10.0), "the tasks did not run");
    bool returned_early = async_wait(&async, RETURN_EARLY_WINDOW);
    gate_open(&release);
    cr_assert_not(returned_early, "run_concurrently returned while the %s "
                  "thread it created was still running: join every thread, "
                  "from the first to the last", name);
    cr_assert(async_wait(&async, 10.0), "run_concurrently never returned");
    async_finish(&async);
}

EXERCISE_TEST(start_join, waits_for_the_first_thread, 20,
              "run_concurrently never returned")
{
    check_waits_for_created_thread(0, "first");
}

EXERCISE_TEST(start_join, waits_for_the_last_thread, 20,
              "run_concurrently never returned")
{
    check_waits_for_created_thread(4, "last");
}

EXERCISE_TEST(start_join, failed_start_is_reported_after_joining_the_others, 20,
              "after a failed pthread_create, run_concurrently never returned: "
              "does it join only the threads that did start?")
{
    gate_init(&release);
    probe_init(&started);
    int calls_before = harness_pthread_create_calls();
    harness_fail_pthread_create_after(3);
    static struct call call;
    call = (struct call){6, wait_for_release, -1};
    static struct async_call async;
    async_start(&async, call_run_concurrently, &call);
    cr_assert(probe_wait_for_entered(&started, 3, 10.0), "the first 3 tasks did not start");
    bool returned_early = async_wait(&async, RETURN_EARLY_WINDOW);
    gate_open(&release);
    cr_assert_not(returned_early, "after pthread_create failed, "
                  "run_concurrently returned while the 3 threads it had "
                  "started were still running: join them first");
    cr_assert(async_wait(&async, 10.0), "run_concurrently never returned");
    async_finish(&async);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(call.error, EAGAIN, "run_concurrently returned %d when "
                 "pthread_create failed with EAGAIN (%d): return its error",
                 call.error, EAGAIN);
    int calls = harness_pthread_create_calls() - calls_before;
    cr_assert_eq(calls, 4, "pthread_create was called %d times: stop "
                 "starting threads after the first failure", calls);
}
