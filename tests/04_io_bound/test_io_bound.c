/* Tests for exercise 04: blocking tasks overlap, and blocking_wait sleeps. */
#define _GNU_SOURCE /* RUSAGE_THREAD */
#include "harness.h"
#include "io_bound.h"

#include <errno.h>
#include <signal.h>
#include <sys/resource.h>

#define MAX_TASKS 8

/* ---- tasks that record which argument they were given ---- */

static int argument_slots[MAX_TASKS]; /* task i gets &argument_slots[i] */
static pthread_mutex_t record_mutex = PTHREAD_MUTEX_INITIALIZER;
static int runs_with[MAX_TASKS];
static int foreign_arguments;

static void record_argument(void *argument)
{
    const int *slot = argument;
    pthread_mutex_lock(&record_mutex);
    if (slot >= argument_slots && slot < argument_slots + MAX_TASKS)
        runs_with[slot - argument_slots]++;
    else
        foreign_arguments++;
    pthread_mutex_unlock(&record_mutex);
}

EXERCISE_TEST(io_bound, runs_each_task_once_with_its_own_argument, 15,
              "run_blocking_tasks never returned: is every thread joined once?")
{
    struct blocking_task tasks[6];
    for (int i = 0; i < 6; i++)
        tasks[i] = (struct blocking_task){record_argument, &argument_slots[i]};
    /* Threads start running only once all six exist, so a thread that was
     * given the address of something the loop reuses reads it too late. */
    harness_hold_new_threads(6, 2.0);
    int error = run_blocking_tasks(tasks, 6, NULL);
    harness_hold_new_threads(-1, 0);
    cr_assert_eq(error, 0, "run_blocking_tasks returned %d, expected 0", error);
    pthread_mutex_lock(&record_mutex);
    int foreign = foreign_arguments, runs[6];
    for (int i = 0; i < 6; i++)
        runs[i] = runs_with[i];
    pthread_mutex_unlock(&record_mutex);
    cr_assert_eq(foreign, 0, "%d tasks were given an argument that is not "
                 "theirs: pass each thread its own task (&tasks[i]), not the "
                 "address of a variable the loop reuses", foreign);
    for (int i = 0; i < 6; i++)
        cr_assert_eq(runs[i], 1, "task %d ran %d times with its own argument "
                     "(expected once): does every thread get its own task, "
                     "tasks[i], and not the same one?", i, runs[i]);
}

EXERCISE_TEST(io_bound, zero_tasks_run_nothing, 10,
              "run_blocking_tasks(tasks, 0, ...) never returned")
{
    double elapsed = -1.0;
    cr_assert_eq(run_blocking_tasks(NULL, 0, &elapsed), 0,
                 "with no tasks run_blocking_tasks must return 0");
    cr_assert(elapsed >= 0.0 && elapsed < 0.5, "with no tasks the elapsed "
              "time was %.3f s, expected a little over 0", elapsed);
    cr_assert_eq(run_blocking_tasks(NULL, 0, NULL), 0,
                 "elapsed_seconds may be NULL");
}

/* ---- overlap, proven without a clock ---- */

static struct peak_probe overlap;

static void wait_for_all_five(void *unused)
{
    (void)unused;
    probe_enter_and_wait_for(&overlap, 5, 2.0);
    probe_leave(&overlap);
}

EXERCISE_TEST(io_bound, runs_all_tasks_at_the_same_time, 20,
              "run_blocking_tasks never returned")
{
    probe_init(&overlap);
    struct blocking_task tasks[5];
    for (int i = 0; i < 5; i++)
        tasks[i] = (struct blocking_task){wait_for_all_five, NULL};
    cr_assert_eq(run_blocking_tasks(tasks, 5, NULL), 0);
    int peak = probe_peak(&overlap);
    cr_assert_eq(peak, 5, "at most %d of 5 tasks were waiting at the same "
                 "time: run each task in its own thread, and start them all "
                 "before joining any", peak);
}

/* ---- the tutorial's measurement: waits that overlap ---- */

static void wait_for_seconds(void *seconds)
{
    blocking_wait(*(const double *)seconds);
}

