/* Tests for exercise 17: a counting semaphore with a maximum. */
#include "harness.h"
#include "counting_semaphore.h"
#include "sleepers.h"
#include "freeze.h"

#include <errno.h>
#include <stdio.h>
#include <time.h>

/* The semaphore, and every call a test runs in another thread, are static:
 * a thread that a failed test leaves blocked must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct semaphore sem;

static void init_sem(unsigned value, unsigned maximum)
{
    int error = semaphore_init(&sem, value, maximum);
    cr_assert_eq(error, 0, "semaphore_init(%u, %u) returned %d, expected 0",
                 value, maximum, error);
}

/* "0", "EAGAIN", "ETIMEDOUT", "EINVAL" or the number: for messages. */
static const char *status_name(int status)
{
    static char other[32];
    switch (status) {
    case 0: return "0";
    case EAGAIN: return "EAGAIN";
    case ETIMEDOUT: return "ETIMEDOUT";
    case EINVAL: return "EINVAL";
    default:
        snprintf(other, sizeof other, "error %d", status);
        return other;
    }
}

/* An absolute CLOCK_MONOTONIC deadline `seconds` from now (may be < 0). */
static struct timespec deadline_in(double seconds)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double at = (double)now.tv_sec + (double)now.tv_nsec / 1e9 + seconds;
    struct timespec deadline;
    deadline.tv_sec = (time_t)at;
    deadline.tv_nsec = (long)((at - (double)deadline.tv_sec) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    return deadline;
}

/* semaphore_wait, _post or _timedwait in its own thread. */
enum operation { WAIT, POST, TIMEDWAIT };

struct call {
    struct async_call async;
    enum operation operation;
    struct timespec deadline; /* TIMEDWAIT */
    int status;
    double cpu_seconds;
};

static void *run_call(void *raw)
{
    struct call *call = raw;
    double cpu_before = thread_cpu_seconds();
    switch (call->operation) {
    case WAIT: semaphore_wait(&sem); call->status = 0; break;
    case POST: semaphore_post(&sem); call->status = 0; break;
    case TIMEDWAIT:
        call->status = semaphore_timedwait(&sem, &call->deadline);
        break;
    }
    call->cpu_seconds = thread_cpu_seconds() - cpu_before;
    return NULL;
}

