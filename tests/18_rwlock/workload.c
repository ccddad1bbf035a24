/*
 * Workload for exercise 18, for ThreadSanitizer and helgrind: four readers
 * and two writers share a table of plain numbers behind the lock.  A
 * writer fills the whole table with a new number; a reader checks that all
 * its entries are equal.  Only a lock that keeps writers alone makes that
 * race-free and every read consistent.  Any field of the lock touched
 * outside its mutex is a data race the checkers report.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   rwlock_read_lock    x read_lock, read_unlock   this workload (4
 *                         readers); tests readers_hold_the_lock_together
 *                         (4 in at once), writer_gets_in_despite_a_stream_
 *                         of_readers (3), writers_are_alone_under_load (4)
 *                       x write_lock, write_unlock   this workload (2
 *                         writers); tests readers_wait_for_the_writer_
 *                         then_all_enter (3 asleep as the writer leaves),
 *                         no_new_reader_enters_while_a_writer_waits, the
 *                         stream test, writers_are_alone_under_load
 *   rwlock_read_unlock  x read_lock, read_unlock   this workload; tests
 *                         writer_gets_in_despite_a_stream_of_readers,
 *                         writers_are_alone_under_load
 *                       x write_lock (waiting)     this workload; tests
 *                         writer_waits_for_the_reader_inside, no_new_
 *                         reader_enters_while_a_writer_waits, the stream
 *                         test, writers_are_alone_under_load
 *   rwlock_write_lock   x write_lock, write_unlock   this workload; tests
 *                         writer_waits_for_the_writer_inside,
 *                         writers_are_alone_under_load (2 writers)
 *                       x read_lock, read_unlock   the rows above
 *   rwlock_write_unlock x write_lock (waiting)     this workload; tests
 *                         writer_waits_for_the_writer_inside,
 *                         writers_are_alone_under_load
 *                       x read_lock (waiting)      this workload; tests
 *                         readers_wait_for_the_writer_then_all_enter,
 *                         no_new_reader_enters_while_a_writer_waits
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   init: a pthread call fails (its error, nothing left to destroy)
 *                          no test
 *   readers hold the lock together
 *                          readers_hold_the_lock_together
 *   a writer waits, asleep, for the reader inside (a spurious wake-up
 *     injected), and the last reader out lets it in
 *                          writer_waits_for_the_reader_inside (CPU
 *                          measured)
 *   a writer waits for the writer inside, and enters when it leaves
 *                          writer_waits_for_the_writer_inside
 *   readers wait, asleep, for the writer inside, and all enter when it
 *     leaves               readers_wait_for_the_writer_then_all_enter
 *   a new reader waits behind a waiting writer
 *                          no_new_reader_enters_while_a_writer_waits
 *   overlapping readers cannot keep a writer out (fewer than 100 overtake)
 *                          writer_gets_in_despite_a_stream_of_readers
 *   a writer alone; no reader beside a writer
 *                          writers_are_alone_under_load; this workload
 *   a writer waits while any of several readers is inside
 *                          writers_are_alone_under_load; this workload (by
 *                          chance: no test keeps a writer waiting while
 *                          two readers leave one after the other)
 *   two writers waiting: new readers stay out until both have been in
 *                          no test
 */
#include "rwlock.h"
#include "workload.h"
#include "clock.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum { READERS = 4, WRITERS = 2, ENTRIES = 8 };

static struct rwlock lock;
static long table[ENTRIES]; /* guarded by `lock` */
static long turns;

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

static bool wait_until_done(int threads, time_t seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    deadline.tv_sec += seconds;
    bool in_time = true;
    pthread_mutex_lock(&done_mutex);
    while (threads_done < threads && in_time)
        in_time = pthread_cond_timedwait(&done_cond, &done_mutex,
                                         &deadline) != ETIMEDOUT ||
                  threads_done == threads;
    pthread_mutex_unlock(&done_mutex);
    return in_time;
}

static void *read_table(void *unused)
{
    (void)unused;
    long torn = 0;
    for (long turn = 0; turn < turns; turn++) {
        rwlock_read_lock(&lock);
        for (int i = 1; i < ENTRIES; i++)
            torn += table[i] != table[0];
        rwlock_read_unlock(&lock);
    }
    say_done();
    return (void *)(intptr_t)torn;
}

static void *write_table(void *raw)
{
    long writer = (long)(intptr_t)raw;
    for (long turn = 0; turn < turns; turn++) {
        rwlock_write_lock(&lock);
        for (int i = 0; i < ENTRIES; i++)
            table[i] = writer * turns + turn;
        rwlock_write_unlock(&lock);
    }
    say_done();
    return NULL;
}

int main(void)
{
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&done_cond, &attributes);
    pthread_condattr_destroy(&attributes);

    turns = workload_rounds(20000, 300);
    int error = rwlock_init(&lock);
    workload_check(error == 0, "rwlock_init failed with %d", error);
    pthread_t threads[READERS + WRITERS];
    for (long i = 0; i < READERS + WRITERS; i++)
        pthread_create(&threads[i], NULL, i < READERS ? read_table : write_table,
                       (void *)(intptr_t)(i - READERS));
    /* Threads left stuck are detached, so that the report is this message
     * and not ThreadSanitizer's "thread leak" at exit. */
    bool done = wait_until_done(READERS + WRITERS,
                                workload_under_valgrind() ? 100 : 10);
    for (int i = 0; i < READERS + WRITERS && !done; i++)
        pthread_detach(threads[i]);
    workload_check(done, "readers and writers never finished %ld turns each: a "
                   "deadlock, a lost wake-up, or writers kept out by readers "
                   "that never stop overlapping (reader preference)", turns);
    long torn = 0;
    for (int i = 0; i < READERS + WRITERS; i++) {
        void *result;
        pthread_join(threads[i], &result);
        torn += (long)(intptr_t)result;
    }
    rwlock_destroy(&lock);
    workload_check(torn == 0, "readers holding the read lock saw a half-written "
                   "table %ld times: a writer was changing it at the same "
                   "time", torn);
    workload_finished();
    return 0;
}