EXERCISE_TEST(io_bound, three_half_second_waits_take_about_half_a_second, 15,
              "run_blocking_tasks never returned")
{
    double half = 0.5;
    struct blocking_task tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = (struct blocking_task){wait_for_seconds, &half};
    double elapsed = -1.0;
    cr_assert_eq(run_blocking_tasks(tasks, 3, &elapsed), 0);
    cr_assert(elapsed >= 0.49, "3 waits of 0.5 s reported %.3f s: the call "
              "must not return before its tasks have finished", elapsed);
    /* One after another they take 1.5 s; overlapped about 0.5 s.  The bound
     * leaves 0.75 s for a slow, loaded machine to start three threads. */
    cr_assert(elapsed < 1.25, "3 waits of 0.5 s took %.1f s, as if they ran "
              "one after another (1.5 s): their waits should overlap, about "
              "0.5 s in all", elapsed);
}

EXERCISE_TEST(io_bound, reports_the_wall_clock_time_of_the_whole_run, 15,
              "run_blocking_tasks never returned")
{
    double seconds[3] = {0.05, 0.3, 0.1};
    struct blocking_task tasks[3];
    for (int i = 0; i < 3; i++)
        tasks[i] = (struct blocking_task){wait_for_seconds, &seconds[i]};
    double elapsed = -1.0;
    double start = now_seconds();
    cr_assert_eq(run_blocking_tasks(tasks, 3, &elapsed), 0);
    double measured = now_seconds() - start;
    cr_assert(elapsed >= 0.295, "tasks of 0.05, 0.3 and 0.1 s reported %.3f s, "
              "less than the longest task: measure wall-clock time "
              "(clock_gettime(CLOCK_MONOTONIC); clock() counts CPU time, which "
              "sleeping threads do not use) from before the first start to "
              "after the last join", elapsed);
    cr_assert(elapsed <= measured + 0.01, "the call reported %.3f s, but it "
              "took %.3f s in all", elapsed, measured);
}

/* ---- the call returns only when every task is done ---- */

static struct gate release;
static struct peak_probe started;

static void wait_for_release(void *unused)
{
    (void)unused;
    probe_enter(&started);
    gate_wait(&release, 5.0);
}

struct call {
    struct blocking_task tasks[MAX_TASKS];
    size_t count;
    int error;
};

static void *call_run_blocking_tasks(void *raw)
{
    struct call *call = raw;
    call->error = run_blocking_tasks(call->tasks, call->count, NULL);
    return NULL;
}

static void start_gated_call(struct call *call, size_t count,
                             struct async_call *async)
{
    gate_init(&release);
    probe_init(&started);
    call->count = count;
    call->error = -1;
    for (size_t i = 0; i < count; i++)
        call->tasks[i] = (struct blocking_task){wait_for_release, NULL};
    async_start(async, call_run_blocking_tasks, call);
}

static bool wait_until_started(int wanted)
{
    return probe_wait_for_entered(&started, wanted, 2.0);
}

EXERCISE_TEST(io_bound, returns_only_after_every_task_finished, 20,
              "run_blocking_tasks never returned after its tasks finished")
{
    struct call call;
    struct async_call async;
    start_gated_call(&call, 4, &async);
    bool all_started = wait_until_started(4);
    int entered = probe_entered(&started);
    bool returned_early = async_wait(&async, all_started ? 0.5 : 0.0);
    gate_open(&release);
    cr_assert(all_started, "only %d of 4 waiting tasks started: they ran one "
              "after another; start them all before joining any", entered);
    cr_assert_not(returned_early, "run_blocking_tasks returned while its tasks "
                  "were still waiting: join every thread before returning");
    cr_assert(async_wait(&async, 10.0), "run_blocking_tasks did not return "
              "after its tasks finished");
    async_finish(&async);
    cr_assert_eq(call.error, 0);
}

