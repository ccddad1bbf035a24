/* Tests for exercise 02: each thread gets its own argument, and run_jobs
 * hands back each thread's result in input order. */

/*
 * Concurrency matrix (who runs at the same time as whom, and where):
 *   do_something   vs do_something in other threads: workload (drivers x
 *                  jobs, tsan+helgrind); do_something_runs_as_a_job
 *   run_jobs       vs its own job threads reading their arguments while the
 *                  start loop moves on: arguments_stay_valid_until_the_
 *                  threads_end (held starts), workload; vs run_jobs in other
 *                  threads: workload (3 drivers)
 * Error paths (each: error reported, results[] NULL or a real result,
 * nothing leaked, no thread left):
 *   pthread_create fails (4th of 6)   failed_start_keeps_the_results_of_
 *                                      jobs_that_ran
 *   pthread_create fails (3rd of 4)   a_failed_start_leaks_nothing
 *                                      (watched allocations: leak check)
 *   malloc fails (1st, 2nd, ... each) out_of_memory_is_reported_without_
 *                                      leaks
 * Contract edges: count 0 (zero_jobs_run_nothing); messages of 18 to 21
 * characters, 3 digits and a sign (do_something_fits_every_length_of_
 * message, asan sees an overflow); results in input order; the very
 * pointer handed back.
 */

#include "args_results.h"
#include "harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_JOBS 8

/* Stands in results[] slots that run_jobs never wrote. */
static char never_written;
#define NOT_SET (&never_written)

static void fill_not_set(char **results, size_t count)
{
    for (size_t i = 0; i < count; i++)
        results[i] = NOT_SET;
}

static void free_results(char **results, size_t count)
{
    for (size_t i = 0; i < count; i++)
        if (results[i] != NOT_SET)
            free(results[i]);
}

static char *new_string(const char *format, long value)
{
    char *text = malloc(48);
    if (text != NULL)
        snprintf(text, 48, format, value);
    return text;
}

/* Checks results[i] == expected, with a message that says what to fix. */
static void check_result(char **results, size_t i, const char *expected)
{
    cr_assert(results[i] != NOT_SET, "results[%zu] was never written: "
              "after joining thread %zu, store what pthread_join handed "
              "back in results[%zu]", i, i, i);
    cr_assert(results[i] != NULL, "results[%zu] is NULL, expected '%s': "
              "return the job's result from the thread function, and "
              "collect it with pthread_join(thread, &result)", i, expected);
    cr_assert_str_eq(results[i], expected, "results[%zu] is '%s', expected "
                     "'%s'", i, results[i], expected);
}

/* ---- do_something ------------------------------------------------------ */

EXERCISE_TEST(args_results, do_something_returns_a_new_message, 10,
              "do_something never returned: does it sleep milliseconds, "
              "not seconds?")
{
    char *first = do_something(2);
    char *second = do_something(0);
    cr_assert(first != NULL && second != NULL, "do_something returned NULL: "
              "it must return a new string 'Done sleeping N ms'");
    cr_assert(first != second, "do_something returned the same buffer twice: "
              "a static buffer is shared by every thread, and each call "
              "overwrites it. Allocate a new string with malloc each time");
    cr_assert_str_eq(first, "Done sleeping 2 ms", "do_something(2) returned "
                     "'%s', expected 'Done sleeping 2 ms'", first);
    cr_assert_str_eq(second, "Done sleeping 0 ms", "do_something(0) returned "
                     "'%s', expected 'Done sleeping 0 ms'", second);
    free(first);  /* the caller owns the message: it must be malloc'd */
    free(second);
}

EXERCISE_TEST(args_results, do_something_runs_as_a_job, 10,
              "run_jobs(do_something, ...) never returned")
{
    const long milliseconds[] = {3, 1, 2};
    char *results[3];
    fill_not_set(results, 3);
    int error = run_jobs(do_something, milliseconds, 3, results);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    check_result(results, 0, "Done sleeping 3 ms");
    check_result(results, 1, "Done sleeping 1 ms");
    check_result(results, 2, "Done sleeping 2 ms");
    free_results(results, 3);
}

