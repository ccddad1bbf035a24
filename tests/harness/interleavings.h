/*
 * Forced interleavings, for tests and workloads alike (tests/harness/
 * interleavings.c says how each one works).
 *
 *  - Threads asleep in a condition wait: the wrapped pthread_cond_wait and
 *    pthread_cond_timedwait count the threads blocked in the real call, so
 *    a test can wait until k waiters are asleep before it calls set, close,
 *    shutdown or cancel: "wakes nobody" then fails every run, without sleeps.
 *  - A thread held between two lock regions: pthread_mutex_unlock is wrapped
 *    (for the code under test and the tests), and can hold the next thread
 *    that unlocks a given mutex until the test releases it, or yield after
 *    every unlock: "check, unlock, re-lock, act" then races every run.
 *    pthread_mutex_lock is wrapped the same way: threads held right after
 *    their first lock make a lock-order inversion deadlock every run.
 *  - Calls raced against each other: workload_race runs functions in
 *    threads whose calls overlap in time, with nothing between them that
 *    would hide a race from ThreadSanitizer or helgrind.
 *  - Calls in turn: workload_in_turn runs every pair of functions one after
 *    the other in two threads that nothing orders: an unlocked access races
 *    with the other call on every run, not only when the scheduler
 *    overlaps them.
 *  - Schedule shaking: THREADLINGS_SHAKE=seed adds seeded yields and short
 *    pauses after unlocks and before thread starts; the seed is printed
 *    with any failure of a workload, so the run can be replayed.
 */
#ifndef THREADLINGS_INTERLEAVINGS_H
#define THREADLINGS_INTERLEAVINGS_H

#include <pthread.h>
#include <stdbool.h>

/* How many threads are blocked in a real pthread_cond_wait/timedwait now
 * (injected spurious wake-ups do not count). */
int harness_sleeping(void);
/* Waits until at least `threads` are blocked in a condition wait; false if
 * `seconds` passed first.  A waiter counts from the moment it calls the real
 * wait with its mutex held: code that wakes under that mutex cannot get the
 * mutex before the waiter is really asleep. */
bool harness_wait_until_sleeping(int threads, double seconds);

/* The first `threads` threads that unlock `mutex` (NULL: any mutex), other
 * than the caller's and only those for which `which` (if not NULL) returns
 * true, are each held right after that unlock, before they run on, until
 * harness_release_held() (or until `seconds` pass: a wrong solution then
 * fails on its own, a right one never waits that long).  A thread is held
 * once per arming.  One arming at a time. */
void harness_hold_unlocks(const pthread_mutex_t *mutex, int threads,
                          bool (*which)(void), double seconds);
/* The same, right after the threads lock `mutex` (NULL: any mutex). */
void harness_hold_locks(const pthread_mutex_t *mutex, int threads,
                        bool (*which)(void), double seconds);
/* harness_hold_unlocks for one thread. */
void harness_hold_next_unlock(const pthread_mutex_t *mutex, double seconds);
/* How many threads have been held since the arming (released or not). */
int harness_held(void);
/* True once `threads` have been held; waits at most `seconds`. */
bool harness_wait_until_held(int threads, double seconds);
/* Lets every held thread go, and holds no more. */
void harness_release_held(void);

/* The calling thread pauses `seconds` right after its next unlock (used by
 * harness_pause_after_wakeups, failures.h). */
void harness_pause_at_next_unlock(double seconds);

/* After every unlock by any thread, yield the processor (true) or not. */
void harness_yield_after_unlock(bool enabled);

/* The seed of THREADLINGS_SHAKE (0 when schedule shaking is off). */
unsigned long harness_shake_seed(void);
/* A seeded yield or short pause, when shaking is on (else nothing). */
void harness_shake(void);

/*
 * Workloads: calls each functions[i](arguments[i]) over and over in a thread
 * of its own, all threads released together, until every function has been
 * called at least `min_calls` times (or has made four times as many): each
 * function's calls overlap every other's.  Nothing synchronises the threads
 * between calls, so a race between two of the functions is there for the
 * checkers to see.
 */
typedef void race_function(void *argument);
void workload_race(race_function *const functions[], void *const arguments[],
                   int count, long min_calls);
/*
 * Calls in turn, for every ordered pair (i, j), i != j: reset() (if not
 * NULL), then functions[i](arguments[i]) in one thread and, once it has
 * returned, functions[j](arguments[j]) in another.  The second thread learns
 * that the first call returned from a relaxed flag, which orders nothing for
 * ThreadSanitizer or helgrind: if the second call touches what the first
 * wrote (or wrote what it read) and the code's own locks do not order them,
 * that is a race on every run, however the threads are scheduled.
 * workload_race leaves that to the scheduler: on a loaded machine one thread
 * can make all its calls before another starts.  Each function must return
 * without waiting for another call (reset() makes that possible: it runs
 * on the main thread, before both threads start).
 */
void workload_in_turn(race_function *const functions[],
                      void *const arguments[], int count, void (*reset)(void));

#endif
