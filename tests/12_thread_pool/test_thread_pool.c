/* Tests for exercise 12: a thread pool with futures. */
#include "harness.h"
#include "thread_pool.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

/* How long something that takes microseconds may take on a loaded machine
 * before a test calls it stuck: only wrong code ever waits this long. */
#define PROMPTLY 3.0

/* ---- tasks ------------------------------------------------------------ */

static pthread_mutex_t runs_mutex = PTHREAD_MUTEX_INITIALIZER;
static int runs; /* how many tasks ran, all kinds together */

static void count_run(void)
{
    pthread_mutex_lock(&runs_mutex);
    runs++;
    pthread_mutex_unlock(&runs_mutex);
}

static int runs_so_far(void)
{
    pthread_mutex_lock(&runs_mutex);
    int count = runs;
    pthread_mutex_unlock(&runs_mutex);
    return count;
}

/* The thread that calls submit or map.  A task that finds itself running
 * there (not on a worker) does not block, so that such a pool fails at
 * once with a clear message instead of after a time-out. */
static pthread_mutex_t caller_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_t calling_thread;
static bool calling_thread_known;
static int runs_on_calling_thread;

static void set_calling_thread(void)
{
    pthread_mutex_lock(&caller_mutex);
    calling_thread = pthread_self();
    calling_thread_known = true;
    pthread_mutex_unlock(&caller_mutex);
}

static bool runs_on_calling_thread_now(void)
{
    pthread_mutex_lock(&caller_mutex);
    bool same = calling_thread_known &&
                pthread_equal(calling_thread, pthread_self());
    if (same)
        runs_on_calling_thread++;
    pthread_mutex_unlock(&caller_mutex);
    return same;
}

static void check_tasks_ran_on_workers(const char *caller)
{
    pthread_mutex_lock(&caller_mutex);
    int count = runs_on_calling_thread;
    pthread_mutex_unlock(&caller_mutex);
    cr_assert_eq(count, 0, "%d task(s) ran on the thread that called %s, "
                 "not on a worker thread: queue each task, return, and let "
                 "the pool's workers run it", count, caller);
}

static void *as_pointer(intptr_t value) { return (void *)value; }
static intptr_t as_number(void *pointer) { return (intptr_t)pointer; }

static void *double_it(void *argument)
{
    count_run();
    return as_pointer(2 * as_number(argument));
}

/* A task that stays running until the test opens `release`. */
static struct gate release;
static struct peak_probe started;

static void *wait_for_release(void *argument)
{
    probe_enter(&started);
    if (!runs_on_calling_thread_now())
        gate_wait(&release, 15.0);
    count_run();
    return argument;
}

/* A task that waits (at most 3 s) until `wanted_at_once` tasks run at once. */
static struct peak_probe overlap;
static int wanted_at_once;

static void *wait_for_the_others(void *argument)
{
    if (runs_on_calling_thread_now())
        probe_enter(&overlap);
    else
        probe_enter_and_wait_for(&overlap, wanted_at_once, 3.0);
    probe_leave(&overlap);
    count_run();
    return argument;
}

/* ---- helpers ---------------------------------------------------------- */

/* Not needed by a right pool: lets every worker reach its wait, so that
 * each task needs a wake-up and a lost one fails every run. */
static void let_workers_go_idle(void) { sleep_seconds(0.2); }

static double process_cpu_seconds(void)
{
    struct timespec used;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &used);
    return (double)used.tv_sec + (double)used.tv_nsec / 1e9;
}

static struct thread_pool *create_pool(size_t workers)
{
    struct thread_pool *pool = NULL;
    int error = thread_pool_create(&pool, workers);
    cr_assert_eq(error, 0, "thread_pool_create(%zu) returned %d, expected 0",
                 workers, error);
    cr_assert_not_null(pool, "thread_pool_create returned 0 but no pool");
    return pool;
}

static struct future *submit(struct thread_pool *pool, pool_task task,
                             intptr_t argument)
{
    struct future *future = NULL;
    set_calling_thread();
    int error = thread_pool_submit(pool, task, as_pointer(argument), &future);
    cr_assert_eq(error, 0, "thread_pool_submit returned %d, expected 0",
                 error);
    cr_assert_not_null(future, "thread_pool_submit returned 0 but no future");
    return future;
}

