/*
 * Forced interleavings (interleavings.h).  Linked into the tests and into
 * every workload, with pthread_mutex_unlock wrapped (-Wl,--wrap, see the
 * Makefile): only calls from the code under test, the tests and the
 * workloads come here; glibc's own unlocks do not.
 *
 * Why a held unlock: code that checks under a lock, unlocks, and acts under
 * a second lock ("two lock regions where one is needed") is wrong only if
 * another thread changes the state in between.  Left to the scheduler, that
 * window is a few instructions wide and a test sees the race once in
 * thousands of runs.  Holding the thread right after its unlock, while the
 * test runs the competing call, makes the race happen on every run; a right
 * solution holds the lock across check and act, so holding it after the
 * unlock changes nothing it relies on.
 */
#define _GNU_SOURCE
#include "interleavings.h"

#include "clock.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sched.h>

#if defined(__has_include)
#if __has_include(<valgrind/helgrind.h>)
#include <valgrind/helgrind.h>
#endif
#endif
#ifndef VALGRIND_HG_DISABLE_CHECKING
#define VALGRIND_HG_DISABLE_CHECKING(address, size) ((void)(address), (void)(size))
#endif

int __real_pthread_mutex_unlock(pthread_mutex_t *mutex);
int __real_pthread_mutex_lock(pthread_mutex_t *mutex);

/* ---- threads asleep in a condition wait ---------------------------------
 * Counted by the wait wrappers of spurious_wakeups.c (tests only). */
static atomic_int sleeping;

void harness_count_sleeper(int change) { atomic_fetch_add(&sleeping, change); }

int harness_sleeping(void) { return atomic_load(&sleeping); }

bool harness_wait_until_sleeping(int threads, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (atomic_load(&sleeping) < threads) {
        if (now_seconds() > give_up)
            return false;
        sleep_seconds(0.001);
    }
    return true;
}

/* ---- threads held right after an unlock ---------------------------------
 * Polls instead of waiting on a condition variable: the harness's own waits
 * would count as sleepers and get spurious wake-ups. */
static pthread_mutex_t hold_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool hold_armed;
static atomic_bool hold_after_lock;          /* else after an unlock */
/* All guarded by hold_lock. */
static const pthread_mutex_t *hold_target;   /* NULL: any mutex */
static bool (*hold_which)(void);
static pthread_t hold_armer;
static double hold_give_up;
static int hold_wanted, held_so_far;
static unsigned hold_generation;
static bool released;
static _Thread_local unsigned held_in_generation;

static void arm_hold(bool after_lock, const pthread_mutex_t *mutex,
                     int threads, bool (*which)(void), double seconds);

void harness_hold_unlocks(const pthread_mutex_t *mutex, int threads,
                          bool (*which)(void), double seconds)
{
    arm_hold(false, mutex, threads, which, seconds);
}

void harness_hold_locks(const pthread_mutex_t *mutex, int threads,
                        bool (*which)(void), double seconds)
{
    arm_hold(true, mutex, threads, which, seconds);
}

static void arm_hold(bool after_lock, const pthread_mutex_t *mutex,
                     int threads, bool (*which)(void), double seconds)
{
    __real_pthread_mutex_lock(&hold_lock);
    atomic_store(&hold_after_lock, after_lock);
    hold_target = mutex;
    hold_which = which;
    hold_armer = pthread_self();
    hold_give_up = now_seconds() + seconds;
    hold_wanted = threads;
    held_so_far = 0;
    hold_generation++;
    released = false;
    atomic_store(&hold_armed, threads > 0);
    __real_pthread_mutex_unlock(&hold_lock);
}

void harness_hold_next_unlock(const pthread_mutex_t *mutex, double seconds)
{
    harness_hold_unlocks(mutex, 1, NULL, seconds);
}

int harness_held(void)
{
    __real_pthread_mutex_lock(&hold_lock);
    int answer = held_so_far;
    __real_pthread_mutex_unlock(&hold_lock);
    return answer;
}

bool harness_wait_until_held(int threads, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (harness_held() < threads) {
        if (now_seconds() > give_up)
            return false;
        sleep_seconds(0.001);
    }
    return true;
}

void harness_release_held(void)
{
    __real_pthread_mutex_lock(&hold_lock);
    atomic_store(&hold_armed, false);
    released = true;
    __real_pthread_mutex_unlock(&hold_lock);
}

static bool wanted_here(const pthread_mutex_t *mutex)
{
    return atomic_load(&hold_armed) && held_so_far < hold_wanted &&
           (hold_target == NULL || mutex == hold_target) &&
           held_in_generation != hold_generation &&
           !pthread_equal(pthread_self(), hold_armer);
}

