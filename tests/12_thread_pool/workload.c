/*
 * Workload for exercise 12, for ThreadSanitizer and helgrind: several
 * threads submit to one pool at once, wait for their futures, call map and
 * free futures whose tasks may not have run yet; then the pool is shut
 * down, cancelling the queued tasks every other round, and the last
 * futures are read after the shutdown.  A task's result must reach whoever
 * waits for it through the pool's lock, and every task that ran must be
 * counted once the pool's workers have been joined.
 * Then, round after round, one thread submits while main shuts the pool
 * down: every future submit returned must settle, and a submit that reads
 * shutting_down without the lock is a data race the checkers report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   thread_pool_submit  x submit, workers, shutdown   main rounds (3
 *                         submitters); the submit-vs-shutdown rounds
 *   future_result       x workers settling, shutdown(cancel) settling
 *                         main rounds; test shutdown_with_cancel_wakes_
 *                         threads_already_waiting (waiters asleep first)
 *   future_free         x workers settling            main rounds (unwatched)
 *   thread_pool_map     x submit, workers             main rounds
 *   thread_pool_shutdown x submit, workers            submit-vs-shutdown
 *                         rounds; tests (queued and running tasks)
 *   create/destroy: before and after the other calls only (their contract).
 * Before: no submit ran at the same time as shutdown, and no thread was
 * already asleep in future_result when shutdown(cancel) settled its future.
 */
#include "thread_pool.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <time.h>

#define WORKERS 3
#define SUBMITTERS 3
#define TASKS 40       /* per submitter, waited for one by one */
#define MAPPED 8       /* per submitter, through thread_pool_map */
#define UNWATCHED 5    /* per submitter, freed without reading the result */
#define LATE 30        /* submitted just before the shutdown */

static pthread_mutex_t tally_lock = PTHREAD_MUTEX_INITIALIZER;
static long tasks_run;

static void *add_one(void *argument)
{
    pthread_mutex_lock(&tally_lock);
    tasks_run++;
    pthread_mutex_unlock(&tally_lock);
    return (void *)((intptr_t)argument + 1);
}

static void *as_pointer(intptr_t value) { return (void *)value; }

struct submitter {
    pthread_t thread;
    struct thread_pool *pool;
    intptr_t first_argument;
};

static void submit_and_wait(struct submitter *self)
{
    struct future *futures[TASKS];
    for (int i = 0; i < TASKS; i++) {
        int error = thread_pool_submit(self->pool, add_one,
                                       as_pointer(self->first_argument + i),
                                       &futures[i]);
        workload_check(error == 0, "thread_pool_submit returned %d", error);
    }
    for (int i = 0; i < TASKS; i++) {
        void *value = NULL;
        int error = future_result(futures[i], &value);
        workload_check(error == 0, "future_result returned %d", error);
        workload_check((intptr_t)value == self->first_argument + i + 1,
                       "a future gave %ld, expected %ld",
                       (long)(intptr_t)value,
                       (long)(self->first_argument + i + 1));
        future_free(futures[i]);
    }
}

static void map_some(struct submitter *self)
{
    void *arguments[MAPPED], *results[MAPPED];
    for (int i = 0; i < MAPPED; i++)
        arguments[i] = as_pointer(self->first_argument + i);
    int error = thread_pool_map(self->pool, add_one, arguments, results,
                                MAPPED);
    workload_check(error == 0, "thread_pool_map returned %d", error);
    for (int i = 0; i < MAPPED; i++)
        workload_check((intptr_t)results[i] == self->first_argument + i + 1,
                       "thread_pool_map: results[%d] is %ld, expected %ld", i,
                       (long)(intptr_t)results[i],
                       (long)(self->first_argument + i + 1));
}

static void free_unwatched(struct submitter *self)
{
    for (int i = 0; i < UNWATCHED; i++) {
        struct future *future = NULL;
        int error = thread_pool_submit(self->pool, add_one, NULL, &future);
        workload_check(error == 0, "thread_pool_submit returned %d", error);
        future_free(future); /* may run before the task does */
    }
}

static void *submitter_main(void *raw)
{
    struct submitter *self = raw;
    submit_and_wait(self);
    map_some(self);
    free_unwatched(self);
    return NULL;
}

/* Submits LATE tasks, shuts down, and checks every future settled.
 * Returns how many of those tasks ran. */