/* Calls run in their own thread, so that the test can wait with a deadline
 * (or check that they have not returned).  Their records live on the heap:
 * a call that never returns is left behind when the test fails. */
struct pool_call {
    struct thread_pool *pool;
    pool_task task;
    intptr_t argument;
    bool cancel;
    struct future *future;
    void *value;
    int error;
    double cpu_seconds;
    struct async_call async;
};

static struct pool_call *new_call(void)
{
    struct pool_call *call = calloc(1, sizeof *call);
    cr_assert_not_null(call);
    call->error = -1;
    return call;
}

static void *call_submit(void *raw)
{
    struct pool_call *call = raw;
    set_calling_thread();
    call->error = thread_pool_submit(call->pool, call->task,
                                     as_pointer(call->argument),
                                     &call->future);
    return NULL;
}

static void *call_future_result(void *raw)
{
    struct pool_call *call = raw;
    double before = thread_cpu_seconds();
    call->error = future_result(call->future, &call->value);
    call->cpu_seconds = thread_cpu_seconds() - before;
    return NULL;
}

static void *call_shutdown(void *raw)
{
    struct pool_call *call = raw;
    call->error = thread_pool_shutdown(call->pool, call->cancel);
    return NULL;
}

static void *call_create(void *raw)
{
    struct pool_call *call = raw;
    call->error = thread_pool_create(&call->pool, (size_t)call->argument);
    return NULL;
}

/* Submits a task that blocks; submit itself must return at once. */
static struct future *submit_promptly(struct thread_pool *pool, pool_task task,
                                      intptr_t argument)
{
    struct pool_call *call = new_call();
    *call = (struct pool_call){.pool = pool, .task = task,
                               .argument = argument, .error = -1};
    async_start(&call->async, call_submit, call);
    cr_assert(async_wait(&call->async, PROMPTLY), "thread_pool_submit did "
              "not return while its task was still running: submit must "
              "queue the task for a worker thread and return at once, not "
              "run the task itself");
    async_finish(&call->async);
    check_tasks_ran_on_workers("thread_pool_submit");
    cr_assert_eq(call->error, 0, "thread_pool_submit returned %d, expected 0",
                 call->error);
    struct future *future = call->future;
    free(call);
    return future;
}

static struct pool_call *start_future_result(struct future *future)
{
    struct pool_call *call = new_call();
    call->future = future;
    async_start(&call->async, call_future_result, call);
    return call;
}

static struct pool_call *start_shutdown(struct thread_pool *pool, bool cancel)
{
    struct pool_call *call = new_call();
    call->pool = pool;
    call->cancel = cancel;
    async_start(&call->async, call_shutdown, call);
    return call;
}

static void *call_destroy(void *raw)
{
    struct pool_call *call = raw;
    thread_pool_destroy(call->pool);
    return NULL;
}

/* Clean-up at the end of a test that is not about shutdown: a destroy that
 * hangs is for the shutdown tests to report, so this waits only briefly and
 * leaves it behind. */
static void destroy_pool(struct thread_pool *pool)
{
    struct pool_call *call = new_call();
    call->pool = pool;
    async_start(&call->async, call_destroy, call);
    if (async_wait(&call->async, 1.0)) {
        async_finish(&call->async);
        free(call);
    }
}

/* The future's result, which must come within PROMPTLY seconds. */
static intptr_t result_of(struct future *future, const char *which)
{
    struct pool_call *call = start_future_result(future);
    cr_assert(async_wait(&call->async, PROMPTLY), "the future of %s was not "
              "settled %.0f s later: is a worker woken for every submitted "
              "task, and does it stay alive while tasks are queued?",
              which, PROMPTLY);
    async_finish(&call->async);
    cr_assert_eq(call->error, 0, "future_result of %s returned %d, expected "
                 "0 (the task ran)", which, call->error);
    intptr_t value = as_number(call->value);
    free(call);
    return value;
}

