/*
 * Workload for exercise 09, for ThreadSanitizer and helgrind.
 *  - held: two joiners time out on tasks held at a latch, then, once the
 *    tasks are let go, both join each task again: exactly one gets 0 and
 *    reads the task's output without a lock (safe only if `finished` is
 *    published under the mutex), the other gets EINVAL;
 *  - racing (not under valgrind): joiners poll with tiny timeouts, so
 *    timeouts, the thread's announcement and the claim race each other;
 *  - each other: two threads time-join each other and both time out.
 * Every thread must end up joined: TSan reports leaked threads.
 *
 * Under helgrind no timed wait may time out while a broadcast on the same
 * condition is in flight: glibc then sends a replacement signal from inside
 * pthread_cond_timedwait without the mutex, which helgrind reports.  So the
 * timeouts of the first and last parts happen while the tasks are held.
 */
#include "timed_join.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <time.h>

enum { JOBS = 4, JOINERS = 2 };

/* A countdown latch: threads arrive, and wait until `count` have arrived. */
struct latch {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int arrived;
    int count;
};

static void latch_init(struct latch *latch, int count)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_mutex_init(&latch->mutex, NULL);
    pthread_cond_init(&latch->changed, &attributes);
    pthread_condattr_destroy(&attributes);
    latch->arrived = 0;
    latch->count = count;
}

static void latch_arrive_and_wait(struct latch *latch, bool arrive)
{
    pthread_mutex_lock(&latch->mutex);
    if (arrive) {
        latch->arrived++;
        pthread_cond_broadcast(&latch->changed);
    }
    while (latch->arrived < latch->count)
        pthread_cond_wait(&latch->changed, &latch->mutex);
    pthread_mutex_unlock(&latch->mutex);
}

/* For main: waits at most `seconds` for everyone, without arriving.  A
 * timed_join that never gives up (a plain pthread_join) would otherwise
 * hang the workload instead of failing it. */
static bool latch_wait_for(struct latch *latch, double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += (time_t)seconds;
    pthread_mutex_lock(&latch->mutex);
    int waited = 0;
    while (latch->arrived < latch->count && waited == 0)
        waited = pthread_cond_timedwait(&latch->changed, &latch->mutex,
                                        &deadline);
    bool everyone = latch->arrived >= latch->count;
    pthread_mutex_unlock(&latch->mutex);
    return everyone;
}

static void latch_destroy(struct latch *latch)
{
    pthread_cond_destroy(&latch->changed);
    pthread_mutex_destroy(&latch->mutex);
}

struct job {
    struct joinable task;
    struct latch *release;   /* NULL: run at once */
    long input;
    long output;             /* written by the task, read after its join */
};

static void *square(void *raw)
{
    struct job *job = raw;
    if (job->release)
        latch_arrive_and_wait(job->release, false);
    job->output = job->input * job->input;
    return &job->output;
}

struct joiner {
    struct job *jobs;
    struct latch *timed_out;  /* NULL: poll with tiny timeouts instead */
    int joined[JOBS];         /* 1 where this joiner got 0 */
    int wrong;                /* answers that break the contract */
};

static void check_claim(struct joiner *joiner, int i, int error, void *result)
{
    struct job *job = &joiner->jobs[i];
    if (error == 0) {
        joiner->joined[i] = 1;
        workload_check(result == &job->output &&
                       job->output == job->input * job->input,
                       "job %d: the joiner got a wrong result or output", i);
    } else if (error != EINVAL) {
        joiner->wrong++;
    }
}

static void *join_every_job(void *raw)
{
    struct joiner *joiner = raw;
    if (joiner->timed_out) {
        for (int i = 0; i < JOBS; i++)
            if (timed_join(&joiner->jobs[i].task, 0.0002, NULL) != ETIMEDOUT)
                joiner->wrong++;
        latch_arrive_and_wait(joiner->timed_out, true);
    }
    for (int i = 0; i < JOBS; i++) {
        void *result = NULL;
        int error;
        if (joiner->timed_out) {
            error = timed_join(&joiner->jobs[i].task, 60.0, &result);
        } else {
            while ((error = timed_join(&joiner->jobs[i].task, 0.0005,
                                       &result)) == ETIMEDOUT)
                continue;
        }
        check_claim(joiner, i, error, result);
    }
    return NULL;
}