static void hold_if_wanted(const pthread_mutex_t *mutex)
{
    __real_pthread_mutex_lock(&hold_lock);
    bool hold = wanted_here(mutex);
    __real_pthread_mutex_unlock(&hold_lock);
    /* The filter runs outside hold_lock: it may take locks of its own. */
    if (!hold || (hold_which && !hold_which()))
        return;
    __real_pthread_mutex_lock(&hold_lock);
    if (!wanted_here(mutex)) {
        __real_pthread_mutex_unlock(&hold_lock);
        return;
    }
    held_in_generation = hold_generation;
    held_so_far++;
    while (!released && now_seconds() < hold_give_up) {
        __real_pthread_mutex_unlock(&hold_lock);
        sleep_seconds(0.001);
        __real_pthread_mutex_lock(&hold_lock);
    }
    __real_pthread_mutex_unlock(&hold_lock);
}

/* ---- yields and seeded shaking ------------------------------------------ */
static atomic_bool yielding;

void harness_yield_after_unlock(bool enabled) { atomic_store(&yielding, enabled); }

static atomic_ulong shake_seed_value;
static atomic_int shake_known;      /* 0 unknown, 1 off, 2 on */
static atomic_ulong shake_threads;
static _Thread_local unsigned long shake_state;

unsigned long harness_shake_seed(void)
{
    if (atomic_load(&shake_known) == 0) {
        const char *text = getenv("THREADLINGS_SHAKE");
        unsigned long seed = text ? strtoul(text, NULL, 10) : 0;
        atomic_store(&shake_seed_value, seed);
        /* Said once, in the report, so that a failing run can be replayed. */
        if (seed && atomic_exchange(&shake_known, 2) == 0)
            fprintf(stderr, "threadlings: schedule shaken with seed %lu "
                    "(THREADLINGS_SHAKE=%lu replays it)\n", seed, seed);
        atomic_store(&shake_known, seed ? 2 : 1);
    }
    return atomic_load(&shake_seed_value);
}

/* xorshift64: each thread draws from its own stream, numbered in the order
 * threads first shake. */
static unsigned long shake_draw(void)
{
    if (shake_state == 0)
        shake_state = harness_shake_seed() * 0x9E3779B97F4A7C15ul +
                      atomic_fetch_add(&shake_threads, 1) + 1;
    shake_state ^= shake_state << 13;
    shake_state ^= shake_state >> 7;
    shake_state ^= shake_state << 17;
    return shake_state;
}

void harness_shake(void)
{
    if (harness_shake_seed() == 0)
        return;
    unsigned long draw = shake_draw();
    if (draw % 64 == 0)
        sleep_seconds(0.00005 + (double)(draw / 64 % 150) * 1e-6);
    else if (draw % 4 == 0)
        sched_yield();
}

/* Armed by a slow wake-up (fault_injection.c) in the thread that woke
 * others while holding a mutex: it pauses again right after its next
 * unlock, so that the woken threads take the mutex before it can lock it
 * again (code that sets their flag in a second locked region then loses
 * the wake-up on every run). */
static _Thread_local double pause_at_next_unlock;

void harness_pause_at_next_unlock(double seconds)
{
    pause_at_next_unlock = seconds;
}

int __wrap_pthread_mutex_unlock(pthread_mutex_t *mutex)
{
    int result = __real_pthread_mutex_unlock(mutex);
    if (pause_at_next_unlock > 0) {
        double seconds = pause_at_next_unlock;
        pause_at_next_unlock = 0;
        sleep_seconds(seconds);
    }
    if (atomic_load(&hold_armed) && !atomic_load(&hold_after_lock))
        hold_if_wanted(mutex);
    if (atomic_load(&yielding))
        sched_yield();
    harness_shake();
    return result;
}

/* Holding a thread right after it took a lock: two transfers that lock
 * their accounts in opposite orders each hold their first lock, and wait
 * for each other's, on every run. */
int __wrap_pthread_mutex_lock(pthread_mutex_t *mutex)
{
    int result = __real_pthread_mutex_lock(mutex);
    if (result == 0 && atomic_load(&hold_armed) &&
        atomic_load(&hold_after_lock))
        hold_if_wanted(mutex);
    return result;
}

/* ---- calls raced against each other ------------------------------------- */
/* A workload cannot run without its threads. */
static void start_or_exit(pthread_t *thread, void *(*routine)(void *),
                          void *argument)
{
    if (pthread_create(thread, NULL, routine, argument) != 0) {
        fprintf(stderr, "threadlings: workload: pthread_create failed\n");
        exit(1);
    }
}