/* ---- tests ------------------------------------------------------------ */

EXERCISE_TEST(thread_pool, returns_each_task_result, 30,
              "future_result never returned: is every task run?")
{
    struct thread_pool *pool = create_pool(2);
    struct future *futures[20];
    for (int i = 0; i < 20; i++)
        futures[i] = submit(pool, double_it, i);
    for (int i = 0; i < 20; i++) {
        intptr_t value = result_of(futures[i], "a task");
        cr_assert_eq(value, 2 * i, "task %d (which returns twice its "
                     "argument) gave %ld, expected %d: is each future given "
                     "its own task's result?", i, (long)value, 2 * i);
        future_free(futures[i]);
    }
    cr_assert_eq(runs_so_far(), 20, "20 tasks were submitted but %d ran",
                 runs_so_far());
    destroy_pool(pool);
}

EXERCISE_TEST(thread_pool, creates_exactly_max_workers_threads, 30,
              "future_result or thread_pool_destroy never returned")
{
    int baseline = count_process_threads();
    struct thread_pool *pool = create_pool(3);
    int after_create = count_process_threads() - baseline;
    cr_assert_eq(after_create, 3, "thread_pool_create(3) left %d new threads "
                 "running, expected exactly 3 workers: start them all in "
                 "create (not lazily, not one per task)", after_create);
    struct future *futures[12];
    for (int i = 0; i < 12; i++)
        futures[i] = submit(pool, double_it, i);
    for (int i = 0; i < 12; i++) {
        result_of(futures[i], "a task");
        future_free(futures[i]);
    }
    int after_tasks = count_process_threads() - baseline;
    cr_assert_eq(after_tasks, 3, "after 12 tasks the pool has %d threads, "
                 "expected still 3: the same workers run every task, and a "
                 "worker leaves its loop only at shutdown",
                 after_tasks);
    destroy_pool(pool);
}

EXERCISE_TEST(thread_pool, runs_max_workers_tasks_at_the_same_time, 30,
              "the tasks or thread_pool_destroy never returned")
{
    probe_init(&overlap);
    wanted_at_once = 4;
    struct thread_pool *pool = create_pool(4);
    let_workers_go_idle();
    struct future *futures[4];
    for (int i = 0; i < 4; i++)
        futures[i] = submit(pool, wait_for_the_others, i);
    for (int i = 0; i < 4; i++) {
        result_of(futures[i], "a task");
        future_free(futures[i]);
    }
    check_tasks_ran_on_workers("thread_pool_submit");
    int peak = probe_peak(&overlap);
    cr_assert_eq(peak, 4, "only %d of 4 tasks ran at the same time on 4 "
                 "workers: every submit must wake a worker (signal each "
                 "time, not only when the queue was empty), and workers run "
                 "tasks with the mutex unlocked", peak);
    destroy_pool(pool);
}

EXERCISE_TEST(thread_pool, future_result_waits_for_the_task, 30,
              "future_result or submit never returned")
{
    gate_init(&release);
    probe_init(&started);
    struct thread_pool *pool = create_pool(1);
    struct future *future = submit_promptly(pool, wait_for_release, 42);
    cr_assert(probe_wait_for_entered(&started, 1, PROMPTLY),
              "the task never started: is a worker woken when a task is "
              "submitted?");
    struct pool_call *call = start_future_result(future);
    bool returned_early = async_wait(&call->async, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "future_result returned (with %d) while "
                  "its task was still running: wait until the future is "
                  "settled, in a while loop (wake-ups can be spurious)",
                  returned_early ? call->error : 0);
    cr_assert(async_wait(&call->async, PROMPTLY), "future_result did not "
              "return after its task finished: does the worker wake the "
              "future's waiters (broadcast) when it stores the result?");
    async_finish(&call->async);
    cr_assert_eq(call->error, 0, "future_result returned %d, expected 0",
                 call->error);
    cr_assert_eq(as_number(call->value), 42, "future_result gave %ld, "
                 "expected the task's return value 42",
                 (long)as_number(call->value));
    cr_assert(call->cpu_seconds < 0.1, "future_result used %.2f s of CPU "
              "while it waited half a second: sleep on a condition "
              "variable, do not poll", call->cpu_seconds);
    future_free(future);
    destroy_pool(pool);
}

