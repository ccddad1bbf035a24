/* Tests for exercise 11: per-thread counters and per-thread contexts. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "harness.h"
#include "thread_local.h"

#include <dlfcn.h>
#include <errno.h>
#include <time.h>

/* ---- threads of the tests: each gets a number it can find itself by ---- */

static _Thread_local int my_number = -1;

struct worker {
    int number;
    void (*body)(int number);
};

static void *run_worker(void *raw)
{
    struct worker *worker = raw;
    my_number = worker->number;
    worker->body(worker->number);
    return NULL;
}

/* Runs body(0..count-1) in `count` threads at once and joins them all. */
static void run_workers(int count, void (*body)(int number))
{
    pthread_t threads[8];
    struct worker workers[8];
    cr_assert(count <= 8);
    for (int i = 0; i < count; i++) {
        workers[i] = (struct worker){i, body};
        int error = pthread_create(&threads[i], NULL, run_worker, &workers[i]);
        cr_assert_eq(error, 0, "the test could not start a thread (%d)", error);
    }
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
}

/* Results written by the workers, read by the test after the joins. */
static long seen[8];

/* ---- Part 1: the counter ---- */

static void add_three_then_read(int number)
{
    local_counter_add(3);
    seen[number] = local_counter_value();
}

static void read_only(int number) { seen[number] = local_counter_value(); }

EXERCISE_TEST(thread_local, counter_starts_at_zero_in_every_new_thread, 10,
              "a thread of the test never finished")
{
    local_counter_add(100);
    run_workers(1, add_three_then_read);
    run_workers(1, read_only);
    cr_assert_eq(seen[0], 0, "a new thread read its counter as %ld, but it "
                 "never added anything (the test's thread had added 100, an "
                 "earlier thread 3): every thread needs a counter of its own "
                 "(_Thread_local)", seen[0]);
    cr_assert_eq(local_counter_value(), 100, "the test's thread added 100 "
                 "and read %ld after other threads added to theirs",
                 local_counter_value());
}

EXERCISE_TEST(thread_local, counter_sums_what_its_thread_added, 10,
              "local_counter_add never returned")
{
    for (int i = 0; i < 1000; i++)
        local_counter_add(1);
    local_counter_add(-10);
    cr_assert_eq(local_counter_value(), 990, "after adding 1000 times 1 and "
                 "then -10 the counter read %ld, expected 990",
                 local_counter_value());
}

/* A then B, in that order every run: A adds 5, B adds 7, then A reads. */
static struct gate a_added, b_added;

static void add_in_turn(int number)
{
    if (number == 0) {
        local_counter_add(5);
        gate_open(&a_added);
        gate_wait(&b_added, 5.0);
    } else {
        gate_wait(&a_added, 5.0);
        local_counter_add(7);
        seen[1] = local_counter_value();
        gate_open(&b_added);
        return;
    }
    seen[0] = local_counter_value();
}

EXERCISE_TEST(thread_local, counters_of_two_threads_never_interfere, 15,
              "a thread of the test never finished")
{
    gate_init(&a_added);
    gate_init(&b_added);
    run_workers(2, add_in_turn);
    cr_assert_eq(seen[0], 5, "thread A added 5, thread B then added 7, and A "
                 "read %ld instead of 5: A saw B's addition, so they share one "
                 "counter; make it _Thread_local", seen[0]);
    cr_assert_eq(seen[1], 7, "thread B added 7 after thread A added 5, and "
                 "read %ld instead of 7", seen[1]);
}

/* ---- Part 2: the context ---- */

/* A release function that records who released what. */
static pthread_mutex_t release_mutex = PTHREAD_MUTEX_INITIALIZER;
static int values[8];              /* contexts are &values[i] */
static int releases_of[8];
static int released_by[8];         /* my_number of the releasing thread */
static int foreign_releases;

static void record_release(void *value)
{
    int *slot = value;
    pthread_mutex_lock(&release_mutex);
    if (slot >= values && slot < values + 8) {
        releases_of[slot - values]++;
        released_by[slot - values] = my_number;
    } else {
        foreign_releases++;
    }
    pthread_mutex_unlock(&release_mutex);
}

static int releases(int i)
{
    pthread_mutex_lock(&release_mutex);
    int count = releases_of[i];
    pthread_mutex_unlock(&release_mutex);
    return count;
}

static void *got[8];               /* what context_get returned */
static int set_errors[8];

