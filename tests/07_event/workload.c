/*
 * Workload for exercise 07, for ThreadSanitizer and helgrind.  Each round,
 * waiters (plain and timed) block on a clear event while another thread
 * sets it, and latecomers look at the flag only after the set: with no
 * lock between the setter's write and a latecomer's read, a flag read
 * outside the mutex is a data race the checkers report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   event_set           x event_set                  race phase (added; also in turn)
 *                       x event_clear                race phase (added)
 *   event_clear         x event_set                  race phase (added;
 *                         the rounds clear only after joining every thread)
 *   event_is_set        x event_set    rounds (latecomer_asks: nothing
 *                                      orders it after the setter)
 *                       x event_clear                race phase (added)
 *   event_wait          x event_set    rounds (3 plain waiters;
 *                                      latecomer_waits, after the set);
 *                                      tests wait_blocks_until_set,
 *                                      set_wakes_every_waiter (5 seen
 *                                      asleep), waiting_thread_sleeps_
 *                                      instead_of_spinning
 *                       x event_clear                no test
 *     a set between the waiter's check and its sleep (two lock regions),
 *     or a set that broadcasts, then sets the flag in a second lock
 *     region: no test forces it
 *   event_wait_timeout  x event_set    rounds (2 timed waiters, 60 s);
 *                                      test timed_wait_returns_true_once_
 *                                      set
 *                       x event_clear                race phase (added)
 *   injected spurious wake-ups (tests only, none in this workload):
 *     wait_blocks_until_set, set_wakes_every_waiter, clear_makes_later_
 *     waits_block, waiting_thread_sleeps_instead_of_spinning, timed_wait_
 *     gives_up_after_its_timeout, timed_wait_returns_true_once_set
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   init: a clear event                flag_follows_set_and_clear
 *   init fails: its error, nothing left to destroy   no test
 *   timed waits on CLOCK_MONOTONIC: deadline and condition on different
 *     clocks                           timed_wait_gives_up_after_its_
 *                                      timeout; both on CLOCK_REALTIME:
 *                                      no test
 *   set of a set event, clear of a clear one   flag_follows_set_and_clear
 *   clear: later waits block           clear_makes_later_waits_block
 *   a wait on a set event returns at once (event_wait; event_wait_timeout
 *     (30 s) true)                     wait_returns_at_once_when_already_
 *                                      set
 *   every waiter wakes on one set      set_wakes_every_waiter
 *   a waiter sleeps, no CPU            waiting_thread_sleeps_instead_of_
 *                                      spinning, set_wakes_every_waiter;
 *                                      timed: timed_wait_gives_up_after_
 *                                      its_timeout (CPU), timed_wait_
 *                                      returns_true_once_set (asleep)
 *   time-out: false, not before the full time
 *                                      timed_wait_gives_up_after_its_
 *                                      timeout; rounds (0.001 s, false)
 *   time-out: not long after the full time (no upper bound)   no test
 *   seconds 0 on a clear event: false at once
 *                                      timed_wait_gives_up_after_its_
 *                                      timeout
 *   seconds 0 or less on a set event: true        no test
 *   seconds < 0: does not wait         no test
 *   true once set while waiting        timed_wait_returns_true_once_set;
 *                                      rounds
 */
#include "event.h"
#include "interleavings.h"
#include "workload.h"
#include "clock.h"

#include <pthread.h>

enum { PLAIN_WAITERS = 3, TIMED_WAITERS = 2 };

static struct event event;

static void *plain_waiter(void *unused)
{
    (void)unused;
    event_wait(&event);
    return NULL;
}

static void *timed_waiter(void *unused)
{
    (void)unused;
    return event_wait_timeout(&event, 60.0) ? &event : NULL;
}

/* Latecomers arrive after the set, with nothing ordering them after the
 * setter: the first thing each does reads the flag. */
static void *latecomer_asks(void *unused)
{
    (void)unused;
    sleep_seconds(0.002);
    return event_is_set(&event) ? &event : NULL;
}

static void *latecomer_waits(void *unused)
{
    (void)unused;
    sleep_seconds(0.002);
    event_wait(&event);
    return NULL;
}

static void *setter(void *unused)
{
    (void)unused;
    event_set(&event);
    return NULL;
}

static void run_round(int round)
{
    pthread_t plain[PLAIN_WAITERS], timed[TIMED_WAITERS], asks, waits, set;
    for (int i = 0; i < PLAIN_WAITERS; i++)
        pthread_create(&plain[i], NULL, plain_waiter, NULL);
    for (int i = 0; i < TIMED_WAITERS; i++)
        pthread_create(&timed[i], NULL, timed_waiter, NULL);
    pthread_create(&asks, NULL, latecomer_asks, NULL);
    pthread_create(&waits, NULL, latecomer_waits, NULL);
    pthread_create(&set, NULL, setter, NULL);

    pthread_join(set, NULL);
    for (int i = 0; i < PLAIN_WAITERS; i++)
        pthread_join(plain[i], NULL);
    for (int i = 0; i < TIMED_WAITERS; i++) {
        void *result;
        pthread_join(timed[i], &result);
        workload_check(result != NULL, "round %d: event_wait_timeout(60 s) "
                       "returned false although the event was set", round);
    }
    pthread_join(asks, NULL);
    pthread_join(waits, NULL);

    workload_check(event_is_set(&event), "round %d: the event was not set "
                   "after event_set", round);
    event_clear(&event);
    workload_check(!event_is_set(&event), "round %d: the event was still "
                   "set after event_clear", round);
    workload_check(!event_wait_timeout(&event, 0.001), "round %d: a timed "
                   "wait on a clear event returned true", round);
}

/* The race phase: two sets, a clear, is_set and a short timed wait, each
 * in a thread of its own, overlapping (workload_race), so that a set or a
 * clear that writes the flag without the mutex, or a read of it without
 * the mutex, meets the other calls under the checkers (the rounds above
 * clear only after every thread was joined). */
static void race_set(void *unused) { (void)unused; event_set(&event); }
static void race_clear(void *unused) { (void)unused; event_clear(&event); }
static void race_is_set(void *unused) { (void)unused; (void)event_is_set(&event); }
static void race_timed_wait(void *unused)
{
    (void)unused;
    (void)event_wait_timeout(&event, 0.0001);
}

static void race_phase(void)
{
    race_function *const functions[] = {race_set, race_set, race_clear,
                                        race_is_set, race_timed_wait};
    void *const arguments[] = {NULL, NULL, NULL, NULL, NULL};
    workload_race(functions, arguments, 5, workload_rounds(300, 30));
    event_clear(&event);
}

/* The same calls in turn (workload_in_turn): each pair one after the other
 * on a clear event (no call waits: the timed wait gives up at once), so a
 * flag written or read without the mutex races with the other call on
 * every run, not only when the scheduler overlaps them. */
static void clear_the_event(void) { event_clear(&event); }

static void in_turn_phase(void)
{
    race_function *const functions[] = {race_set, race_clear, race_is_set,
                                        race_timed_wait};
    void *const arguments[] = {NULL, NULL, NULL, NULL};
    workload_in_turn(functions, arguments, 4, clear_the_event);
}

int main(void)
{
    int error = event_init(&event);
    workload_check(error == 0, "event_init failed with %d", error);
    const int rounds = workload_rounds(150, 30);
    for (int round = 0; round < rounds; round++)
        run_round(round);
    race_phase();
    in_turn_phase();
    event_destroy(&event);
    workload_finished();
    return 0;
}