static void *call_future_free(void *raw)
{
    struct pool_call *call = raw;
    future_free(call->future);
    return NULL;
}

EXERCISE_TEST(thread_pool, future_free_waits_for_the_task, 30,
              "future_free or submit never returned")
{
    gate_init(&release);
    probe_init(&started);
    struct thread_pool *pool = create_pool(1);
    struct future *future = submit_promptly(pool, wait_for_release, 5);
    cr_assert(probe_wait_for_entered(&started, 1, PROMPTLY),
              "the task never started: is a worker woken when a task is "
              "submitted?");
    struct pool_call *call = new_call();
    call->future = future;
    async_start(&call->async, call_future_free, call);
    bool returned_early = async_wait(&call->async, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "future_free returned while the future's "
                  "task was still running: the worker writes the result "
                  "into the future when the task ends, so wait until it is "
                  "settled before freeing it");
    cr_assert(async_wait(&call->async, PROMPTLY), "future_free did not "
              "return after its task finished");
    async_finish(&call->async);
    destroy_pool(pool);
}

/* Task 0 waits until every other task has finished, so it finishes last. */
#define MAPPED 12
static struct peak_probe finished;

static void *square_plus_one(void *argument)
{
    intptr_t n = as_number(argument);
    bool on_calling_thread = runs_on_calling_thread_now();
    if (n == 0 && !on_calling_thread)
        probe_wait_for_entered(&finished, MAPPED - 1, 3.0);
    count_run();
    probe_enter(&finished);
    return as_pointer(n * n + 1);
}

struct map_call {
    struct thread_pool *pool;
    pool_task task;
    void **arguments;
    void **results;
    size_t count;
    int error;
};

static void *call_map(void *raw)
{
    struct map_call *call = raw;
    set_calling_thread();
    call->error = thread_pool_map(call->pool, call->task, call->arguments,
                                  call->results, call->count);
    return NULL;
}

static struct map_call *map_within(struct thread_pool *pool, pool_task task,
                                   size_t count, double seconds)
{
    struct map_call *call = calloc(1, sizeof *call);
    cr_assert_not_null(call);
    call->pool = pool;
    call->task = task;
    call->count = count;
    call->error = -1;
    call->arguments = calloc(count, sizeof *call->arguments);
    call->results = calloc(count, sizeof *call->results);
    cr_assert(call->arguments && call->results);
    for (size_t i = 0; i < count; i++)
        call->arguments[i] = as_pointer((intptr_t)i);
    struct async_call *async = malloc(sizeof *async);
    cr_assert_not_null(async);
    async_start(async, call_map, call);
    cr_assert(async_wait(async, seconds), "thread_pool_map never returned: "
              "are its tasks run, and does it wait for each one once?");
    async_finish(async);
    free(async);
    check_tasks_ran_on_workers("thread_pool_map");
    cr_assert_eq(call->error, 0, "thread_pool_map returned %d, expected 0",
                 call->error);
    return call;
}

EXERCISE_TEST(thread_pool, map_returns_results_in_input_order, 30,
              "thread_pool_map never returned")
{
    probe_init(&finished);
    struct thread_pool *pool = create_pool(3);
    struct map_call *call = map_within(pool, square_plus_one, MAPPED,
                                       PROMPTLY + 3.0);
    for (intptr_t i = 0; i < MAPPED; i++) {
        intptr_t value = as_number(call->results[i]);
        cr_assert_eq(value, i * i + 1, "results[%ld] is %ld, expected %ld "
                     "(the task's result for arguments[%ld]; task 0 finished "
                     "last): map returns results in input order, not in the "
                     "order the tasks finished", (long)i, (long)value,
                     (long)(i * i + 1), (long)i);
    }
    cr_assert_eq(runs_so_far(), MAPPED, "%d tasks ran for %d arguments",
                 runs_so_far(), MAPPED);
    int error = thread_pool_map(pool, square_plus_one, call->arguments,
                                call->results, 0);
    cr_assert_eq(error, 0, "thread_pool_map with count 0 returned %d, "
                 "expected 0", error);
    cr_assert_eq(runs_so_far(), MAPPED, "thread_pool_map with count 0 ran "
                 "a task");
    destroy_pool(pool);
}