static void set_in_turn(int number)
{
    if (number == 0) {
        set_errors[0] = context_set(&values[0], record_release);
        gate_open(&a_added);
        gate_wait(&b_added, 5.0);
        got[0] = context_get();
    } else {
        gate_wait(&a_added, 5.0);
        got[2] = context_get(); /* before B set its own */
        set_errors[1] = context_set(&values[1], record_release);
        got[1] = context_get();
        gate_open(&b_added);
    }
}

EXERCISE_TEST(thread_local, contexts_of_two_threads_never_interfere, 15,
              "a thread of the test never finished")
{
    gate_init(&a_added);
    gate_init(&b_added);
    run_workers(2, set_in_turn);
    cr_assert_eq(set_errors[0] | set_errors[1], 0, "context_set returned "
                 "%d and %d, expected 0", set_errors[0], set_errors[1]);
    cr_assert_null(got[2], "thread B had set no context yet, but "
                   "context_get returned %p (thread A's is %p): a context "
                   "belongs to one thread", got[2], (void *)&values[0]);
    cr_assert_eq(got[0], &values[0], "thread A set its context, thread B "
                 "then set another, and A got %p back instead of its own %p: "
                 "keep each thread's context in a pthread key "
                 "(pthread_setspecific / pthread_getspecific)", got[0],
                 (void *)&values[0]);
    cr_assert_eq(got[1], &values[1], "thread B set its context and got %p "
                 "back instead of %p", got[1], (void *)&values[1]);
}

EXERCISE_TEST(thread_local, context_set_rejects_null, 10,
              "context_set never returned")
{
    cr_assert_eq(context_set(NULL, record_release), EINVAL,
                 "context_set(NULL, ...) must return EINVAL");
    cr_assert_null(context_get(), "after a rejected context_set(NULL, ...) "
                   "context_get returned %p, expected NULL", context_get());
}

static int releases_before_exit[8];

static void set_then_end(int number)
{
    set_errors[number] = context_set(&values[number], record_release);
    got[number] = context_get();
    releases_before_exit[number] = releases(number);
}

EXERCISE_TEST(thread_local, context_is_released_once_when_its_thread_ends, 10,
              "a thread of the test never finished: does the release "
              "function block?")
{
    run_workers(1, set_then_end);
    cr_assert_eq(set_errors[0], 0, "context_set returned %d", set_errors[0]);
    cr_assert_eq(got[0], &values[0], "context_get returned %p right after "
                 "context_set(%p)", got[0], (void *)&values[0]);
    cr_assert_eq(releases_before_exit[0], 0, "the context was released while "
                 "its thread was still using it");
    int count = releases(0);
    cr_assert_eq(count, 1, "a thread that set a context ended, and its "
                 "context was released %d times (expected once): create the "
                 "key with a destructor (pthread_key_create(&key, destructor)) "
                 "that calls the release function", count);
    cr_assert_eq(released_by[0], 0, "the context was released by another "
                 "thread (%d) than the one that set it", released_by[0]);
    cr_assert_eq(foreign_releases, 0, "a value that was never set was "
                 "released");
}

static void set_if_even(int number)
{
    if (number % 2 == 0)
        set_errors[number] = context_set(&values[number], record_release);
    got[number] = context_get();
}

EXERCISE_TEST(thread_local, only_threads_that_set_a_context_release_one, 10,
              "a thread of the test never finished")
{
    run_workers(6, set_if_even);
    for (int i = 0; i < 6; i++) {
        int expected = i % 2 == 0 ? 1 : 0;
        cr_assert_eq(set_errors[i], 0, "context_set returned %d",
                     set_errors[i]);
        cr_assert_eq(got[i], i % 2 == 0 ? (void *)&values[i] : NULL,
                     "thread %d %s a context and context_get returned %p",
                     i, i % 2 == 0 ? "set" : "never set", got[i]);
        cr_assert_eq(releases(i), expected, "thread %d %s a context, and "
                     "%d release%s followed for its value (expected %d)", i,
                     i % 2 == 0 ? "set" : "never set", releases(i),
                     releases(i) == 1 ? "" : "s", expected);
    }
    cr_assert_eq(foreign_releases, 0, "a value that was never set was "
                 "released");
}

static int releases_after_replace[2];

static void set_twice(int number)
{
    (void)number;
    set_errors[0] = context_set(&values[0], record_release);
    set_errors[1] = context_set(&values[1], record_release);
    releases_after_replace[0] = releases(0);
    releases_after_replace[1] = releases(1);
    got[0] = context_get();
}