/* ---- each thread its own argument -------------------------------------- */

/* echo_input counts the inputs its jobs were given (the tests' inputs are
 * all below 128; anything else is garbage read by a job). */
#define INPUT_LIMIT 128
static pthread_mutex_t received_mutex = PTHREAD_MUTEX_INITIALIZER;
static int received[INPUT_LIMIT];

static char *echo_input(long input)
{
    pthread_mutex_lock(&received_mutex);
    if (input >= 0 && input < INPUT_LIMIT)
        received[input]++;
    pthread_mutex_unlock(&received_mutex);
    return new_string("input %ld", input);
}

static void check_echoed_inputs(const long *inputs, char **results,
                                size_t count)
{
    int times[MAX_JOBS];
    pthread_mutex_lock(&received_mutex);
    for (size_t i = 0; i < count; i++)
        times[i] = received[inputs[i]];
    pthread_mutex_unlock(&received_mutex);
    for (size_t i = 0; i < count; i++) {
        cr_assert_eq(times[i], 1, "inputs[%zu] = %ld was given to %d jobs, "
                     "expected exactly 1: the threads read their argument "
                     "after the start loop had changed it. Give every thread "
                     "its own argument (one struct per thread, in an array) "
                     "that stays valid until it is joined, never the address "
                     "of a variable of the loop", i, inputs[i], times[i]);
    }
    for (size_t i = 0; i < count; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "input %ld", inputs[i]);
        cr_assert(results[i] != NOT_SET && results[i] != NULL,
                  "results[%zu] is %s: return the job's result from the "
                  "thread function, and store what pthread_join hands back",
                  i, results[i] ? "not set" : "NULL");
        cr_assert_str_eq(results[i], expected, "every job got its own input, "
                         "but results[%zu] holds '%s' instead of '%s': store "
                         "the result of thread i in results[i]", i, results[i],
                         expected);
    }
}

EXERCISE_TEST(args_results, each_job_gets_its_own_input, 10,
              "run_jobs never returned")
{
    const long inputs[6] = {101, 102, 103, 104, 105, 106};
    char *results[6];
    fill_not_set(results, 6);
    /* The threads start running only once all six have been created: a
     * shared argument has been overwritten by then, on every run. */
    harness_hold_new_threads(6, 5.0);
    int error = run_jobs(echo_input, inputs, 6, results);
    harness_hold_new_threads(-1, 0);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    check_echoed_inputs(inputs, results, 6);
    free_results(results, 6);
}

EXERCISE_TEST(args_results, arguments_stay_valid_until_the_threads_end, 10,
              "run_jobs never returned")
{
    const long inputs[4] = {7, 8, 9, 10};
    char *results[4];
    fill_not_set(results, 4);
    /* The threads are held for half a second, long after run_jobs created
     * them: by then it waits in pthread_join, and their arguments must
     * still be there. */
    harness_hold_new_threads(4 + 1, 0.5);
    int error = run_jobs(echo_input, inputs, 4, results);
    harness_hold_new_threads(-1, 0);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    check_echoed_inputs(inputs, results, 4);
    free_results(results, 4);
}

/* ---- results in input order, handed over untouched --------------------- */

#define CHAIN 5
static struct gate turn[CHAIN];
static pthread_mutex_t gave_up_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool gave_up;

/* Job k waits for its turn, then gives the turn to job k-1: the jobs finish
 * last input first.  If one waits in vain (the jobs do not run at the same
 * time), every gate opens so that the test ends quickly. */