EXERCISE_TEST(thread_pool, map_runs_tasks_at_the_same_time, 30,
              "thread_pool_map never returned")
{
    probe_init(&overlap);
    wanted_at_once = 3;
    struct thread_pool *pool = create_pool(3);
    map_within(pool, wait_for_the_others, 3, PROMPTLY + 3.0);
    int peak = probe_peak(&overlap);
    cr_assert_eq(peak, 3, "thread_pool_map ran at most %d of 3 tasks at the "
                 "same time on 3 workers: submit every task first, then "
                 "collect the results", peak);
    destroy_pool(pool);
}

EXERCISE_TEST(thread_pool, shutdown_runs_every_queued_task, 30,
              "thread_pool_shutdown or future_result never returned")
{
    gate_init(&release);
    probe_init(&started);
    int baseline = count_process_threads();
    struct thread_pool *pool = create_pool(2);
    struct future *held[2], *queued[6];
    for (int i = 0; i < 2; i++)
        held[i] = submit_promptly(pool, wait_for_release, 100 + i);
    cr_assert(probe_wait_for_entered(&started, 2, PROMPTLY),
              "only %d of 2 tasks started on 2 workers",
              probe_entered(&started));
    for (int i = 0; i < 6; i++)
        queued[i] = submit(pool, double_it, i);
    struct pool_call *shutdown = start_shutdown(pool, false);
    bool returned_early = async_wait(&shutdown->async, 0.5);
    gate_open(&release);
    cr_assert_not(returned_early, "thread_pool_shutdown returned while 2 "
                  "tasks were still running and 6 were queued: it must join "
                  "every worker, and a worker may end only when the queue "
                  "is empty");
    cr_assert(async_wait(&shutdown->async, PROMPTLY), "thread_pool_shutdown "
              "never returned after its tasks finished: is every worker "
              "woken to see the shutdown flag (broadcast)?");
    async_finish(&shutdown->async);
    cr_assert_eq(shutdown->error, 0, "thread_pool_shutdown returned %d, "
                 "expected 0", shutdown->error);
    for (int i = 0; i < 6; i++) {
        intptr_t value = result_of(queued[i], "a task queued before "
                                   "shutdown(wait)");
        cr_assert_eq(value, 2 * i, "a queued task gave %ld, expected %d",
                     (long)value, 2 * i);
        future_free(queued[i]);
    }
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(result_of(held[i], "a running task"), 100 + i);
        future_free(held[i]);
    }
    cr_assert_eq(runs_so_far(), 8, "%d of 8 tasks ran: shutdown without "
                 "cancel runs every queued task", runs_so_far());
    cr_assert(wait_for_thread_count(baseline, PROMPTLY), "%d threads were "
              "still running after thread_pool_shutdown returned: join every "
              "worker", count_process_threads() - baseline);
    thread_pool_destroy(pool);
}

EXERCISE_TEST(thread_pool, shutdown_wakes_every_idle_worker, 30,
              "thread_pool_shutdown never returned")
{
    int baseline = count_process_threads();
    struct thread_pool *pool = create_pool(4);
    let_workers_go_idle();
    struct pool_call *shutdown = start_shutdown(pool, false);
    cr_assert(async_wait(&shutdown->async, PROMPTLY), "thread_pool_shutdown "
              "did not return with 4 idle workers: set the flag, then wake "
              "them all with pthread_cond_broadcast (a signal wakes only "
              "one), and let each worker's loop end when it sees the flag");
    async_finish(&shutdown->async);
    cr_assert_eq(shutdown->error, 0);
    cr_assert(wait_for_thread_count(baseline, PROMPTLY), "%d threads were "
              "still running after thread_pool_shutdown returned: join every "
              "worker", count_process_threads() - baseline);
    thread_pool_destroy(pool);
}