struct racer {
    race_function *function;
    void *argument;
    pthread_barrier_t *start;
    atomic_long *calls;        /* every racer's count, read by all */
    int index, count;
    long min_calls;
};

static bool everyone_done(const struct racer *racer)
{
    for (int i = 0; i < racer->count; i++)
        if (atomic_load_explicit(&racer->calls[i], memory_order_relaxed) <
            racer->min_calls)
            return false;
    return true;
}

/* A racer that has made its own calls goes on while another has not, to
 * keep overlapping it, but not for ever: under helgrind, a racer that the
 * others keep out of a contended mutex (valgrind runs one thread at a time,
 * and an unlocking thread often takes the mutex straight back) once left
 * five threads calling for 15 s of CPU in a workload that takes 1.5 s. */
enum { MOST_CALLS_PER_MIN_CALL = 4 };

/* Relaxed loads and stores only: an acquire here would order the racers'
 * calls and hide the very race the checkers should see. */
static void *run_racer(void *raw)
{
    struct racer *racer = raw;
    pthread_barrier_wait(racer->start);
    long calls = 0;
    long most = MOST_CALLS_PER_MIN_CALL * racer->min_calls;
    do {
        racer->function(racer->argument);
        atomic_store_explicit(&racer->calls[racer->index], ++calls,
                              memory_order_relaxed);
        harness_shake();
    } while (calls < racer->min_calls ||
             (calls < most && !everyone_done(racer)));
    return NULL;
}

void workload_race(race_function *const functions[], void *const arguments[],
                   int count, long min_calls)
{
    pthread_barrier_t start;
    atomic_long *calls = calloc((size_t)count, sizeof *calls);
    struct racer *racers = calloc((size_t)count, sizeof *racers);
    pthread_t *threads = calloc((size_t)count, sizeof *threads);
    if (!calls || !racers || !threads || pthread_barrier_init(&start, NULL,
                                                              (unsigned)count)) {
        fprintf(stderr, "threadlings: workload: out of memory\n");
        exit(1);
    }
    /* helgrind sees the relaxed atomics as plain accesses: they are the
     * harness's, and meant to race. */
    VALGRIND_HG_DISABLE_CHECKING(calls, (size_t)count * sizeof *calls);
    for (int i = 0; i < count; i++) {
        racers[i] = (struct racer){functions[i], arguments[i], &start, calls,
                                   i, count, min_calls};
        start_or_exit(&threads[i], run_racer, &racers[i]);
    }
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start);
    free(threads);
    free(racers);
    free(calls);
}

/* ---- calls in turn, unordered ------------------------------------------- */
struct turn {
    race_function *function;
    void *argument;
    atomic_int *after;         /* run once this is 1 (NULL: at once) */
    atomic_int done;           /* 1 once the function has returned */
};

/* Relaxed accesses only, as in run_racer: the flag says "the first call has
 * returned" without ordering the two calls for the checkers. */
static void *run_turn(void *raw)
{
    struct turn *turn = raw;
    if (turn->after)
        while (!atomic_load_explicit(turn->after, memory_order_relaxed))
            sched_yield();     /* under valgrind, lets the first thread run */
    turn->function(turn->argument);
    atomic_store_explicit(&turn->done, 1, memory_order_relaxed);
    return NULL;
}

static void one_pair(race_function *first, void *first_argument,
                     race_function *second, void *second_argument)
{
    /* Static, not on the stack: helgrind's exemption of the flag must not
     * outlive it on memory the main thread reuses. */
    static struct turn turns[2];
    turns[0] = (struct turn){first, first_argument, NULL, 0};
    turns[1] = (struct turn){second, second_argument, &turns[0].done, 0};
    VALGRIND_HG_DISABLE_CHECKING(&turns[0].done, sizeof turns[0].done);
    pthread_t threads[2];
    start_or_exit(&threads[0], run_turn, &turns[0]);
    start_or_exit(&threads[1], run_turn, &turns[1]);
    pthread_join(threads[0], NULL);
    pthread_join(threads[1], NULL);
}

void workload_in_turn(race_function *const functions[],
                      void *const arguments[], int count, void (*reset)(void))
{
    for (int i = 0; i < count; i++)
        for (int j = 0; j < count; j++) {
            if (i == j)
                continue;
            if (reset)
                reset();
            one_pair(functions[i], arguments[i], functions[j], arguments[j]);
        }
}
