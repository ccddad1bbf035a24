/*
 * Failure injection and leak probes for the code under test.
 *
 * The calls below are wrapped with -Wl,--wrap (the Makefile's WRAPPED):
 * only calls made from objects linked into the test binary (the student's
 * files, the tests, the harness) reach the wrappers; calls inside libc
 * (fopen's own malloc, printf's write) and inside Criterion do not.
 *
 * A test arms one failure, calls the code under test, and checks that the
 * error was reported and that nothing leaked:
 *
 *     int fds = harness_count_open_fds();
 *     harness_fail_call_after(HARNESS_FORK, 1, EAGAIN);   second fork fails
 *     int error = process_map(...);
 *     harness_fail_call_after(HARNESS_FORK, -1, 0);       disarm
 *     cr_assert_eq(error, EAGAIN, ...);
 *     cr_assert_eq(harness_count_open_fds(), fds, ...);
 *     cr_assert(harness_no_children_left(), ...);
 *
 * Counting starts when the failure is armed, so the test must not make the
 * same kind of call between arming and the call under test.
 */
#ifndef THREADLINGS_FAILURES_H
#define THREADLINGS_FAILURES_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

enum harness_call {
    HARNESS_FORK,   /* fork() */
    HARNESS_PIPE,   /* pipe() */
    HARNESS_ALLOC,  /* malloc, calloc, realloc: only while watched (below) */
    HARNESS_OPEN,   /* open() and fopen() */
    HARNESS_CALL_KINDS
};

/* The call of `kind` made after `successes` more calls of that kind fails
 * with `error` (it returns -1 / NULL and sets errno, as the real call
 * would).  successes < 0 disarms. */
void harness_fail_call_after(enum harness_call kind, int successes, int error);
/* How many calls of `kind` were made (allocations: only while watched). */
int harness_calls(enum harness_call kind);

/*
 * Allocations are counted, failed and tracked only while watched, so that
 * the test's own and the harness's allocations never count.  Watch around
 * the call under test only.  Every block allocated while watched is
 * remembered until it is freed (through free() from any linked object, the
 * test's included): harness_live_allocations() is the number not freed
 * yet, a leak check that lives in the test itself (ASan's leak report comes
 * after Criterion's result and is ignored).
 */
void harness_watch_allocations(bool watching);
long harness_live_allocations(void);

/* Each read() made from the code under test returns at most `most` bytes
 * (0: no limit), as a pipe does when the writer has sent only part of a
 * block: code that expects one read to return everything fails. */
void harness_short_reads(size_t most);

/*
 * A failed pthread_create (see harness_fail_pthread_create_after) leaves a
 * marked pthread_t behind; a pthread_detach or pthread_join of it (a thread
 * that was never created) is noted for the student and ends the test
 * (abort), in every exercise.  Counted here.
 */
int harness_uses_of_uncreated_threads(void);

/* ---- what the process holds ------------------------------------------ */

/* Open descriptors (entries of /proc/self/fd, the directory's own
 * descriptor included: the same each time), but for the kinds only
 * Criterion's messaging makes (event descriptors, unix-domain sockets). */
int harness_count_open_fds(void);
/* Threads: count_process_threads and wait_for_thread_count (clock.h). */
/* True if this process has no child at all, running or exited (zombie). */
bool harness_no_children_left(void);

/*
 * Slow wake-ups: after every pthread_cond_broadcast or pthread_cond_signal
 * the caller pauses `seconds` (0: never), and again after its next mutex
 * unlock, so that the threads it woke run first.  Code that wakes its
 * waiters before it sets, under the mutex, the flag they wait for (or sets
 * it in a second locked region after the wake-up) then loses the wake-up
 * on every run, not by bad luck: the woken thread finds the flag still
 * false and sleeps again.
 */
void harness_pause_after_wakeups(double seconds);

/* ---- clocks ----------------------------------------------------------- */

/*
 * Which clock does `cond` time out on?  Locks `mutex`, waits on `cond` with
 * a deadline `seconds` from now on CLOCK_MONOTONIC (no injected wake-ups),
 * and returns how long the wait lasted.  A condition made with
 * pthread_condattr_setclock(CLOCK_MONOTONIC) waits about `seconds` (less if
 * someone signals it); one left on CLOCK_REALTIME reads the deadline as a
 * date decades ago and returns at once.  Only while nobody else waits on
 * `cond` with another mutex.
 */
double harness_monotonic_wait_seconds(pthread_cond_t *cond,
                                      pthread_mutex_t *mutex, double seconds);

#endif
