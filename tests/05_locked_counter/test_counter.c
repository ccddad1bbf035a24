/* Tests for exercise 05, part 1: counter_increment loses no update. */
#include "harness.h"
#include "counter.h"

#define MAX_THREADS 16

static struct counter counter;
static struct gate start_line;

/* Waits at the start line, then increments `*argument` times. */
static void *increment_from_the_start_line(void *argument)
{
    long increments = *(const long *)argument;
    gate_wait(&start_line, 10.0);
    for (long i = 0; i < increments; i++)
        counter_increment(&counter);
    return NULL;
}

/* Starts `threads` threads, releases them together, joins them, and
 * returns the counter's value (it starts at 0). */
static long count_in_threads(int threads, long increments)
{
    pthread_t ids[MAX_THREADS];
    cr_assert_eq(counter_init(&counter), 0, "counter_init failed");
    gate_init(&start_line);
    for (int i = 0; i < threads; i++)
        cr_assert_eq(pthread_create(&ids[i], NULL,
                                    increment_from_the_start_line, &increments),
                     0, "the test could not start its threads");
    gate_open(&start_line);
    for (int i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    gate_destroy(&start_line);
    long value = counter_value(&counter);
    counter_destroy(&counter);
    return value;
}

/* Increments until `stop`, counting its own increments in `*done`. */
struct timed_incrementer {
    double stop;
    long done;
};

static void *increment_until_stop(void *raw)
{
    struct timed_incrementer *self = raw;
    gate_wait(&start_line, 10.0);
    while (now_seconds() < self->stop) {
        for (int i = 0; i < 1000; i++)
            counter_increment(&counter);
        self->done += 1000;
    }
    return NULL;
}

/* Like count_in_threads, for `seconds` after the start; *expected is the
 * number of increments the threads made. */
static long count_in_threads_for(int threads, double seconds, long *expected)
{
    pthread_t ids[MAX_THREADS];
    struct timed_incrementer incrementers[MAX_THREADS];
    cr_assert_eq(counter_init(&counter), 0, "counter_init failed");
    gate_init(&start_line);
    double stop = now_seconds() + seconds;
    for (int i = 0; i < threads; i++) {
        incrementers[i] = (struct timed_incrementer){stop, 0};
        cr_assert_eq(pthread_create(&ids[i], NULL, increment_until_stop,
                                    &incrementers[i]),
                     0, "the test could not start its threads");
    }
    gate_open(&start_line);
    *expected = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        *expected += incrementers[i].done;
    }
    gate_destroy(&start_line);
    long value = counter_value(&counter);
    counter_destroy(&counter);
    return value;
}

EXERCISE_TEST(counter, starts_at_zero_and_counts_each_increment, 10,
              "counter_increment or counter_value never returned: is the "
              "lock unlocked after use?")
{
    cr_assert_eq(counter_init(&counter), 0, "counter_init failed");
    long initial = counter_value(&counter);
    for (int i = 0; i < 1000; i++)
        counter_increment(&counter);
    long value = counter_value(&counter);
    counter_destroy(&counter);
    cr_assert_eq(initial, 0, "a new counter has the value %ld, expected 0",
                 initial);
    cr_assert_eq(value, 1000, "1000 increments in one thread gave %ld", value);
}

EXERCISE_TEST(counter, two_threads_of_1000_increments_reach_2000, 10,
              "the incrementing threads never finished: is the lock "
              "unlocked after every increment?")
{
    long value = count_in_threads(2, 1000);
    cr_assert_eq(value, 2000, "two threads x 1000 increments left the counter "
                 "at %ld, expected 2000: %ld increments were lost (two threads "
                 "read the same value and both wrote value + 1). Hold "
                 "counter->lock across the read and the write", value,
                 2000 - value);
}

EXERCISE_TEST(counter, many_threads_released_together_lose_no_increment, 20,
              "the incrementing threads never finished: is the lock "
              "unlocked after every increment?")
{
    /* The threads increment for a fixed time, not a fixed count: 50000
     * increments each took a millisecond, often less than a time slice, and
     * on a busy machine the threads then ran one after another and an
     * unlocked read-modify-write lost nothing in some runs.  For 0.3 s each
     * thread is preempted many times, some of them between its read and
     * its write.  (The message gives no count: it differs between runs.) */
    long expected = 0;
    long value = count_in_threads_for(8, 0.3, &expected);
    cr_assert_eq(value, expected, "8 threads incrementing at once for 0.3 s "
                 "lost increments: two threads read the same value and both "
                 "wrote value + 1. Hold counter->lock across the read and the "
                 "write of the value");
}

static long value_seen;

static void *call_increment(void *unused)
{
    (void)unused;
    counter_increment(&counter);
    return NULL;
}

static void *call_value(void *unused)
{
    (void)unused;
    value_seen = counter_value(&counter);
    return NULL;
}

EXERCISE_TEST(counter, increment_and_value_wait_for_the_counters_lock, 15,
              "counter_increment or counter_value never returned after the "
              "test released counter->lock")
{
    cr_assert_eq(counter_init(&counter), 0, "counter_init failed");
    struct async_call increment, value;
    pthread_mutex_lock(&counter.lock);
    async_start(&increment, call_increment, NULL);
    async_start(&value, call_value, NULL);
    /* Both calls must wait while the test holds the lock. */
    bool increment_early = async_wait(&increment, 0.5);
    bool value_early = async_wait(&value, 0.01);
    pthread_mutex_unlock(&counter.lock);
    cr_assert_not(increment_early, "counter_increment returned while another "
                  "thread held counter->lock: it changed the value without "
                  "taking the counter's lock (a lock of its own, or none, "
                  "protects nothing)");
    cr_assert_not(value_early, "counter_value returned while another thread "
                  "held counter->lock: read the value under the lock too");
    cr_assert(async_wait(&increment, 5.0), "counter_increment never returned "
              "after the lock was released");
    cr_assert(async_wait(&value, 5.0), "counter_value never returned after "
              "the lock was released");
    async_finish(&increment);
    async_finish(&value);
    long final = counter_value(&counter);
    counter_destroy(&counter);
    cr_assert_eq(final, 1, "one increment gave the value %ld", final);
}
