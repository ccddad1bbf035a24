/*
 * Turns every way the code under test can end the test early into a failed
 * test with a reason.  Criterion 2.4 reports a worker that exits with status
 * 0 as PASSED, whatever assertions were still to come, so:
 *   - exit/_exit/_Exit/quick_exit called by the code under test are wrapped
 *     (-Wl,--wrap): on the test's thread they fail the test with a message;
 *     on another thread they leave a note and end the worker with status 86;
 *   - an atexit handler catches exits from inside libraries we cannot wrap;
 *   - pthread_exit on the test's own thread would hang Criterion's runner,
 *     so it fails the test instead.
 * A child process forked by the code under test may end however it likes:
 * the guards apply only in the test's own process.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

enum { EARLY_EXIT_STATUS = 86 };

void __real__exit(int status) __attribute__((noreturn));
void __real_pthread_exit(void *value) __attribute__((noreturn));

static pthread_t test_thread;
static pid_t test_process;
static atomic_bool test_running;

static bool in_test_process(void)
{
    return atomic_load(&test_running) && getpid() == test_process;
}

static void refuse_early_exit(const char *how, int status)
{
    static const char why[] =
        "code under test must return to its caller; exiting ends the whole "
        "program, and the test with it";
    if (!in_test_process())
        __real__exit(status);  /* not ours to judge: see the comment above */
    if (pthread_equal(pthread_self(), test_thread))
        cr_assert_fail("the code called %s(%d): %s", how, status, why);
    harness_note("early-exit: a thread called %s(%d) before the test finished: %s", how,
                 status, why);
    __real__exit(EARLY_EXIT_STATUS);
}

void __wrap_exit(int status)
{
    /* In a forked child, exit() would run the atexit handlers it inherited,
     * Criterion's among them, and talk to the runner as if it were the test:
     * end the child the way a forked child should end instead. */
    if (getpid() != test_process && atomic_load(&test_running)) {
        fflush(NULL);
        __real__exit(status);
    }
    refuse_early_exit("exit", status);
}

void __wrap__exit(int status) { refuse_early_exit("_exit", status); }
void __wrap__Exit(int status) { refuse_early_exit("_Exit", status); }
void __wrap_quick_exit(int status) { refuse_early_exit("quick_exit", status); }

void __wrap_pthread_exit(void *value)
{
    if (in_test_process() && pthread_equal(pthread_self(), test_thread))
        cr_assert_fail("pthread_exit() was called on the caller's own thread: "
                       "only threads you created may end with pthread_exit; "
                       "a function must return to its caller");
    __real_pthread_exit(value);
}

static void exit_before_test_finished(void)
{
    if (!in_test_process())
        return;
    harness_note("early-exit: the program exited before the test finished (exit called "
                 "from inside a library?)");
    __real__exit(EARLY_EXIT_STATUS);
}

void harness_begin_test(double seconds, const char *hang_hint)
{
    static bool handler_registered;
    if (!handler_registered) {
        atexit(exit_before_test_finished);
        handler_registered = true;
    }
    test_thread = pthread_self();
    test_process = getpid();
    if (hang_hint && *hang_hint)
        harness_note("if-it-hangs: %s (time limit %g s)", hang_hint, seconds);
    atomic_store(&test_running, true);
}

void harness_end_test(void)
{
    atomic_store(&test_running, false);
}