EXERCISE_TEST(thread_pool, shutdown_with_cancel_settles_queued_futures, 30,
              "thread_pool_shutdown or future_result never returned")
{
    gate_init(&release);
    probe_init(&started);
    struct thread_pool *pool = create_pool(1);
    struct future *held = submit_promptly(pool, wait_for_release, 7);
    cr_assert(probe_wait_for_entered(&started, 1, PROMPTLY),
              "the first task never started");
    struct future *queued[3];
    for (int i = 0; i < 3; i++)
        queued[i] = submit(pool, double_it, i);
    struct pool_call *shutdown = start_shutdown(pool, true);
    for (int i = 0; i < 3; i++) {
        struct pool_call *call = start_future_result(queued[i]);
        bool settled = async_wait(&call->async, PROMPTLY);
        if (!settled)
            gate_open(&release);
        cr_assert(settled, "a queued task's future was still not settled "
                  "%.0f s after shutdown(cancel) began, while another task "
                  "kept running: cancel every queued task at once (mark its "
                  "future cancelled, wake its waiters), before joining the "
                  "workers", PROMPTLY);
        async_finish(&call->async);
        if (call->error != ECANCELED)
            gate_open(&release);
        cr_assert_eq(call->error, ECANCELED, "future_result of a task that "
                     "shutdown(cancel) dropped returned %d, expected "
                     "ECANCELED (%d)", call->error, ECANCELED);
        future_free(queued[i]);
        free(call);
    }
    bool still_running = !async_is_done(&shutdown->async);
    gate_open(&release);
    cr_assert(still_running, "thread_pool_shutdown(cancel) returned while a "
              "task was still running: it cancels the queued tasks but must "
              "still join the workers");
    cr_assert(async_wait(&shutdown->async, PROMPTLY), "thread_pool_shutdown "
              "never returned after the running task finished");
    async_finish(&shutdown->async);
    cr_assert_eq(result_of(held, "the task that was running"), 7);
    future_free(held);
    cr_assert_eq(runs_so_far(), 1, "%d tasks ran: after shutdown(cancel) "
                 "only the task that was already running may finish, the 3 "
                 "queued ones must not run", runs_so_far());
    thread_pool_destroy(pool);
}

EXERCISE_TEST(thread_pool, shutdown_with_cancel_wakes_threads_already_waiting,
              30, "thread_pool_shutdown or future_result never returned")
{
    gate_init(&release);
    probe_init(&started);
    struct thread_pool *pool = create_pool(1);
    struct future *held = submit_promptly(pool, wait_for_release, 7);
    cr_assert(probe_wait_for_entered(&started, 1, PROMPTLY),
              "the first task never started");
    /* The worker sleeps at the test's gate; now three threads wait for the
     * queued futures, and the test makes sure they are asleep in a
     * condition wait before it shuts the pool down: a cancel that marks the
     * futures but wakes nobody leaves them asleep. */
    int asleep_before = harness_wait_until_sleeping(1, PROMPTLY) ? 1 : 0;
    struct future *queued[3];
    struct pool_call *waiters[3];
    for (int i = 0; i < 3; i++) {
        queued[i] = submit(pool, double_it, i);
        waiters[i] = start_future_result(queued[i]);
    }
    bool all_asleep = harness_wait_until_sleeping(asleep_before + 3, PROMPTLY);
    struct pool_call *shutdown = start_shutdown(pool, true);
    bool all_woken = true;
    for (int i = 0; i < 3; i++)
        all_woken = async_wait(&waiters[i]->async, PROMPTLY) && all_woken;
    gate_open(&release);
    cr_assert(all_asleep, "the threads calling future_result for queued "
              "tasks did not wait in pthread_cond_wait (did future_result "
              "return before the task ran, or spin?)");
    cr_assert(all_woken, "threads asleep in future_result for queued tasks "
              "were still asleep %.0f s after shutdown(cancel) marked their "
              "futures cancelled: wake them (pthread_cond_broadcast on the "
              "condition future_result waits on) when you cancel, not only "
              "when a task finishes", PROMPTLY);
    for (int i = 0; i < 3; i++) {
        async_finish(&waiters[i]->async);
        cr_assert_eq(waiters[i]->error, ECANCELED, "future_result of a task "
                     "that shutdown(cancel) dropped returned %d, expected "
                     "ECANCELED (%d)", waiters[i]->error, ECANCELED);
        future_free(queued[i]);
        free(waiters[i]);
    }
    cr_assert(async_wait(&shutdown->async, PROMPTLY), "thread_pool_shutdown "
              "never returned after the running task finished");
    async_finish(&shutdown->async);
    cr_assert_eq(result_of(held, "the task that was running"), 7);
    future_free(held);
    thread_pool_destroy(pool);
}