EXERCISE_TEST(thread_local, setting_again_releases_the_old_context_at_once, 10,
              "a thread of the test never finished")
{
    run_workers(1, set_twice);
    cr_assert_eq(set_errors[0] | set_errors[1], 0, "context_set returned "
                 "%d and %d", set_errors[0], set_errors[1]);
    cr_assert_eq(got[0], &values[1], "after setting a second context, "
                 "context_get returned %p instead of the second one (%p)",
                 got[0], (void *)&values[1]);
    cr_assert_eq(releases_after_replace[0], 1, "the first context was "
                 "released %d times when a second one replaced it (expected "
                 "once, at once): release the old record before forgetting it",
                 releases_after_replace[0]);
    cr_assert_eq(releases_after_replace[1], 0, "the new context was released "
                 "as soon as it was set");
    cr_assert_eq(releases(0), 1, "the first context was released %d times in "
                 "all (expected once)", releases(0));
    cr_assert_eq(releases(1), 1, "the second context was released %d times "
                 "when its thread ended (expected once)", releases(1));
}

static void set_without_release(int number)
{
    set_errors[number] = context_set(&values[number], NULL);
    got[number] = context_get();
}

EXERCISE_TEST(thread_local, a_context_without_release_function_is_dropped, 10,
              "a thread of the test never finished")
{
    run_workers(1, set_without_release);
    cr_assert_eq(set_errors[0], 0, "context_set(value, NULL) returned %d",
                 set_errors[0]);
    cr_assert_eq(got[0], &values[0], "context_get returned %p after "
                 "context_set(%p, NULL)", got[0], (void *)&values[0]);
}

/* ---- the key is created once, even when threads race to use it first ----
 *
 * This file defines pthread_key_create, so every call of it in this test
 * program comes here first (then goes on to the C library's).  When armed,
 * the first call waits until a second call arrives (or half a second
 * passes): code that creates the key without pthread_once then creates it
 * again from another thread on every run, not once in a while. */
static pthread_mutex_t key_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t key_cond = PTHREAD_COND_INITIALIZER;
static int key_creations;
static bool hold_first_creation;

static void wait_for_a_second_creation(void)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 500000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (key_creations < 2)
        if (pthread_cond_timedwait(&key_cond, &key_mutex, &deadline) != 0)
            break;
}

int pthread_key_create(pthread_key_t *key, void (*destructor)(void *))
{
    int (*real_create)(pthread_key_t *, void (*)(void *));
    *(void **)&real_create = dlsym(RTLD_NEXT, "pthread_key_create");
    pthread_mutex_lock(&key_mutex);
    key_creations++;
    pthread_cond_broadcast(&key_cond);
    if (hold_first_creation && key_creations == 1)
        wait_for_a_second_creation();
    pthread_mutex_unlock(&key_mutex);
    return real_create(key, destructor);
}

static struct gate start_together;

static void race_to_set(int number)
{
    gate_wait(&start_together, 5.0);
    set_errors[number] = context_set(&values[number], record_release);
    got[number] = context_get();
}

EXERCISE_TEST(thread_local, key_is_created_once_when_threads_race_to_use_it,
              15, "a thread of the test never finished")
{
    gate_init(&start_together);
    pthread_mutex_lock(&key_mutex);
    key_creations = 0;
    hold_first_creation = true;
    pthread_mutex_unlock(&key_mutex);

    pthread_t threads[8];
    struct worker workers[8];
    for (int i = 0; i < 8; i++) {
        workers[i] = (struct worker){i, race_to_set};
        cr_assert_eq(pthread_create(&threads[i], NULL, run_worker,
                                    &workers[i]), 0);
    }
    gate_open(&start_together);
    for (int i = 0; i < 8; i++)
        pthread_join(threads[i], NULL);

    pthread_mutex_lock(&key_mutex);
    int creations = key_creations;
    hold_first_creation = false;
    pthread_mutex_unlock(&key_mutex);
    cr_assert_neq(creations, 0, "8 threads set contexts, and "
                  "pthread_key_create was never called: keep each thread's "
                  "context in a pthread key");
    cr_assert_eq(creations, 1, "8 threads used the contexts for the first "
                 "time at once, and pthread_key_create was called %d times "
                 "(expected once): create the key inside pthread_once, which "
                 "runs it once and makes the others wait for it", creations);
    for (int i = 0; i < 8; i++) {
        cr_assert_eq(set_errors[i], 0, "context_set returned %d",
                     set_errors[i]);
        cr_assert_eq(got[i], &values[i], "thread %d got %p back instead of "
                     "its own context %p", i, got[i], (void *)&values[i]);
        cr_assert_eq(releases(i), 1, "the context of thread %d was released "
                     "%d times (expected once)", i, releases(i));
    }
}