static char *finish_in_reverse_order(long position)
{
    if (position < 0 || position >= CHAIN)
        return NULL; /* not one of the inputs: the results check says so */
    if (!gate_wait(&turn[position], 5.0)) {
        pthread_mutex_lock(&gave_up_mutex);
        gave_up = true;
        pthread_mutex_unlock(&gave_up_mutex);
        for (int k = 0; k < CHAIN; k++)
            gate_open(&turn[k]);
    }
    char *result = new_string("position %ld", position);
    if (position > 0)
        gate_open(&turn[position - 1]);
    return result;
}

EXERCISE_TEST(args_results, results_come_back_in_input_order, 15,
              "run_jobs never returned")
{
    const long positions[CHAIN] = {0, 1, 2, 3, 4};
    char *results[CHAIN];
    fill_not_set(results, CHAIN);
    for (int k = 0; k < CHAIN; k++)
        gate_init(&turn[k]);
    gate_open(&turn[CHAIN - 1]);
    /* Every thread starts only once all were created: a thread that reads a
     * shared loop variable then reads the same value on every run, so that
     * this test fails for the same reason each time. */
    harness_hold_new_threads(CHAIN, 2.0);
    int error = run_jobs(finish_in_reverse_order, positions, CHAIN, results);
    harness_hold_new_threads(-1, 0);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    pthread_mutex_lock(&gave_up_mutex);
    bool waited_in_vain = gave_up;
    pthread_mutex_unlock(&gave_up_mutex);
    cr_assert_not(waited_in_vain, "the jobs did not run at the same time (each "
                  "waits for the one after it): start every thread before "
                  "joining any");
    for (size_t i = 0; i < CHAIN; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "position %zu", i);
        cr_assert(results[i] != NOT_SET && results[i] != NULL,
                  "results[%zu] is %s after the jobs finished last first", i,
                  results[i] ? "not set" : "NULL");
        cr_assert_str_eq(results[i], expected, "the jobs finished in reverse "
                         "order, and results[%zu] holds '%s' instead of "
                         "'%s': results[i] must be the result of "
                         "inputs[i], not of the i-th thread to finish", i,
                         results[i], expected);
    }
    free_results(results, CHAIN);
}

/* Each job remembers the pointer it returned; even inputs return NULL. */
static pthread_mutex_t returned_mutex = PTHREAD_MUTEX_INITIALIZER;
static char *returned[MAX_JOBS];

static char *remember_result(long input)
{
    char *result = input % 2 == 0 ? NULL : new_string("odd %ld", input);
    pthread_mutex_lock(&returned_mutex);
    if (input >= 0 && input < MAX_JOBS)
        returned[input] = result;
    pthread_mutex_unlock(&returned_mutex);
    return result;
}

EXERCISE_TEST(args_results, hands_over_the_very_pointer_each_job_returned, 10,
              "run_jobs never returned")
{
    const long inputs[MAX_JOBS] = {0, 1, 2, 3, 4, 5, 6, 7};
    char *results[MAX_JOBS];
    fill_not_set(results, MAX_JOBS);
    int error = run_jobs(remember_result, inputs, MAX_JOBS, results);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    char *expected[MAX_JOBS];
    pthread_mutex_lock(&returned_mutex);
    memcpy(expected, returned, sizeof expected);
    pthread_mutex_unlock(&returned_mutex);
    for (size_t i = 0; i < MAX_JOBS; i++) {
        cr_assert(results[i] != NOT_SET, "results[%zu] was never written",
                  i);
        cr_assert(results[i] == expected[i], "results[%zu] is %p, but the "
                  "job returned %p: hand over the job's own pointer (NULL "
                  "included); the caller frees it, so a copy would leak it",
                  i, (void *)results[i], (void *)expected[i]);
    }
    free_results(results, MAX_JOBS);
}

/* ---- all at once, and nothing for nothing ------------------------------ */

static struct peak_probe overlap;

static char *wait_for_all_six(long input)
{
    probe_enter_and_wait_for(&overlap, 6, 5.0);
    probe_leave(&overlap);
    return new_string("job %ld", input);
}

