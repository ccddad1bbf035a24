/* Tests for exercise 13: CPU-bound chunks computed in parallel, exactly. */
#include "harness.h"
#include "parallel_sum.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>

/* Values with both signs and large magnitudes (a 32-bit sum overflows),
 * the same on every run. */
static int64_t *make_values(size_t count)
{
    int64_t *values = malloc((count > 0 ? count : 1) * sizeof *values);
    cr_assert_not_null(values);
    uint64_t state = 88172645463325252u;
    for (size_t i = 0; i < count; i++) {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        values[i] = (int64_t)(state % 8000000000001u) - 4000000000000;
    }
    return values;
}

static int64_t serial_sum(const int64_t *values, size_t count)
{
    int64_t sum = 0;
    for (size_t i = 0; i < count; i++)
        sum += values[i];
    return sum;
}

static void check_total(size_t count, size_t threads)
{
    int64_t *values = make_values(count);
    int64_t total = -1;
    int error = parallel_sum(values, count, threads, sum_chunk, NULL, &total);
    cr_assert_eq(error, 0, "parallel_sum of %zu values in %zu threads "
                 "returned %d, expected 0", count, threads, error);
    int64_t expected = serial_sum(values, count);
    cr_assert_eq(total, expected, "parallel_sum of %zu values in %zu threads "
                 "gave %" PRId64 ", expected %" PRId64 "%s", count, threads,
                 total, expected, count % threads != 0 ? ": are the last "
                 "count % thread_count values in a chunk too?" : "");
    free(values);
}

EXERCISE_TEST(parallel_sum, sums_every_value_exactly, 20,
              "parallel_sum never returned: is every thread joined once?")
{
    check_total(4000, 1);
    check_total(4000, 2);
    check_total(4000, 4);
    check_total(4000, 8);
}

EXERCISE_TEST(parallel_sum, sums_every_value_when_the_count_does_not_divide,
              20, "parallel_sum never returned")
{
    check_total(10, 4);
    check_total(1001, 7);
    check_total(3, 5);
}

EXERCISE_TEST(parallel_sum, empty_input_sums_to_zero, 20,
              "parallel_sum never returned")
{
    check_total(0, 3);
}

EXERCISE_TEST(parallel_sum, zero_threads_is_an_error, 20,
              "parallel_sum never returned")
{
    int64_t values[2] = {1, 2}, total = 77;
    int error = parallel_sum(values, 2, 0, sum_chunk, NULL, &total);
    cr_assert_eq(error, EINVAL, "parallel_sum with 0 threads returned %d, "
                 "expected EINVAL (%d)", error, EINVAL);
    cr_assert_eq(total, 77, "a failed parallel_sum changed *total");
}

/* A chunk function that records which chunk each call got. */
#define MOST_CALLS 16
struct recorder {
    pthread_mutex_t mutex;
    int calls;
    const int64_t *starts[MOST_CALLS];
    size_t counts[MOST_CALLS];
};

static int64_t record_chunk(const int64_t *values, size_t count,
                            void *context)
{
    struct recorder *recorder = context;
    pthread_mutex_lock(&recorder->mutex);
    if (recorder->calls < MOST_CALLS) {
        recorder->starts[recorder->calls] = values;
        recorder->counts[recorder->calls] = count;
    }
    recorder->calls++;
    pthread_mutex_unlock(&recorder->mutex);
    return sum_chunk(values, count, NULL);
}

/* Checks that the recorded chunks cover values[0..count) once each, in
 * pieces whose sizes differ by at most one. */
static void check_chunks(const struct recorder *recorder,
                         const int64_t *values, size_t count, size_t threads)
{
    cr_assert_eq(recorder->calls, (int)threads, "the chunk function was "
                 "called %d times for %zu threads: each thread calls it "
                 "exactly once, for its own chunk (also an empty one)",
                 recorder->calls, threads);
    /* The non-empty chunks as (offset, size), sorted by offset. */
    ptrdiff_t offsets[MOST_CALLS];
    size_t sizes[MOST_CALLS], chunks = 0, smallest = count, largest = 0;
    for (size_t i = 0; i < threads; i++) {
        size_t size = recorder->counts[i];
        smallest = size < smallest ? size : smallest;
        largest = size > largest ? size : largest;
        if (size == 0)
            continue;
        ptrdiff_t offset = recorder->starts[i] - values;
        size_t at = chunks++;
        for (; at > 0 && offsets[at - 1] > offset; at--) {
            offsets[at] = offsets[at - 1];
            sizes[at] = sizes[at - 1];
        }
        offsets[at] = offset;
        sizes[at] = size;
    }
    ptrdiff_t next = 0; /* the first value not yet in a chunk */
    for (size_t k = 0; k < chunks; k++) {
        cr_assert(offsets[k] <= next, "values %td to %td are in no chunk: "
                  "each chunk must start where the one before it ended, and "
                  "each thread needs its own chunk record (not one the "
                  "start loop goes on changing)", next, offsets[k] - 1);
        cr_assert(offsets[k] == next, "values %td to %td are in two chunks: "
                  "does each thread get its own chunk record (not one the "
                  "start loop goes on changing), and does each chunk start "
                  "where the one before it ended?", offsets[k], next - 1);
        next += (ptrdiff_t)sizes[k];
    }
    cr_assert(next == (ptrdiff_t)count, "values %td to %zu (of %zu, in %zu "
              "threads) are in no chunk: the count %% thread_count values "
              "left over must go to some chunks too", next, count - 1,
              count, threads);
    cr_assert(largest - smallest <= 1, "chunk sizes range from %zu to %zu "
              "values for %zu values in %zu threads: make them differ by at "
              "most one, or one thread works on while the others' cores sit "
              "idle", smallest, largest, count, threads);
}

