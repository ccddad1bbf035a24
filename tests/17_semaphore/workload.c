/*
 * Workload for exercise 17, for ThreadSanitizer and helgrind.
 * 1. A semaphore of 1 used as a lock: four threads add to a plain counter
 *    between wait and post; only a semaphore that really excludes makes
 *    that race-free and the total right.
 * 2. Three posters and three takers (plain waits, and trywait falling back
 *    to a timed wait) pass units through a semaphore with maximum 3, while
 *    a sampler reads the value: it must never exceed the maximum, and every
 *    unit posted must be taken.
 * Any access to the value outside the mutex is a data race the checkers
 * report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   semaphore_wait      x wait, post        part 1 (4 threads); part 2 (2
 *                         waiting threads, 3 posters); tests wait_blocks_
 *                         at_zero_until_a_post, every_post_wakes_a_
 *                         waiting_wait (2 waits paused while 2 posts go
 *                         in), room_made_by_a_wait_wakes_the_waiting_post,
 *                         many_threads_never_exceed_the_limit (6 threads)
 *                       x trywait, timedwait   part 2 (the one thread
 *                         that calls them)
 *   semaphore_trywait   x wait, post        part 2; test trywait_and_
 *                         timedwait_make_room_too (a post asleep at the
 *                         maximum)
 *                       x trywait, timedwait   no test (one thread calls
 *                         them, one after the other)
 *   semaphore_timedwait x wait, post        part 2; tests timed_wait_takes_
 *                         a_unit_posted_while_it_waits, trywait_and_
 *                         timedwait_make_room_too
 *                       x timedwait, trywait   no test (as above)
 *   semaphore_post      x post, wait        part 1; part 2 (3 posters, at
 *                         the maximum when the takers lag); tests post_
 *                         blocks_at_the_maximum_until_a_wait, room_made_
 *                         by_a_wait_wakes_the_waiting_post, many_threads_
 *                         never_exceed_the_limit
 *                       x trywait, timedwait   part 2; test trywait_and_
 *                         timedwait_make_room_too
 *   semaphore_value     x wait, trywait, timedwait, post   part 2 (the
 *                         sampler); the tests read it only while no other
 *                         thread changes the value
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   init: maximum 0, or value above maximum: EINVAL
 *                          init_checks_its_arguments_and_trywait_takes_units
 *   init: a pthread call fails (its error, nothing left to destroy)
 *                          no test
 *   trywait: 0 with a unit free; EAGAIN at 0, the value unchanged
 *                          init_checks_its_arguments_and_trywait_takes_units
 *   a wait at 0, a post at the maximum: still blocked after 0.7 s (a
 *     spurious wake-up injected), asleep in a condition wait, on its way
 *     once the other side comes
 *                          wait_blocks_at_zero_until_a_post, post_blocks_
 *                          at_the_maximum_until_a_wait
 *   every post wakes a wait, not only the post that makes the value 1
 *                          every_post_wakes_a_waiting_wait
 *   the room a wait makes wakes the waiting post, not another wait
 *                          room_made_by_a_wait_wakes_the_waiting_post
 *   trywait and timedwait make room for a waiting post too
 *                          trywait_and_timedwait_make_room_too
 *   timedwait: ETIMEDOUT not before the deadline, without spinning, the
 *     value unchanged; a past deadline: ETIMEDOUT at once; tv_nsec
 *     1,000,000,000 when it must wait: EINVAL; a unit free and a past
 *     deadline: 0          timed_wait_gives_up_at_its_deadline
 *   timedwait: tv_nsec below 0 when it must wait: EINVAL
 *                          no test
 *   timedwait: a unit free and a bad tv_nsec: 0
 *                          no test
 *   timedwait: a unit posted as the time runs out is taken with 0 or left
 *     with ETIMEDOUT, never taken with ETIMEDOUT
 *                          no test
 *   timedwait's deadline on CLOCK_MONOTONIC
 *                          timed_wait_gives_up_at_its_deadline, timed_wait_
 *                          takes_a_unit_posted_while_it_waits; part 2 (a
 *                          deadline 30 s ahead)
 *   waiting threads use no CPU
 *                          waiting_threads_sleep_instead_of_spinning (wait,
 *                          post), timed_wait_gives_up_at_its_deadline
 *   the value never above the maximum
 *                          part 2 (the sampler); post_blocks_at_the_
 *                          maximum_until_a_wait
 *   no more threads through than units
 *                          many_threads_never_exceed_the_limit (peak at
 *                          most 3); part 1 (the counter's total)
 */
#include "counting_semaphore.h"
#include "workload.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

enum { LOCKERS = 4, POSTERS = 3, TAKERS = 3, MAXIMUM = 3, SAMPLES = 2000 };

static struct semaphore sem;
static long turns;
static long counter; /* guarded by the semaphore of phase 1 */

/* The threads say when they are done, so that main can give up on a run
 * that is stuck instead of hanging until the runner's time limit. */
static pthread_mutex_t done_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cond;
static int threads_done;

static void say_done(void)
{
    pthread_mutex_lock(&done_mutex);
    threads_done++;
    pthread_cond_signal(&done_cond);
    pthread_mutex_unlock(&done_mutex);
}

static struct timespec deadline_in(time_t seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    return deadline;
}

/* Waits until `threads` threads are done; false after `seconds`. */
static bool wait_until_done(int threads, time_t seconds)
{
    struct timespec deadline = deadline_in(seconds);
    bool in_time = true;
    pthread_mutex_lock(&done_mutex);
    while (threads_done < threads && in_time)
        in_time = pthread_cond_timedwait(&done_cond, &done_mutex,
                                         &deadline) != ETIMEDOUT ||
                  threads_done == threads;
    threads_done = 0;
    pthread_mutex_unlock(&done_mutex);
    return in_time;
}