EXERCISE_TEST(io_bound, failed_start_is_reported_after_the_started_tasks_finish,
              20, "after a failed pthread_create, run_blocking_tasks never "
              "returned: does it join only the threads that did start?")
{
    int calls_before = harness_pthread_create_calls();
    harness_fail_pthread_create_after(2);
    struct call call;
    struct async_call async;
    start_gated_call(&call, 5, &async);
    bool two_started = wait_until_started(2);
    int entered = probe_entered(&started);
    bool returned_early = async_wait(&async, two_started ? 0.5 : 0.0);
    gate_open(&release);
    cr_assert(two_started, "only %d task started before pthread_create "
              "failed on the third: start each task in its own thread, all "
              "before joining any", entered);
    cr_assert_not(returned_early, "after pthread_create failed, "
                  "run_blocking_tasks returned while the 2 tasks it had "
                  "started were still running: join them first");
    cr_assert(async_wait(&async, 10.0), "run_blocking_tasks never returned");
    async_finish(&async);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(call.error, EAGAIN, "run_blocking_tasks returned %d when "
                 "pthread_create failed with EAGAIN (%d): return its error",
                 call.error, EAGAIN);
    int calls = harness_pthread_create_calls() - calls_before;
    cr_assert_eq(calls, 3, "pthread_create was called %d times: stop "
                 "starting threads after the first failure", calls);
    cr_assert_eq(probe_entered(&started), 2, "%d tasks ran: the tasks after "
                 "the failed start must not run", probe_entered(&started));
}

/* ---- blocking_wait: a wait that sleeps ---- */

/* How often the calling thread has blocked (given up the CPU by itself). */
static long voluntary_switches(void)
{
    struct rusage usage;
    getrusage(RUSAGE_THREAD, &usage);
    return usage.ru_nvcsw;
}

EXERCISE_TEST(io_bound, blocking_wait_sleeps_without_using_the_cpu, 10,
              "blocking_wait(0.4) never returned")
{
    long switches_before = voluntary_switches();
    double cpu_before = thread_cpu_seconds(), start = now_seconds();
    blocking_wait(0.4);
    double cpu = thread_cpu_seconds() - cpu_before;
    double waited = now_seconds() - start;
    long switches = voluntary_switches() - switches_before;
    cr_assert(waited >= 0.39, "blocking_wait(0.4) returned after %.3f s",
              waited);
    /* A spinning wait never blocks, however loaded the machine is (then
     * it may get little CPU, but it never gives the CPU up by itself). */
    cr_assert(switches > 0, "blocking_wait(0.4) never blocked: it kept "
              "running, never giving up the CPU, instead of sleeping; a "
              "waiting thread should sleep (nanosleep), not check the clock "
              "in a loop");
    cr_assert(cpu < 0.05, "blocking_wait(0.4) kept the CPU busy for %.2f s: "
              "a waiting thread should sleep (nanosleep), not check the clock "
              "in a loop", cpu);
}

EXERCISE_TEST(io_bound, blocking_wait_handles_fractions_and_whole_seconds, 10,
              "blocking_wait never returned")
{
    const double asked[] = {0.1, 1.0};
    for (int i = 0; i < 2; i++) {
        double start = now_seconds();
        blocking_wait(asked[i]);
        double waited = now_seconds() - start;
        cr_assert(waited >= asked[i] - 0.005, "blocking_wait(%.2f) returned "
                  "after %.3f s: put the whole seconds in tv_sec and only the "
                  "fraction in tv_nsec (0 to 999999999), and keep the "
                  "fraction", asked[i], waited);
    }
}

static void ignore_signal(int number) { (void)number; }

static void *wait_four_tenths(void *unused)
{
    (void)unused;
    double start = now_seconds();
    blocking_wait(0.4);
    static double waited;
    waited = now_seconds() - start;
    return &waited;
}

EXERCISE_TEST(io_bound, blocking_wait_sleeps_on_after_a_signal, 10,
              "blocking_wait(0.4) never returned while signals arrived")
{
    struct sigaction action = {.sa_handler = ignore_signal};
    sigemptyset(&action.sa_mask);
    sigaction(SIGUSR1, &action, NULL);
    struct async_call async;
    async_start(&async, wait_four_tenths, NULL);
    /* Signals keep coming until the wait ends, so some arrive while the
     * thread sleeps, however late it fell asleep. */
    int sent = 0;
    while (!async_wait(&async, 0.05) && sent < 100) {
        pthread_kill(async.thread, SIGUSR1);
        sent++;
    }
    cr_assert(async_wait(&async, 5.0), "blocking_wait(0.4) never returned");
    async_finish(&async);
    double waited = *(const double *)async.result;
    cr_assert(waited >= 0.395, "blocking_wait(0.4) returned after %.3f s when "
              "a signal interrupted it: nanosleep then fails with EINTR and "
              "leaves the rest of the time in its second argument; sleep the "
              "rest", waited);
}