static void race_joiners(int round, bool held)
{
    struct latch release, timed_out;
    latch_init(&release, 1);
    latch_init(&timed_out, JOINERS);
    struct job jobs[JOBS];
    for (int i = 0; i < JOBS; i++) {
        jobs[i].release = held ? &release : NULL;
        jobs[i].input = round * JOBS + i;
        int error = joinable_start(&jobs[i].task, square, &jobs[i]);
        workload_check(error == 0, "joinable_start failed with %d", error);
    }
    struct joiner joiners[JOINERS];
    pthread_t threads[JOINERS];
    for (int j = 0; j < JOINERS; j++) {
        joiners[j] = (struct joiner){.jobs = jobs,
                                     .timed_out = held ? &timed_out : NULL};
        pthread_create(&threads[j], NULL, join_every_job, &joiners[j]);
    }
    if (held) {
        workload_check(latch_wait_for(&timed_out, 3), "round %d: timed_join "
                       "of a task that was still running had not returned "
                       "after 3 s: it must give up at its deadline", round);
        latch_arrive_and_wait(&release, true);
    }
    for (int j = 0; j < JOINERS; j++)
        pthread_join(threads[j], NULL);
    for (int i = 0; i < JOBS; i++) {
        int winners = joiners[0].joined[i] + joiners[1].joined[i];
        workload_check(winners == 1, "round %d, job %d: %d joiners got 0, "
                       "expected exactly 1", round, i, winners);
        joinable_destroy(&jobs[i].task);
    }
    workload_check(joiners[0].wrong + joiners[1].wrong == 0, "round %d: "
                   "timed_join gave a wrong answer (a held task must time "
                   "out; a finished one gives 0 or EINVAL)", round);
    latch_destroy(&release);
    latch_destroy(&timed_out);
}

/* Two threads, each time-joining the other; neither ends before both got
 * their answer, so both must time out. */
static struct joinable left_task, right_task;
static struct latch started, answered;
static int left_error, right_error;

static void *left_joins_right(void *unused)
{
    (void)unused;
    latch_arrive_and_wait(&started, false);
    left_error = timed_join(&right_task, 0.0005, NULL);
    latch_arrive_and_wait(&answered, true);
    return NULL;
}

static void *right_joins_left(void *unused)
{
    (void)unused;
    latch_arrive_and_wait(&started, false);
    right_error = timed_join(&left_task, 0.0005, NULL);
    latch_arrive_and_wait(&answered, true);
    return NULL;
}

static void join_each_other(int round)
{
    latch_init(&started, 1);
    latch_init(&answered, 2);
    left_error = right_error = -1;
    int error = joinable_start(&left_task, left_joins_right, NULL);
    if (error == 0)
        error = joinable_start(&right_task, right_joins_left, NULL);
    workload_check(error == 0, "joinable_start failed with %d", error);
    latch_arrive_and_wait(&started, true); /* both handles are set */
    workload_check(latch_wait_for(&answered, 3), "round %d: two threads "
                   "that timed_join each other had not both returned after "
                   "3 s: each must give up at its deadline", round);

    int left_by_main = timed_join(&left_task, 60.0, NULL);
    int right_by_main = timed_join(&right_task, 60.0, NULL);
    /* left_error and right_error are read after the joins: no lock. */
    workload_check(left_error == ETIMEDOUT && right_error == ETIMEDOUT &&
                   left_by_main == 0 && right_by_main == 0, "round %d: two "
                   "threads joining each other got %d and %d (expected "
                   "ETIMEDOUT twice); main then got %d and %d (expected 0)",
                   round, left_error, right_error, left_by_main,
                   right_by_main);
    joinable_destroy(&left_task);
    joinable_destroy(&right_task);
    latch_destroy(&started);
    latch_destroy(&answered);
}

int main(void)
{
    const int rounds = workload_rounds(40, 20);
    for (int round = 0; round < rounds; round++) {
        race_joiners(round, true);
        if (!workload_under_valgrind())
            race_joiners(round, false);
        join_each_other(round);
    }
    workload_finished();
    return 0;
}