EXERCISE_TEST(args_results, runs_all_jobs_at_the_same_time, 15,
              "run_jobs never returned")
{
    const long inputs[6] = {1, 2, 3, 4, 5, 6};
    char *results[6];
    fill_not_set(results, 6);
    probe_init(&overlap);
    int error = run_jobs(wait_for_all_six, inputs, 6, results);
    int peak = probe_peak(&overlap);
    cr_assert_eq(error, 0, "run_jobs returned %d, expected 0", error);
    cr_assert_eq(peak, 6, "at most %d of 6 jobs ran at the same time: start "
                 "every thread before joining any", peak);
    free_results(results, 6);
}

static char *must_not_run(long input)
{
    harness_note("run_jobs with count 0 ran a job (input %ld)", input);
    return NULL;
}

EXERCISE_TEST(args_results, zero_jobs_run_nothing, 10,
              "run_jobs(..., 0, ...) never returned")
{
    int calls_before = harness_pthread_create_calls();
    int error = run_jobs(must_not_run, NULL, 0, NULL);
    cr_assert_eq(error, 0, "run_jobs with count 0 returned %d, expected 0",
                 error);
    cr_assert_eq(harness_pthread_create_calls(), calls_before,
                 "run_jobs with count 0 created a thread");
}

/* ---- a failed pthread_create ------------------------------------------- */

EXERCISE_TEST(args_results, failed_start_keeps_the_results_of_jobs_that_ran,
              10, "after a failed pthread_create, run_jobs never returned: "
              "does it join only the threads that did start?")
{
    const long inputs[6] = {31, 32, 33, 34, 35, 36};
    char *results[6];
    fill_not_set(results, 6);
    int calls_before = harness_pthread_create_calls();
    harness_fail_pthread_create_after(3);
    int error = run_jobs(echo_input, inputs, 6, results);
    harness_fail_pthread_create_after(-1);
    int calls = harness_pthread_create_calls() - calls_before;
    cr_assert_eq(error, EAGAIN, "the 4th pthread_create failed with EAGAIN "
                 "(%d), and run_jobs returned %d: return its error", EAGAIN,
                 error);
    cr_assert_eq(calls, 4, "pthread_create was called %d times: stop "
                 "starting threads after the first failure", calls);
    for (size_t i = 0; i < 3; i++) {
        char expected[48];
        snprintf(expected, sizeof expected, "input %ld", inputs[i]);
        cr_assert(results[i] != NOT_SET && results[i] != NULL,
                  "job %zu ran before pthread_create failed, but results[%zu] "
                  "is %s: its result is lost (leaked). Join every started "
                  "thread and keep its result for the caller", i, i,
                  results[i] ? "not set" : "NULL");
        cr_assert_str_eq(results[i], expected, "results[%zu] is '%s', "
                         "expected '%s' (the caller frees it: do not free "
                         "it yourself)", i, results[i], expected);
    }
    for (size_t i = 3; i < 6; i++)
        cr_assert(results[i] == NULL, "job %zu never ran, so results[%zu] "
                  "must be NULL (the caller frees every entry), but it is %s",
                  i, i, results[i] == NOT_SET ? "not set" : "not NULL");
    free_results(results, 6);
}

/* ---- message lengths ------------------------------------------------------ */

EXERCISE_TEST(args_results, do_something_fits_every_length_of_message, 10,
              "do_something never returned")
{
    /* 18 to 21 characters (19 to 22 bytes with the '\0'): a buffer sized
     * for the short messages overflows on the long ones (the asan check
     * sees the write past the end). */
    const long milliseconds[] = {7, 42, 105, -105};
    for (size_t k = 0; k < 4; k++) {
        char expected[48];
        snprintf(expected, sizeof expected, "Done sleeping %ld ms",
                 milliseconds[k]);
        char *message = do_something(milliseconds[k]);
        cr_assert(message != NULL, "do_something(%ld) returned NULL",
                  milliseconds[k]);
        cr_assert_str_eq(message, expected, "do_something(%ld) returned "
                         "'%s', expected '%s' (%zu characters: size the "
                         "buffer from the message, e.g. snprintf(NULL, 0, "
                         "...) + 1)", milliseconds[k], message, expected,
                         strlen(expected));
        free(message);
    }
}