static long shut_down_with_late_tasks(struct thread_pool *pool, bool cancel)
{
    struct future *late[LATE];
    for (int i = 0; i < LATE; i++) {
        int error = thread_pool_submit(pool, add_one, as_pointer(i), &late[i]);
        workload_check(error == 0, "thread_pool_submit returned %d", error);
    }
    int error = thread_pool_shutdown(pool, cancel);
    workload_check(error == 0, "thread_pool_shutdown returned %d", error);
    struct future *refused = as_pointer(1);
    error = thread_pool_submit(pool, add_one, NULL, &refused);
    workload_check(error == ESHUTDOWN && refused == NULL,
                   "thread_pool_submit after shutdown returned %d", error);

    long done = 0;
    for (int i = 0; i < LATE; i++) {
        void *value = NULL;
        error = future_result(late[i], &value);
        if (error == 0) {
            workload_check((intptr_t)value == i + 1, "a late task gave %ld",
                           (long)(intptr_t)value);
            done++;
        } else {
            workload_check(error == ECANCELED && cancel,
                           "future_result after shutdown(%s) returned %d",
                           cancel ? "cancel" : "wait", error);
        }
        future_free(late[i]);
    }
    thread_pool_destroy(pool);
    return done;
}

/* ---- submit raced against shutdown ------------------------------------ */
#define RACED 300

struct raced_submitter {
    struct thread_pool *pool;
    struct future *futures[RACED];
    int submitted;
};

static void *submit_until_shut_down(void *raw)
{
    struct raced_submitter *self = raw;
    while (self->submitted < RACED) {
        struct future *future = NULL;
        int error = thread_pool_submit(self->pool, add_one, NULL, &future);
        if (error == ESHUTDOWN)
            break;
        workload_check(error == 0, "thread_pool_submit returned %d", error);
        self->futures[self->submitted++] = future;
    }
    return NULL;
}

/* Reads every future in a thread of its own, so that main can give up on
 * one that never settles instead of hanging. */
static pthread_mutex_t collected_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t collected_cond = PTHREAD_COND_INITIALIZER;
static bool collected;

static void *collect_futures(void *raw)
{
    struct raced_submitter *self = raw;
    for (int i = 0; i < self->submitted; i++) {
        int error = future_result(self->futures[i], NULL);
        workload_check(error == 0 || error == ECANCELED,
                       "future_result after a raced shutdown returned %d",
                       error);
    }
    pthread_mutex_lock(&collected_lock);
    collected = true;
    pthread_cond_signal(&collected_cond);
    pthread_mutex_unlock(&collected_lock);
    return NULL;
}

static bool collected_within(int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&collected_lock);
    while (!collected && pthread_cond_timedwait(&collected_cond,
                                                &collected_lock,
                                                &deadline) == 0) {
    }
    bool done = collected;
    collected = false;
    pthread_mutex_unlock(&collected_lock);
    return done;
}

static void race_submit_against_shutdown(bool cancel)
{
    static struct raced_submitter submitter;
    submitter = (struct raced_submitter){.submitted = 0};
    int error = thread_pool_create(&submitter.pool, 2);
    workload_check(error == 0, "thread_pool_create returned %d", error);
    pthread_t thread, collector;
    error = pthread_create(&thread, NULL, submit_until_shut_down, &submitter);
    workload_check(error == 0, "pthread_create returned %d", error);
    error = thread_pool_shutdown(submitter.pool, cancel);
    workload_check(error == 0, "thread_pool_shutdown returned %d", error);
    pthread_join(thread, NULL);
    error = pthread_create(&collector, NULL, collect_futures, &submitter);
    workload_check(error == 0, "pthread_create returned %d", error);
    workload_check(collected_within(workload_rounds(10, 60)),
                   "a future that thread_pool_submit returned while "
                   "thread_pool_shutdown ran was never settled: submit must "
                   "check shutting_down and queue the task under the same "
                   "lock that shutdown sets it under");
    pthread_join(collector, NULL);
    for (int i = 0; i < submitter.submitted; i++)
        future_free(submitter.futures[i]);
    thread_pool_destroy(submitter.pool);
}

int main(void)
{
    const int rounds = workload_rounds(150, 6);
    for (int round = 0; round < rounds; round++) {
        long before = tasks_run; /* no lock: the last pool was shut down */
        struct thread_pool *pool = NULL;
        int error = thread_pool_create(&pool, WORKERS);
        workload_check(error == 0, "thread_pool_create returned %d", error);

        struct submitter submitters[SUBMITTERS];
        for (int i = 0; i < SUBMITTERS; i++) {
            submitters[i] = (struct submitter){.pool = pool,
                                               .first_argument = 1000 * i};
            error = pthread_create(&submitters[i].thread, NULL,
                                   submitter_main, &submitters[i]);
            workload_check(error == 0, "pthread_create returned %d", error);
        }
        for (int i = 0; i < SUBMITTERS; i++)
            pthread_join(submitters[i].thread, NULL);

        long late_done = shut_down_with_late_tasks(pool, round % 2 == 1);
        long expected = SUBMITTERS * (TASKS + MAPPED + UNWATCHED) + late_done;
        workload_check(tasks_run - before == expected,
                       "round %d: %ld tasks ran, expected %ld", round,
                       tasks_run - before, expected);
    }
    const int raced_rounds = workload_rounds(30, 3);
    for (int round = 0; round < raced_rounds; round++)
        race_submit_against_shutdown(round % 2 == 1);
    workload_finished();
    return 0;
}