static void check_split(size_t count, size_t threads)
{
    int64_t *values = make_values(count);
    struct recorder recorder = {.mutex = PTHREAD_MUTEX_INITIALIZER};
    /* Each thread starts only once all are created: a chunk record that
     * the start loop reuses is then read after it has changed, every run. */
    harness_hold_new_threads((int)threads, 3.0);
    int64_t total = -1;
    int error = parallel_sum(values, count, threads, record_chunk, &recorder,
                             &total);
    harness_hold_new_threads(-1, 0);
    cr_assert_eq(error, 0, "parallel_sum returned %d, expected 0", error);
    check_chunks(&recorder, values, count, threads);
    cr_assert_eq(total, serial_sum(values, count), "parallel_sum of %zu "
                 "values in %zu threads gave the wrong total", count, threads);
    free(values);
}

EXERCISE_TEST(parallel_sum, gives_each_thread_its_own_equal_chunk, 30,
              "parallel_sum never returned")
{
    check_split(103, 4);
    check_split(12, 3);
    check_split(3, 5);
}

/* Each chunk waits (at most 3 s) until all of them compute at once. */
static int64_t wait_for_every_chunk(const int64_t *values, size_t count,
                                    void *context)
{
    struct peak_probe *probe = context;
    probe_enter_and_wait_for(probe, 4, 3.0);
    int64_t sum = sum_chunk(values, count, NULL);
    probe_leave(probe);
    return sum;
}

EXERCISE_TEST(parallel_sum, computes_the_chunks_at_the_same_time, 20,
              "parallel_sum never returned")
{
    struct peak_probe probe;
    probe_init(&probe);
    int64_t *values = make_values(400);
    int64_t total = -1;
    int error = parallel_sum(values, 400, 4, wait_for_every_chunk, &probe,
                             &total);
    cr_assert_eq(error, 0, "parallel_sum returned %d, expected 0", error);
    int peak = probe_peak(&probe);
    cr_assert_eq(peak, 4, "at most %d of 4 chunks were computed at the same "
                 "time: a lock held while a chunk is computed makes the "
                 "threads take turns, like Python's GIL. Compute each "
                 "partial sum with no lock held; lock only to add it", peak);
    int64_t expected = serial_sum(values, 400);
    cr_assert_eq(total, expected, "the total is %" PRId64 ", expected %"
                 PRId64 ": is every value in exactly one chunk, and does "
                 "each thread read its own chunk record?", total, expected);
    free(values);
}

/* Chunks that stay inside until the test opens a gate. */
struct held_chunks {
    struct gate release;
    struct peak_probe started;
};

static int64_t wait_for_release(const int64_t *values, size_t count,
                                void *context)
{
    struct held_chunks *held = context;
    probe_enter(&held->started);
    gate_wait(&held->release, 10.0);
    return sum_chunk(values, count, NULL);
}

struct sum_call {
    const int64_t *values;
    size_t count;
    size_t threads;
    chunk_sum_fn sum;
    void *context;
    int64_t total;
    int error;
};

static void *call_parallel_sum(void *raw)
{
    struct sum_call *call = raw;
    call->error = parallel_sum(call->values, call->count, call->threads,
                               call->sum, call->context, &call->total);
    return NULL;
}

EXERCISE_TEST(parallel_sum, failed_start_is_reported_after_joining_the_others,
              30, "after a failed pthread_create, parallel_sum never "
              "returned: does it join only the threads that did start?")
{
    static struct held_chunks held;
    gate_init(&held.release);
    probe_init(&held.started);
    int64_t *values = make_values(100);
    int baseline = count_process_threads();
    int calls_before = harness_pthread_create_calls();
    harness_fail_pthread_create_after(2);
    static struct sum_call call;
    call = (struct sum_call){values, 100, 4, wait_for_release, &held, 12345,
                             -1};
    static struct async_call async;
    async_start(&async, call_parallel_sum, &call);
    double give_up = now_seconds() + 3.0;
    while (probe_entered(&held.started) < 1 && now_seconds() < give_up)
        sleep_seconds(0.002);
    bool returned_early = async_wait(&async, 0.5);
    gate_open(&held.release);
    cr_assert_not(returned_early, "after pthread_create failed, parallel_sum "
                  "returned while a thread it had started was still "
                  "computing: join the started threads first");
    /* 10 s: the kit's hang watcher ignores waits that end within 5 s and
     * needs 3 s to call a busy loop a spin; a shorter wait would fail the
     * test before the watcher could name the line that spins. */
    cr_assert(async_wait(&async, 10.0), "parallel_sum never returned after "
              "its chunks finished");
    async_finish(&async);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(call.error, EAGAIN, "parallel_sum returned %d when "
                 "pthread_create failed with EAGAIN (%d): return its error",
                 call.error, EAGAIN);
    cr_assert_eq(call.total, 12345, "a failed parallel_sum changed *total "
                 "(to %" PRId64 ")", call.total);
    int calls = harness_pthread_create_calls() - calls_before;
    cr_assert_eq(calls, 3, "pthread_create was called %d times: stop "
                 "starting threads after the first failure", calls);
    cr_assert(wait_for_thread_count(baseline, 5.0), "%d threads were left "
              "running after parallel_sum returned",
              count_process_threads() - baseline);
    free(values);
}