static void start(struct call *call, enum operation operation)
{
    call->operation = operation;
    call->status = -1;
    call->cpu_seconds = 0;
    async_start(&call->async, run_call, call);
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

/* Waits (at most 2 s) until `count` threads sleep in a condition wait on
 * one of the semaphore's condition variables (which one is the solution's
 * business), and returns how many do (sleepers.h; -1 where /proc cannot
 * tell); stops early once one of the calls has returned (a failure of its
 * own). */
static int wait_for_sleepers(struct call *calls, int calls_count, int count)
{
    size_t both = (size_t)((char *)(&sem.not_full + 1) - (char *)&sem.not_zero);
    return wait_until_asleep_on(&sem.not_zero, both, count, 2.0,
                                any_async_call_returned,
                                ASYNC_CALLS(calls, calls_count));
}

#define LOOP_BECAUSE "; and wait in a loop, since a wait can end without " \
    "a signal (a spurious wake-up)"
#define WAIT_MUST_BLOCK "semaphore_wait must sleep (on not_zero) while the " \
    "value is 0" LOOP_BECAUSE
#define POST_MUST_BLOCK "semaphore_post must sleep (on not_full) while the " \
    "value is at the maximum" LOOP_BECAUSE

EXERCISE_TEST(semaphore, init_checks_its_arguments_and_trywait_takes_units, 10,
              "semaphore_init, _trywait, _post or _value never returned: is "
              "the mutex left locked?")
{
    struct semaphore unused;
    int error = semaphore_init(&unused, 0, 0);
    cr_assert_eq(error, EINVAL, "semaphore_init(0, 0) returned %s, expected "
                 "EINVAL: a maximum of 0 leaves no unit to share",
                 status_name(error));
    error = semaphore_init(&unused, 3, 2);
    cr_assert_eq(error, EINVAL, "semaphore_init(3, 2) returned %s, expected "
                 "EINVAL: the value cannot start above the maximum",
                 status_name(error));
    init_sem(2, 3);
    cr_assert_eq(semaphore_value(&sem), 2, "a semaphore made with value 2 "
                 "has value %u", semaphore_value(&sem));
    for (int i = 0; i < 2; i++) {
        int status = semaphore_trywait(&sem);
        cr_assert_eq(status, 0, "semaphore_trywait returned %s with %d "
                     "units free, expected 0", status_name(status), 2 - i);
    }
    int status = semaphore_trywait(&sem);
    cr_assert_eq(status, EAGAIN, "semaphore_trywait returned %s at value 0, "
                 "expected EAGAIN", status_name(status));
    cr_assert_eq(semaphore_value(&sem), 0, "after two trywaits on value 2 and "
                 "one that failed, the value is %u, expected 0",
                 semaphore_value(&sem));
    semaphore_post(&sem);
    cr_assert_eq(semaphore_value(&sem), 1, "after one post on value 0 the "
                 "value is %u, expected 1", semaphore_value(&sem));
    semaphore_destroy(&sem);
}

EXERCISE_TEST(semaphore, wait_blocks_at_zero_until_a_post, 15,
              "a wait at value 0 never returned after a post: does post "
              "signal not_zero?")
{
    init_sem(0, 2);
    static struct call wait;
    start(&wait, WAIT);
    bool returned_early = async_wait(&wait.async, 0.7);
    int asleep = returned_early ? 0 : wait_for_sleepers(&wait, 1, 1);
    semaphore_post(&sem);
    cr_assert_not(returned_early, "semaphore_wait returned at value 0 before "
                  "any post: " WAIT_MUST_BLOCK);
    cr_assert(asleep != 0, "the waiting semaphore_wait never slept in "
              "pthread_cond_wait on the semaphore's condition variables: it "
              "polls (busy-waiting)");
    cr_assert(async_wait(&wait.async, 3.0), "a semaphore_wait asleep at "
              "value 0 was still blocked 3 s after a post: post must signal "
              "the condition variable that waits sleep on (not_zero)");
    async_finish(&wait.async);
    cr_assert_eq(semaphore_value(&sem), 0, "one post, then one wait: the "
                 "value is %u, expected 0", semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, post_blocks_at_the_maximum_until_a_wait, 15,
              "a post at the maximum never returned after a wait: does wait "
              "signal not_full?")
{
    init_sem(2, 2);
    static struct call post;
    start(&post, POST);
    bool returned_early = async_wait(&post.async, 0.7);
    int asleep = returned_early ? 0 : wait_for_sleepers(&post, 1, 1);
    unsigned value = semaphore_value(&sem);
    semaphore_wait(&sem);
    cr_assert_leq(value, 2, "the value reached %u with maximum 2: "
                  POST_MUST_BLOCK, value);
    cr_assert_not(returned_early, "semaphore_post returned at the maximum "
                  "(value 2 of 2) before any wait: " POST_MUST_BLOCK);
    cr_assert(asleep != 0, "the waiting semaphore_post never slept in "
              "pthread_cond_wait on the semaphore's condition variables: it "
              "polls (busy-waiting)");
    cr_assert(async_wait(&post.async, 3.0), "a semaphore_post asleep at the "
              "maximum was still blocked 3 s after a wait took a unit: wait "
              "must signal the condition variable that posts sleep on "
              "(not_full)");
    async_finish(&post.async);
    cr_assert_eq(semaphore_value(&sem), 2, "value 2 of 2, a post that waited "
                 "and a wait: the value is %u, expected 2",
                 semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, trywait_and_timedwait_make_room_too, 15,
              "a post at the maximum never returned after a trywait or a "
              "timedwait took a unit: do they signal not_full?")
{
    init_sem(1, 1);
    static struct call posts[2];
    for (int round = 0; round < 2; round++) {
        const char *taker = round == 0 ? "semaphore_trywait"
                                       : "semaphore_timedwait";
        start(&posts[round], POST);
        int asleep = wait_for_sleepers(&posts[round], 1, 1);
        bool returned_early = async_is_done(&posts[round].async);
        struct timespec deadline = deadline_in(5.0);
        int status = round == 0 ? semaphore_trywait(&sem)
                                : semaphore_timedwait(&sem, &deadline);
        cr_assert_not(returned_early, "semaphore_post returned at the "
                      "maximum (value 1 of 1) before any wait: "
                      POST_MUST_BLOCK);
        cr_assert(asleep != 0, "the waiting semaphore_post never slept in "
                  "pthread_cond_wait: it polls (busy-waiting)");
        cr_assert_eq(status, 0, "%s returned %s with a unit free, expected 0",
                     taker, status_name(status));
        cr_assert(async_wait(&posts[round].async, 3.0), "a semaphore_post "
                  "asleep at the maximum was still blocked 3 s after %s took "
                  "a unit: every call that takes a unit must signal "
                  "not_full, not only semaphore_wait", taker);
        async_finish(&posts[round].async);
    }
    cr_assert_eq(semaphore_value(&sem), 1, "value 1 of 1, two posts and two "
                 "units taken: the value is %u, expected 1",
                 semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, every_post_wakes_a_waiting_wait, 15,
              "waits at value 0 never returned after two posts")
{
    enum { WAITS = 2 };
    init_sem(0, 4);
    static struct call waits[WAITS];
    for (int i = 0; i < WAITS; i++)
        start(&waits[i], WAIT);
    int asleep = wait_for_sleepers(waits, WAITS, WAITS);
    int returned_early = count_returned(waits, WAITS);
    cr_assert_eq(returned_early, 0, "%d of %d semaphore_waits returned at "
                 "value 0 before any post: " WAIT_MUST_BLOCK, returned_early,
                 WAITS);
    cr_assert(asleep != 0, "the waits never slept in pthread_cond_wait: they "
              "poll (busy-waiting)");
    /* Both waiters are paused while both units go in: the value is not 0
     * when the second post comes, and that post must still wake one. */
    pthread_t threads[WAITS] = {waits[0].async.thread, waits[1].async.thread};
    bool frozen = freeze_threads(threads, WAITS, 3.0);
    semaphore_post(&sem);
    semaphore_post(&sem);
    thaw_threads(WAITS);
    cr_assert(frozen, "the test could not pause the waiting threads (with "
              "the signal SIGUSR2)");
    int returned = wait_for_calls(waits, WAITS, 3.0);
    cr_assert_neq(returned, 0, "neither of two semaphore_waits asleep at "
                  "value 0 returned after two posts: post must signal the "
                  "condition variable that waits sleep on (not_zero)");
    cr_assert_eq(returned, WAITS, "only %d of %d semaphore_waits asleep at "
                 "value 0 returned after two posts: every post must signal a "
                 "waiting wait, not only the post that makes the value 1",
                 returned, WAITS);
    for (int i = 0; i < WAITS; i++)
        async_finish(&waits[i].async);
    cr_assert_eq(semaphore_value(&sem), 0, "two posts and two waits: the "
                 "value is %u, expected 0", semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, room_made_by_a_wait_wakes_the_waiting_post, 15,
              "a post at the maximum never returned after a wait took a unit")
{
    enum { WAITS = 2 };
    init_sem(0, 1);
    static struct call waits[WAITS], post;
    for (int i = 0; i < WAITS; i++)
        start(&waits[i], WAIT);
    int asleep = wait_for_sleepers(waits, WAITS, WAITS);
    int returned_early = count_returned(waits, WAITS);
    cr_assert_eq(returned_early, 0, "%d of %d semaphore_waits returned at "
                 "value 0 before any post: " WAIT_MUST_BLOCK, returned_early,
                 WAITS);
    cr_assert(asleep != 0, "the waits never slept in pthread_cond_wait: they "
              "poll (busy-waiting)");
    /* Waiters paused: the post fills the semaphore (1 of 1), and a second
     * post comes to wait for room while both waits still wait too.  Once
     * they go on, one wait takes the unit; its wake-up must reach the
     * post, not the other wait. */
    pthread_t threads[WAITS] = {waits[0].async.thread, waits[1].async.thread};
    bool frozen = freeze_threads(threads, WAITS, 3.0);
    semaphore_post(&sem);
    start(&post, POST);
    int post_asleep = wait_for_sleepers(&post, 1, 1);
    thaw_threads(WAITS);
    cr_assert(frozen, "the test could not pause the waiting threads (with "
              "the signal SIGUSR2)");
    cr_assert(post_asleep != 0, "a semaphore_post at the maximum never slept "
              "in pthread_cond_wait");
    cr_assert(async_wait(&post.async, 3.0), "a semaphore_post waiting at the "
              "maximum was still blocked 3 s after a wait took a unit, while "
              "another wait was waiting too: the wait's signal woke the wrong "
              "kind of waiter.  Waits and posts wait for different things: "
              "give each its own condition variable (not_zero, not_full), or "
              "broadcast");
    async_finish(&post.async);
    int returned = wait_for_calls(waits, WAITS, 3.0);
    cr_assert_eq(returned, WAITS, "only %d of %d semaphore_waits returned "
                 "after two posts", returned, WAITS);
    for (int i = 0; i < WAITS; i++)
        async_finish(&waits[i].async);
}

EXERCISE_TEST(semaphore, timed_wait_gives_up_at_its_deadline, 15,
              "semaphore_timedwait at value 0 never returned: does it stop "
              "when pthread_cond_timedwait says ETIMEDOUT?")
{
    init_sem(0, 1);
    struct timespec deadline = deadline_in(0.5);
    double started = now_seconds(), cpu_before = thread_cpu_seconds();
    int status = semaphore_timedwait(&sem, &deadline);
    double took = now_seconds() - started;
    double cpu = thread_cpu_seconds() - cpu_before;
    cr_assert_eq(status, ETIMEDOUT, "semaphore_timedwait (deadline 0.5 s "
                 "ahead) at value 0 returned %s, expected ETIMEDOUT",
                 status_name(status));
    /* A wait that respects its deadline cannot return before it. */
    cr_assert_geq(took, 0.49, "semaphore_timedwait gave up after only %.3f s "
                  "of a deadline 0.5 s ahead on CLOCK_MONOTONIC: make the "
                  "condition variables measure time on CLOCK_MONOTONIC "
                  "(pthread_condattr_setclock in semaphore_init; the default "
                  "clock reads this deadline as one long past)" LOOP_BECAUSE,
                  took);
    cr_assert_lt(cpu, 0.05, "semaphore_timedwait used %.2f s of CPU in a "
                 "0.5 s wait: it polls (busy-waiting); sleep in "
                 "pthread_cond_timedwait", cpu);
    cr_assert_eq(semaphore_value(&sem), 0, "a timed-out wait changed the "
                 "value to %u", semaphore_value(&sem));

    deadline = deadline_in(-1.0);
    started = now_seconds();
    status = semaphore_timedwait(&sem, &deadline);
    took = now_seconds() - started;
    cr_assert_eq(status, ETIMEDOUT, "semaphore_timedwait with a deadline "
                 "already past, at value 0, returned %s, expected ETIMEDOUT",
                 status_name(status));
    cr_assert_lt(took, 2.0, "semaphore_timedwait with a deadline already past "
                 "took %.2f s", took);

    deadline.tv_nsec = 1000000000L;
    status = semaphore_timedwait(&sem, &deadline);
    cr_assert_eq(status, EINVAL, "semaphore_timedwait at value 0 with "
                 "tv_nsec = 1,000,000,000 returned %s, expected EINVAL (what "
                 "pthread_cond_timedwait says about such a deadline)",
                 status_name(status));

    semaphore_post(&sem);
    deadline = deadline_in(-1.0);
    status = semaphore_timedwait(&sem, &deadline);
    cr_assert_eq(status, 0, "semaphore_timedwait with a unit free returned "
                 "%s, expected 0: a free unit is taken at once, whatever the "
                 "deadline", status_name(status));
    cr_assert_eq(semaphore_value(&sem), 0, "after a timed wait took the only "
                 "unit, the value is %u", semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, timed_wait_takes_a_unit_posted_while_it_waits, 15,
              "semaphore_timedwait (deadline 30 s ahead) did not return after "
              "a post")
{
    init_sem(0, 1);
    static struct call timed;
    timed.deadline = deadline_in(30.0);
    start(&timed, TIMEDWAIT);
    bool returned_early = async_wait(&timed.async, 0.7);
    int status = returned_early ? timed.status : 0;
    int asleep = returned_early ? 0 : wait_for_sleepers(&timed, 1, 1);
    semaphore_post(&sem);
    cr_assert_not(returned_early, "semaphore_timedwait (deadline 30 s ahead "
                  "on CLOCK_MONOTONIC) returned %s at value 0 after 0.7 s: the "
                  "condition variables must measure time on CLOCK_MONOTONIC "
                  "(pthread_condattr_setclock)" LOOP_BECAUSE,
                  status_name(status));
    cr_assert(asleep != 0, "the timed wait never slept in "
              "pthread_cond_timedwait: it polls (busy-waiting)");
    cr_assert(async_wait(&timed.async, 3.0), "semaphore_timedwait was still "
              "blocked 3 s after a post: post must signal not_zero");
    async_finish(&timed.async);
    cr_assert_eq(timed.status, 0, "semaphore_timedwait returned %s after a "
                 "post while it waited, expected 0", status_name(timed.status));
    cr_assert_eq(semaphore_value(&sem), 0, "one post, one timed wait: the "
                 "value is %u, expected 0", semaphore_value(&sem));
}

EXERCISE_TEST(semaphore, waiting_threads_sleep_instead_of_spinning, 15,
              "a wait at 0 or a post at the maximum never returned")
{
    init_sem(0, 1);
    static struct call wait, post;
    double started = now_seconds();
    start(&wait, WAIT);
    bool wait_early = async_wait(&wait.async, 0.7);
    double blocked = now_seconds() - started;
    semaphore_post(&sem);
    cr_assert_not(wait_early, "semaphore_wait returned at value 0 before any "
                  "post: " WAIT_MUST_BLOCK);
    cr_assert(async_wait(&wait.async, 3.0), "semaphore_wait was still blocked "
              "3 s after a post");
    async_finish(&wait.async);
    /* A sleeping thread uses microseconds of CPU; 50 ms is a wide margin. */
    cr_assert_lt(wait.cpu_seconds, 0.05, "a thread blocked in semaphore_wait "
                 "for %.1f s used %.2f s of CPU: it polls (busy-waiting); "
                 "sleep in pthread_cond_wait", blocked, wait.cpu_seconds);

    semaphore_post(&sem); /* now at the maximum, 1 of 1 */
    started = now_seconds();
    start(&post, POST);
    bool post_early = async_wait(&post.async, 0.7);
    blocked = now_seconds() - started;
    if (!post_early)
        semaphore_wait(&sem);
    cr_assert_not(post_early, "semaphore_post returned at the maximum before "
                  "any wait: " POST_MUST_BLOCK);
    cr_assert(async_wait(&post.async, 3.0), "semaphore_post was still blocked "
              "3 s after a wait");
    async_finish(&post.async);
    cr_assert_lt(post.cpu_seconds, 0.05, "a thread blocked in semaphore_post "
                 "for %.1f s used %.2f s of CPU: it polls (busy-waiting)",
                 blocked, post.cpu_seconds);
}

/* The stress test: a semaphore of 3 used as a limit, by 6 threads at once.
 * Never more than 3 may be inside, and every unit must come back. */
enum { LIMIT = 3, USERS = 6, TURNS = 2000 };

static struct peak_probe inside;
static struct async_call users[USERS];

static void *use_limited_resource(void *unused)
{
    (void)unused;
    for (int turn = 0; turn < TURNS; turn++) {
        semaphore_wait(&sem);
        probe_enter(&inside);
        probe_leave(&inside);
        semaphore_post(&sem);
    }
    return NULL;
}

EXERCISE_TEST(semaphore, many_threads_never_exceed_the_limit, 20,
              "the threads using the semaphore never finished: a lost "
              "wake-up?")
{
    init_sem(LIMIT, LIMIT);
    probe_init(&inside);
    for (int i = 0; i < USERS; i++)
        async_start(&users[i], use_limited_resource, NULL);
    /* Stuck means: nobody got through for 3 s (not a clock on the whole
     * run, which a slow machine may stretch). */
    int finished = 0;
    int seen = -1;
    double last_progress = now_seconds();
    while (finished < USERS && now_seconds() - last_progress < 3.0) {
        sleep_seconds(0.005);
        int entered = probe_entered(&inside);
        if (entered != seen) {
            seen = entered;
            last_progress = now_seconds();
        }
        finished = 0;
        for (int i = 0; i < USERS; i++)
            finished += async_is_done(&users[i]);
    }
    cr_assert_eq(finished, USERS, "only %d of %d threads finished %d rounds "
                 "of wait and post on a semaphore of %d: a lost wake-up?",
                 finished, USERS, TURNS, LIMIT);
    for (int i = 0; i < USERS; i++)
        async_finish(&users[i]);
    int peak = probe_peak(&inside);
    cr_assert_leq(peak, LIMIT, "%d threads were between semaphore_wait and "
                  "semaphore_post at once, on a semaphore of %d: two waits "
                  "took the same unit (check and take it in one locked "
                  "region, in a loop)", peak, LIMIT);
    unsigned value = semaphore_value(&sem);
    cr_assert_eq(value, LIMIT, "after %d waits and as many posts the value "
                 "is %u, expected %d", USERS * TURNS, value, LIMIT);
}