/* ---- memory that runs out --------------------------------------------------
 * The jobs below return static strings, so that every block allocated while
 * the harness watches is run_jobs's own: all of them must be freed when it
 * returns (the asan check does not look for leaks: this test does). */
static char static_results[MAX_JOBS][16];

static char *static_result(long input)
{
    return static_results[input];
}

static void check_nothing_left(const char *after, int threads_before)
{
    long live = harness_live_allocations();
    cr_assert_eq(live, 0, "%s, %ld block(s) that run_jobs allocated were "
                 "never freed: free every allocation (thread ids, per-thread "
                 "arguments) on every way out, the error paths too", after,
                 live);
    /* A joined thread can linger in /proc/self/task for a moment. */
    cr_assert(wait_for_thread_count(threads_before, 2.0), "%s, %d thread(s) "
              "more than before were still there 2 s later: join every "
              "thread that started", after,
              count_process_threads() - threads_before);
}

EXERCISE_TEST(args_results, out_of_memory_is_reported_without_leaks, 15,
              "run_jobs never returned when malloc failed")
{
    const long inputs[4] = {0, 1, 2, 3};
    int threads_before = count_process_threads();
    int succeeded_at = -1;
    /* Fail the 1st, 2nd, ... allocation run_jobs makes, until it needs no
     * more than were allowed. */
    for (int allowed = 0; allowed < 16 && succeeded_at < 0; allowed++) {
        char *results[4];
        fill_not_set(results, 4);
        harness_watch_allocations(true);
        harness_fail_call_after(HARNESS_ALLOC, allowed, ENOMEM);
        int error = run_jobs(static_result, inputs, 4, results);
        harness_fail_call_after(HARNESS_ALLOC, -1, 0);
        harness_watch_allocations(false);
        char after[96];
        snprintf(after, sizeof after, "after allocation %d failed and "
                 "run_jobs returned %d", allowed + 1, error);
        if (error == 0) {
            succeeded_at = allowed;
        } else {
            cr_assert_eq(error, ENOMEM, "allocation %d of run_jobs failed "
                         "(malloc returned NULL) and run_jobs returned %d, "
                         "expected ENOMEM (%d)", allowed + 1, error, ENOMEM);
        }
        for (size_t i = 0; i < 4; i++)
            cr_assert(results[i] == NULL || results[i] == static_results[i],
                      "%s, results[%zu] is %s: on an error every results[i] "
                      "is the result of a job that ran or NULL (the caller "
                      "frees them all: set them to NULL first)", after, i,
                      results[i] == NOT_SET ? "not set" : "a wrong pointer");
        check_nothing_left(after, threads_before);
    }
    cr_assert(succeeded_at >= 0, "run_jobs of 4 jobs never succeeded, even "
              "with 16 allocations allowed");
}

EXERCISE_TEST(args_results, a_failed_start_leaks_nothing, 10,
              "after a failed pthread_create, run_jobs never returned")
{
    const long inputs[4] = {0, 1, 2, 3};
    int threads_before = count_process_threads();
    char *results[4];
    fill_not_set(results, 4);
    harness_watch_allocations(true);
    harness_fail_pthread_create_after(2);
    int error = run_jobs(static_result, inputs, 4, results);
    harness_fail_pthread_create_after(-1);
    harness_watch_allocations(false);
    cr_assert_eq(error, EAGAIN, "the 3rd pthread_create failed with EAGAIN "
                 "(%d), and run_jobs returned %d: return its error", EAGAIN,
                 error);
    check_nothing_left("after the 3rd pthread_create failed", threads_before);
}