/* Threads left stuck are detached before the workload fails, so that the
 * report is the workload's message and not ThreadSanitizer's "thread leak"
 * at exit. */
static void give_up_on(pthread_t *threads, int count, bool done)
{
    for (int i = 0; i < count && !done; i++)
        pthread_detach(threads[i]);
}

static void *add_under_semaphore(void *unused)
{
    (void)unused;
    for (long i = 0; i < turns; i++) {
        semaphore_wait(&sem);
        counter++;
        semaphore_post(&sem);
    }
    say_done();
    return NULL;
}

static void *post_units(void *unused)
{
    (void)unused;
    for (long i = 0; i < turns; i++)
        semaphore_post(&sem);
    say_done();
    return NULL;
}

static void *wait_for_units(void *unused)
{
    (void)unused;
    for (long i = 0; i < turns; i++)
        semaphore_wait(&sem);
    say_done();
    return NULL;
}

/* Takes its units with trywait, and with a timed wait when none is free. */
static void *try_for_units(void *unused)
{
    (void)unused;
    long timeouts = 0;
    for (long i = 0; i < turns; i++) {
        if (semaphore_trywait(&sem) == 0)
            continue;
        struct timespec deadline = deadline_in(30);
        double started = now_seconds();
        int error = semaphore_timedwait(&sem, &deadline);
        double waited = now_seconds() - started;
        /* Gave up long before its deadline: the wait measured another
         * clock.  Said here, before the posters it leaves stuck hide it. */
        workload_check(error != ETIMEDOUT || waited > 25.0,
                       "semaphore_timedwait with a deadline 30 s ahead on "
                       "CLOCK_MONOTONIC returned ETIMEDOUT after %.3f s: "
                       "does its condition variable measure CLOCK_MONOTONIC "
                       "too (pthread_condattr_setclock in semaphore_init)?",
                       waited);
        timeouts += error != 0;
    }
    say_done();
    return (void *)timeouts;
}

static void *sample_value(void *unused)
{
    (void)unused;
    unsigned largest = 0;
    for (int i = 0; i < SAMPLES; i++) {
        unsigned value = semaphore_value(&sem);
        if (value > largest)
            largest = value;
    }
    say_done();
    return (void *)(unsigned long)largest;
}

static void use_as_lock(void)
{
    int error = semaphore_init(&sem, 1, 1);
    workload_check(error == 0, "semaphore_init(1, 1) failed with %d", error);
    pthread_t threads[LOCKERS];
    for (int i = 0; i < LOCKERS; i++)
        pthread_create(&threads[i], NULL, add_under_semaphore, NULL);
    bool done = wait_until_done(LOCKERS, workload_under_valgrind() ? 100 : 10);
    give_up_on(threads, LOCKERS, done);
    workload_check(done, "threads using a semaphore of 1 as a lock never finished: "
                   "a lost wake-up or a deadlock");
    for (int i = 0; i < LOCKERS; i++)
        pthread_join(threads[i], NULL);
    workload_check(counter == LOCKERS * turns, "%d threads added 1 %ld times "
                   "each between semaphore_wait and semaphore_post on a "
                   "semaphore of 1, and the total is %ld: two of them were "
                   "inside at once", LOCKERS, turns, counter);
    workload_check(semaphore_value(&sem) == 1, "a semaphore of 1 used as a "
                   "lock ended with value %u", semaphore_value(&sem));
    semaphore_destroy(&sem);
}

static void pass_units(void)
{
    int error = semaphore_init(&sem, 0, MAXIMUM);
    workload_check(error == 0, "semaphore_init(0, %d) failed with %d",
                   MAXIMUM, error);
    pthread_t posters[POSTERS], takers[TAKERS], sampler;
    pthread_create(&sampler, NULL, sample_value, NULL);
    for (int i = 0; i < TAKERS; i++)
        pthread_create(&takers[i], NULL,
                       i == 0 ? try_for_units : wait_for_units, NULL);
    for (int i = 0; i < POSTERS; i++)
        pthread_create(&posters[i], NULL, post_units, NULL);
    bool done = wait_until_done(POSTERS + TAKERS + 1,
                                workload_under_valgrind() ? 100 : 10);
    give_up_on(posters, POSTERS, done);
    give_up_on(takers, TAKERS, done);
    give_up_on(&sampler, 1, done);
    workload_check(done, "posters and waiters never finished passing %ld units "
                   "through a semaphore of maximum %d: a lost wake-up?",
                   POSTERS * turns, MAXIMUM);
    void *result;
    pthread_join(sampler, &result);
    unsigned largest = (unsigned)(unsigned long)result;
    for (int i = 0; i < POSTERS; i++)
        pthread_join(posters[i], NULL);
    for (int i = 0; i < TAKERS; i++) {
        pthread_join(takers[i], &result);
        workload_check(result == NULL, "semaphore_timedwait with a deadline "
                       "30 s ahead gave up %ld times while units were being "
                       "posted", (long)result);
    }
    workload_check(largest <= MAXIMUM, "semaphore_value was %u with maximum "
                   "%d: post must wait while the value is at the maximum",
                   largest, MAXIMUM);
    unsigned value = semaphore_value(&sem);
    workload_check(value == 0, "%ld units posted and as many taken, and the "
                   "value is %u, expected 0", POSTERS * turns, value);
    semaphore_destroy(&sem);
}

int main(void)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&done_cond, &attributes);
    pthread_condattr_destroy(&attributes);

    turns = workload_rounds(20000, 200);
    use_as_lock();
    pass_units();
    workload_finished();
    return 0;
}