EXERCISE_TEST(thread_pool, submit_after_shutdown_is_an_error, 30,
              "thread_pool_shutdown or submit never returned")
{
    struct thread_pool *pool = create_pool(2);
    int error = thread_pool_shutdown(pool, false);
    cr_assert_eq(error, 0, "thread_pool_shutdown returned %d, expected 0",
                 error);
    struct future *future = as_pointer(1);
    error = thread_pool_submit(pool, double_it, NULL, &future);
    cr_assert_eq(error, ESHUTDOWN, "thread_pool_submit after shutdown "
                 "returned %d, expected ESHUTDOWN (%d)", error, ESHUTDOWN);
    cr_assert_null(future, "a failed thread_pool_submit must set *future to "
                   "NULL");
    void *arguments[2] = {NULL, NULL}, *results[2];
    error = thread_pool_map(pool, double_it, arguments, results, 2);
    cr_assert_eq(error, ESHUTDOWN, "thread_pool_map after shutdown returned "
                 "%d, expected ESHUTDOWN (%d)", error, ESHUTDOWN);
    cr_assert_eq(runs_so_far(), 0, "a task submitted after shutdown ran");
    error = thread_pool_shutdown(pool, false);
    cr_assert_eq(error, EINVAL, "a second thread_pool_shutdown returned %d, "
                 "expected EINVAL (%d)", error, EINVAL);
    thread_pool_destroy(pool);
}

EXERCISE_TEST(thread_pool, failed_thread_start_leaves_no_thread, 30,
              "thread_pool_create never returned after a failed "
              "pthread_create: does it join only the workers that started?")
{
    int baseline = count_process_threads();
    int calls_before = harness_pthread_create_calls();
    harness_fail_pthread_create_after(2);
    struct pool_call *create = new_call();
    create->argument = 4;
    create->pool = as_pointer(1);
    async_start(&create->async, call_create, create);
    cr_assert(async_wait(&create->async, PROMPTLY), "thread_pool_create "
              "never returned after its third pthread_create failed: set the "
              "shutdown flag, wake the 2 workers it started and join them");
    async_finish(&create->async);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(create->error, EAGAIN, "thread_pool_create returned %d when "
                 "pthread_create failed with EAGAIN (%d): return its error",
                 create->error, EAGAIN);
    cr_assert_null(create->pool, "a failed thread_pool_create must set *pool "
                   "to NULL");
    int calls = harness_pthread_create_calls() - calls_before;
    cr_assert_eq(calls, 3, "pthread_create was called %d times: stop "
                 "starting workers after the first failure", calls);
    cr_assert(wait_for_thread_count(baseline, PROMPTLY), "%d threads were "
              "left running after thread_pool_create failed: stop and join "
              "the workers it had started",
              count_process_threads() - baseline);
}

EXERCISE_TEST(thread_pool, idle_workers_sleep, 30,
              "thread_pool_destroy never returned")
{
    struct thread_pool *pool = create_pool(4);
    let_workers_go_idle();
    double before = process_cpu_seconds();
    sleep_seconds(0.5);
    double used = process_cpu_seconds() - before;
    cr_assert(used < 0.05, "4 idle workers used %.2f s of CPU in 0.5 s: while "
              "the queue is empty they should sleep in pthread_cond_wait, not "
              "poll the queue", used);
    destroy_pool(pool);
}
