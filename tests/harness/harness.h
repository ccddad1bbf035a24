/*
 * The test harness shared by every exercise's Criterion tests.
 *
 * Every test is declared with EXERCISE_TEST, never with Criterion's Test():
 * it gives the test a time limit and a hint for when it hangs, and it arms
 * the guards that turn exit(), _exit() and pthread_exit() in the code under
 * test into failed tests (Criterion alone would count an early exit(0) as a
 * pass).  The guards, the injected spurious wake-ups and the pthread_create
 * fault injection are linked in with -Wl,--wrap (see the Makefile).
 */
#ifndef THREADLINGS_HARNESS_H
#define THREADLINGS_HARNESS_H

#include <criterion/criterion.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include "clock.h"
#include "failures.h"
#include "interleavings.h"

void harness_begin_test(double seconds, const char *hang_hint);
void harness_end_test(void);

/*
 * EXERCISE_TEST(suite, name, seconds, "what probably hangs if it times out")
 * The hint is shown to the student when the test runs out of time.
 */
#define EXERCISE_TEST(suite, name, seconds, hang_hint)                       \
    static void begin_##suite##_##name(void)                                 \
    {                                                                        \
        harness_begin_test((seconds), (hang_hint));                          \
    }                                                                        \
    Test(suite, name, .init = begin_##suite##_##name,                        \
         .fini = harness_end_test, .timeout = (seconds))

/* A note for the student, shown beside a failure (saved outside Criterion,
 * so that it survives a crash or an exit from another thread).  A note that
 * starts with "if-it-hangs: " or "early-exit: " is read as that kind. */
void harness_note(const char *format, ...)
    __attribute__((format(printf, 1, 2)));

/* Fault injection: the next `successes` calls of pthread_create succeed,
 * the one after fails with EAGAIN.  -1 disarms.  The harness's own threads
 * (async_start) are neither counted nor failed. */
void harness_fail_pthread_create_after(int successes);
/* How many times pthread_create has been called (harness threads aside). */
int harness_pthread_create_calls(void);
/* In a thread made by pthread_create: the value harness_pthread_create_calls()
 * had just before that call (so the first thread a test's code makes has the
 * number the test read beforehand).  -1 in other threads. */
int harness_creation_number(void);
/* New threads wait before running their start function until `created`
 * more pthread_create calls have been made (or `seconds` passed); -1 stops
 * holding.  Makes `pthread_create(..., &i)` of a loop variable fail on every
 * run: each thread reads i only after the loop has moved on. */
void harness_hold_new_threads(int created, double seconds);
/* New threads wait before running their start function until some thread
 * calls pthread_join (or `seconds` passed); harness_hold_new_threads(-1, 0)
 * stops holding. */
void harness_hold_new_threads_until_joined(double seconds);

/* Injected spurious wake-ups are on by default. */
void harness_set_spurious_wakeups(bool enabled);

/* A gate that threads wait at until the test opens it. */
struct gate {
    pthread_mutex_t mutex;
    pthread_cond_t opened_cond;
    bool is_open;
};
void gate_init(struct gate *gate);
void gate_open(struct gate *gate);
/* Waits until the gate opens; false if `seconds` passed first. */
bool gate_wait(struct gate *gate, double seconds);
void gate_destroy(struct gate *gate);

/*
 * Peak-concurrency probe: threads call probe_enter and probe_leave around
 * the work; the probe remembers the most that were inside at once.
 * probe_enter_and_wait_for(probe, n, seconds) also holds the caller until n
 * threads are inside at once, or gives up (for everyone) after `seconds`:
 * this proves overlap without a clock and cannot deadlock a wrong solution.
 */
struct peak_probe {
    pthread_mutex_t mutex;
    pthread_cond_t changed_cond;
    int inside;
    int peak;
    int entered;
    bool gave_up;
};
void probe_init(struct peak_probe *probe);
void probe_enter(struct peak_probe *probe);
bool probe_enter_and_wait_for(struct peak_probe *probe, int wanted,
                              double seconds);
/* Waits (at most `seconds`) until `wanted` threads in all have entered,
 * without entering itself; true if they did. */
bool probe_wait_for_entered(struct peak_probe *probe, int wanted,
                            double seconds);
void probe_leave(struct peak_probe *probe);
int probe_peak(struct peak_probe *probe);
int probe_entered(struct peak_probe *probe);
void probe_destroy(struct peak_probe *probe);

/*
 * A call run in its own thread, so that the test can check that it has NOT
 * returned yet (it should be blocked), and later that it did return.
 * Keep the async_call and whatever its thread writes in static storage: a
 * failed assertion leaves the test function while the thread may still run.
 */
struct async_call {
    pthread_t thread;
    void *(*function)(void *);
    void *argument;
    void *result;
    pthread_mutex_t mutex;
    pthread_cond_t done_cond;
    bool done;
    bool joined;
};
void async_start(struct async_call *call, void *(*function)(void *),
                 void *argument);
/* True once the call has returned; waits at most `seconds` for it. */
bool async_wait(struct async_call *call, double seconds);
bool async_is_done(struct async_call *call);
/* Several calls, for any_async_call_returned: `count` async_calls `stride`
 * bytes apart, each the `async` member of an array of larger structs
 * (ASYNC_CALLS(array, count) says so), or a plain array of them. */
struct async_calls {
    struct async_call *first;
    size_t stride;
    int count;
};
#define ASYNC_CALLS(array, n) \
    (&(struct async_calls){&(array)[0].async, sizeof (array)[0], (n)})
/* True once one of the calls (a struct async_calls) has returned; in the
 * shape wait_until_asleep_on (sleepers.h) takes to stop waiting early. */
bool any_async_call_returned(const void *async_calls);
/* Joins the thread if the call returned; a call that never returns is left
 * behind (the test fails anyway, and its process ends). */
void async_finish(struct async_call *call);

#endif
