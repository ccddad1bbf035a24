/* Tests for exercise 18: a readers-writer lock with writer priority. */
#include "harness.h"
#include "rwlock.h"
#include "sleepers.h"

#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <time.h>

/* The lock, and every thread a test starts, live in static storage: a
 * thread that a failed test leaves blocked must still find valid memory
 * (not the dead stack frame of the test) while the test process ends. */
static struct rwlock lock;

static void init_lock(void)
{
    int error = rwlock_init(&lock);
    cr_assert_eq(error, 0, "rwlock_init returned %d, expected 0", error);
}

/*
 * A holder takes the lock (for reading or writing) in its own thread, says
 * so by opening `entered`, holds the lock until the test opens `release`,
 * then gives it back.  It records the CPU time its lock call used.
 */
struct holder {
    struct async_call async;
    bool writes;
    struct gate entered;
    struct gate release;
    double cpu_seconds;
};

static void *hold(void *raw)
{
    struct holder *holder = raw;
    double cpu_before = thread_cpu_seconds();
    if (holder->writes)
        rwlock_write_lock(&lock);
    else
        rwlock_read_lock(&lock);
    holder->cpu_seconds = thread_cpu_seconds() - cpu_before;
    gate_open(&holder->entered);
    gate_wait(&holder->release, 30.0);
    if (holder->writes)
        rwlock_write_unlock(&lock);
    else
        rwlock_read_unlock(&lock);
    return NULL;
}

static void start_holder(struct holder *holder, bool writes)
{
    holder->writes = writes;
    holder->cpu_seconds = 0;
    gate_init(&holder->entered);
    gate_init(&holder->release);
    async_start(&holder->async, hold, holder);
}

/* Whether the holder got the lock within `seconds`. */
static bool has_entered(struct holder *holder, double seconds)
{
    return gate_wait(&holder->entered, seconds);
}

/* Lets the holder give the lock back, and waits (3 s) until it has. */
static bool release(struct holder *holder)
{
    gate_open(&holder->release);
    return async_wait(&holder->async, 3.0);
}

/* Waits (at most 2 s) until `count` threads sleep in a condition wait on
 * one of the lock's condition variables (which one is the solution's
 * business), and returns how many do (sleepers.h; -1 where /proc cannot
 * tell). */
static int wait_for_sleepers(int count)
{
    size_t both = (size_t)((char *)(&lock.writers_ok + 1) -
                           (char *)&lock.readers_ok);
    return wait_until_asleep_on(&lock.readers_ok, both, count, 2.0, NULL, NULL);
}

#define LOOP_BECAUSE "; and wait in a loop, since a wait can end without " \
    "a signal (a spurious wake-up)"

EXERCISE_TEST(rwlock, readers_hold_the_lock_together, 15,
              "readers never got the lock, or never gave it back: is the "
              "mutex left locked?")
{
    enum { READERS = 4 };
    init_lock();
    static struct peak_probe probe;
    static struct holder readers[READERS];
    probe_init(&probe);
    for (int i = 0; i < READERS; i++)
        start_holder(&readers[i], false);
    int entered = 0;
    for (int i = 0; i < READERS; i++)
        entered += has_entered(&readers[i], 3.0);
    cr_assert_eq(entered, READERS, "only %d of %d readers got the lock when "
                 "nobody was writing: readers must be able to hold it "
                 "together (wait only for writers, never for other readers)",
                 entered, READERS);
    for (int i = 0; i < READERS; i++)
        cr_assert(release(&readers[i]), "rwlock_read_unlock never returned");
    rwlock_destroy(&lock);
}

EXERCISE_TEST(rwlock, writer_waits_for_the_reader_inside, 15,
              "a writer never got the lock after the last reader left: does "
              "read_unlock signal writers_ok?")
{
    init_lock();
    static struct holder reader, writer;
    start_holder(&reader, false);
    cr_assert(has_entered(&reader, 3.0), "a reader never got an unlocked "
              "lock");
    start_holder(&writer, true);
    bool entered_early = has_entered(&writer, 0.7);
    int asleep = entered_early ? 0 : wait_for_sleepers(1);
    bool reader_left = release(&reader);
    cr_assert_not(entered_early, "a writer got the lock while a reader held "
                  "it: a writer must wait until no reader and no writer is "
                  "inside" LOOP_BECAUSE);
    cr_assert(reader_left, "rwlock_read_unlock never returned");
    cr_assert(asleep != 0, "the waiting writer never slept in "
              "pthread_cond_wait on the lock's condition variables: it polls "
              "(busy-waiting)");
    cr_assert(has_entered(&writer, 3.0), "a writer waiting for a reader was "
              "still waiting 3 s after the reader left: the last reader out "
              "must wake a waiting writer (signal writers_ok)");
    cr_assert(release(&writer), "rwlock_write_unlock never returned");
    cr_assert_lt(writer.cpu_seconds, 0.05, "a writer blocked for about a "
                 "second used %.2f s of CPU: it polls (busy-waiting); sleep "
                 "in pthread_cond_wait", writer.cpu_seconds);
}

EXERCISE_TEST(rwlock, writer_waits_for_the_writer_inside, 15,
              "the second writer never got the lock after the first left: "
              "does write_unlock wake a waiting writer?")
{
    init_lock();
    static struct holder first, second;
    start_holder(&first, true);
    cr_assert(has_entered(&first, 3.0), "a writer never got an unlocked "
              "lock");
    start_holder(&second, true);
    bool entered_early = has_entered(&second, 0.7);
    int asleep = entered_early ? 0 : wait_for_sleepers(1);
    bool first_left = release(&first);
    cr_assert_not(entered_early, "a second writer got the lock while a "
                  "writer held it: a writer must wait until nobody else is "
                  "inside" LOOP_BECAUSE);
    cr_assert(first_left, "rwlock_write_unlock never returned");
    cr_assert(asleep != 0, "the waiting writer never slept in "
              "pthread_cond_wait on the lock's condition variables: it polls "
              "(busy-waiting)");
    cr_assert(has_entered(&second, 3.0), "a writer waiting for another "
              "writer was still waiting 3 s after it left: write_unlock must "
              "wake a waiting writer");
    cr_assert(release(&second), "rwlock_write_unlock never returned");
}

EXERCISE_TEST(rwlock, readers_wait_for_the_writer_then_all_enter, 15,
              "readers never got the lock after the writer left: does "
              "write_unlock broadcast readers_ok?")
{
    enum { READERS = 3 };
    init_lock();
    static struct holder writer, readers[READERS];
    start_holder(&writer, true);
    cr_assert(has_entered(&writer, 3.0), "a writer never got an unlocked "
              "lock");
    for (int i = 0; i < READERS; i++)
        start_holder(&readers[i], false);
    int asleep = wait_for_sleepers(READERS);
    int entered_early = 0;
    for (int i = 0; i < READERS; i++)
        entered_early += has_entered(&readers[i], i == 0 ? 0.7 : 0);
    bool writer_left = release(&writer);
    cr_assert_eq(entered_early, 0, "%d of %d readers got the lock while a "
                 "writer held it: a reader must wait while a writer is "
                 "inside" LOOP_BECAUSE, entered_early, READERS);
    cr_assert(writer_left, "rwlock_write_unlock never returned");
    cr_assert(asleep < 0 || asleep == READERS, "only %d of %d waiting readers "
              "slept in pthread_cond_wait: the others poll (busy-waiting)",
              asleep, READERS);
    int entered = 0;
    for (int i = 0; i < READERS; i++)
        entered += has_entered(&readers[i], 3.0);
    cr_assert_eq(entered, READERS, "only %d of %d readers waiting for a writer "
                 "got the lock when it left (and the ones inside still held "
                 "it): write_unlock must wake every waiting reader "
                 "(pthread_cond_broadcast on readers_ok)", entered, READERS);
    for (int i = 0; i < READERS; i++) {
        cr_assert(release(&readers[i]), "rwlock_read_unlock never returned");
        cr_assert_lt(readers[i].cpu_seconds, 0.05, "a reader blocked for "
                     "about a second used %.2f s of CPU: it polls "
                     "(busy-waiting)", readers[i].cpu_seconds);
    }
}

EXERCISE_TEST(rwlock, no_new_reader_enters_while_a_writer_waits, 15,
              "a thread never got the lock: does every unlock wake the "
              "waiters that may go on?")
{
    init_lock();
    static struct holder first_reader, writer, new_reader;
    start_holder(&first_reader, false);
    cr_assert(has_entered(&first_reader, 3.0), "a reader never got an "
              "unlocked lock");
    start_holder(&writer, true);
    int asleep = wait_for_sleepers(1);
    bool writer_early = has_entered(&writer, 0);
    start_holder(&new_reader, false);
    bool reader_early = has_entered(&new_reader, 0.7);
    bool first_left = release(&first_reader);
    cr_assert_not(writer_early, "a writer got the lock while a reader held "
                  "it: a writer must wait until no reader and no writer is "
                  "inside" LOOP_BECAUSE);
    cr_assert(asleep != 0, "the waiting writer never slept in "
              "pthread_cond_wait: it polls (busy-waiting)");
    cr_assert_not(reader_early, "a new reader got the lock while a writer "
                  "was waiting for it: with writer priority, a reader must "
                  "also wait while any writer waits (count the waiting "
                  "writers), or a stream of readers keeps the writer out for "
                  "ever");
    cr_assert(first_left, "rwlock_read_unlock never returned");
    cr_assert(has_entered(&writer, 3.0), "the waiting writer was still "
              "waiting 3 s after the reader inside left: the last reader out "
              "must wake a waiting writer");
    cr_assert_not(has_entered(&new_reader, 0), "the new reader got in "
                  "together with the writer");
    cr_assert(release(&writer), "rwlock_write_unlock never returned");
    cr_assert(has_entered(&new_reader, 3.0), "the reader waiting behind a "
              "writer was still waiting 3 s after the writer left: "
              "write_unlock must wake the waiting readers");
    cr_assert(release(&new_reader), "rwlock_read_unlock never returned");
}

/*
 * A stream of readers: each reader holds the lock until another reader
 * has come in after it, so that the lock is never free of readers while
 * new ones keep arriving.  With writer priority no successor can come
 * once the writer waits: the readers see each other blocked, and stop
 * waiting for one.  The test counts how many readers entered between the
 * writer's waiting in the lock and its entry: that count is bounded only
 * if new readers stop once it waits.  Not from the writer's call: on a
 * loaded machine the writer can lose the CPU, or wait for the lock's own
 * mutex, for tens of milliseconds before it asks, while the readers go on
 * (262 entries once, with a correct lock).
 */
enum { STREAM_READERS = 3, STARVED = 2000 };

static struct {
    pthread_mutex_t mutex;
    pthread_cond_t changed; /* on CLOCK_MONOTONIC, made by the test */
    long entries;
    long entries_when_blocked;  /* when a reader saw the lock's waiters */
    bool stop;
} stream = {.mutex = PTHREAD_MUTEX_INITIALIZER, .entries_when_blocked = -1};

static long stream_entries(void)
{
    pthread_mutex_lock(&stream.mutex);
    long entries = stream.entries;
    pthread_mutex_unlock(&stream.mutex);
    return entries;
}

static void stop_stream(void)
{
    pthread_mutex_lock(&stream.mutex);
    stream.stop = true;
    pthread_cond_broadcast(&stream.changed);
    pthread_mutex_unlock(&stream.mutex);
}

/* An absolute CLOCK_MONOTONIC time `seconds` from now. */
static struct timespec monotonic_in(double seconds)
{
    struct timespec at;
    clock_gettime(CLOCK_MONOTONIC, &at);
    long nanoseconds = at.tv_nsec + (long)(seconds * 1e9);
    at.tv_sec += nanoseconds / 1000000000L;
    at.tv_nsec = nanoseconds % 1000000000L;
    return at;
}

/* Whether a reader of the stream is blocked in the lock: besides the one
 * writer, another thread sleeps on the lock's condition variables.  Only
 * then may the reader inside stop waiting for a successor (none can
 * come).  Where /proc cannot tell, after half a second. */
static bool a_reader_is_blocked(double waited)
{
    size_t both = (size_t)((char *)(&lock.writers_ok + 1) -
                           (char *)&lock.readers_ok);
    int asleep = threads_asleep_on(&lock.readers_ok, both);
    return asleep < 0 ? waited > 0.5 : asleep >= 2;
}

/* Holds the read lock until another reader has entered after this one,
 * the stream stops, or the next reader is seen blocked in the lock (a
 * writer is waiting and has priority). */
static void *read_in_a_stream(void *unused)
{
    (void)unused;
    for (;;) {
        pthread_mutex_lock(&stream.mutex);
        bool stop = stream.stop;
        pthread_mutex_unlock(&stream.mutex);
        if (stop)
            return NULL;
        rwlock_read_lock(&lock);
        double entered = now_seconds();
        pthread_mutex_lock(&stream.mutex);
        long me = ++stream.entries;
        pthread_cond_broadcast(&stream.changed);
        while (stream.entries == me && !stream.stop) {
            struct timespec look_again = monotonic_in(0.02);
            if (pthread_cond_timedwait(&stream.changed, &stream.mutex,
                                       &look_again) == ETIMEDOUT &&
                a_reader_is_blocked(now_seconds() - entered)) {
                if (stream.entries_when_blocked < 0)
                    stream.entries_when_blocked = stream.entries;
                break;
            }
        }
        pthread_mutex_unlock(&stream.mutex);
        rwlock_read_unlock(&lock);
    }
}

/* How many threads sleep on the lock's condition variables (-1: /proc
 * cannot tell).  Before the writer asks, the stream's readers never wait;
 * after, in a correct lock, the writer and the readers it holds back do. */
static int waiting_in_the_lock(void)
{
    size_t both = (size_t)((char *)(&lock.writers_ok + 1) -
                           (char *)&lock.readers_ok);
    return threads_asleep_on(&lock.readers_ok, both);
}

/* The count of entries when the stream's reader inside saw the writer
 * waiting, or -1. */
static long entries_when_blocked(void)
{
    pthread_mutex_lock(&stream.mutex);
    long entries = stream.entries_when_blocked;
    pthread_mutex_unlock(&stream.mutex);
    return entries;
}

struct counted_writer {
    struct async_call async;
    long entries_when_called;
    long entries_when_in;
};

static void *write_once(void *raw)
{
    struct counted_writer *writer = raw;
    writer->entries_when_called = stream_entries();
    rwlock_write_lock(&lock);
    writer->entries_when_in = stream_entries();
    rwlock_write_unlock(&lock);
    return NULL;
}

EXERCISE_TEST(rwlock, writer_gets_in_despite_a_stream_of_readers, 20,
              "the writer or the readers never finished: a lost wake-up?")
{
    init_lock();
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    pthread_cond_init(&stream.changed, &attributes);
    pthread_condattr_destroy(&attributes);
    static struct async_call readers[STREAM_READERS];
    static struct counted_writer writer;
    for (int i = 0; i < STREAM_READERS; i++)
        async_start(&readers[i], read_in_a_stream, NULL);
    /* Let the stream get going first. */
    double give_up = now_seconds() + 3.0;
    while (stream_entries() < 50 && now_seconds() < give_up)
        sleep_seconds(0.001);
    long before = stream_entries();
    async_start(&writer.async, write_once, &writer);
    /* Counted, not timed: stop once the writer is in, or once STARVED
     * readers have gone in after a thread was seen waiting in the lock
     * (`waiting_from`; where /proc cannot tell, after the writer started),
     * or once nothing has happened for 2 s (everybody is stuck), or after
     * 3 s (a writer that never sleeps in the lock: it polls). */
    long seen = before, waiting_from = -1;
    double last_progress = now_seconds(), stop_at = last_progress + 3.0;
    while (!async_is_done(&writer.async) &&
           now_seconds() - last_progress < 2.0 && now_seconds() < stop_at &&
           (waiting_from < 0 || stream_entries() - waiting_from < STARVED)) {
        sleep_seconds(0.001);
        long entries = stream_entries();
        if (waiting_from < 0) {
            /* Counted after the look: a count read before it can be
             * hundreds of entries old when this thread loses the CPU. */
            int waiting = waiting_in_the_lock();
            if (waiting != 0)
                waiting_from = waiting > 0 ? stream_entries() : before;
        }
        if (entries != seen) {
            seen = entries;
            last_progress = now_seconds();
        }
    }
    stop_stream();
    cr_assert_geq(before, 50, "three reader threads, each taking the read "
                  "lock in a loop, got it only %ld times in 3 s: can "
                  "readers hold the lock together?", before);
    bool writer_done = async_wait(&writer.async, 3.0);
    int readers_done = 0;
    give_up = now_seconds() + 3.0;
    for (int i = 0; i < STREAM_READERS; i++) {
        double left = give_up - now_seconds();
        readers_done += async_wait(&readers[i], left > 0 ? left : 0);
    }
    cr_assert(writer_done, "a writer never got the lock, even after the "
              "readers stopped: does the last reader out wake it?");
    cr_assert_eq(readers_done, STREAM_READERS, "only %d of %d readers "
                 "finished after the writer left: does write_unlock wake "
                 "the waiting readers?", readers_done, STREAM_READERS);
    /* From when the writer had surely asked: its call, or the first sight
     * of it waiting, whichever came later. */
    long asked = writer.entries_when_called;
    long blocked = entries_when_blocked();
    if (waiting_from >= 0 && (blocked < 0 || waiting_from < blocked))
        blocked = waiting_from;
    if (blocked > asked)
        asked = blocked;
    long overtaken = writer.entries_when_in - asked;
    cr_assert_lt(overtaken, 100, "%ld readers got the lock after a writer "
                 "had asked for it, before the writer got in: the readers "
                 "kept overlapping, so the lock was never free of them "
                 "(reader preference: writers starve).  Once a writer waits, "
                 "new readers must wait behind it", overtaken);
    for (int i = 0; i < STREAM_READERS; i++)
        async_finish(&readers[i]);
    async_finish(&writer.async);
}

/* The stress test: readers and writers at once; a writer must be alone. */
enum { READERS = 4, WRITERS = 2, TURNS = 3000 };

static atomic_int readers_inside, writers_inside;
static atomic_int writer_saw_company, reader_saw_writer;
static atomic_long turns_done;
static struct async_call stress_threads[READERS + WRITERS];

static void *read_often(void *unused)
{
    (void)unused;
    for (int turn = 0; turn < TURNS; turn++) {
        rwlock_read_lock(&lock);
        atomic_fetch_add(&readers_inside, 1);
        /* Looks twice, with a pause between: a writer let in early has
         * more time to show up. */
        for (int look = 0; look < 2; look++) {
            if (atomic_load(&writers_inside) != 0)
                atomic_fetch_add(&reader_saw_writer, 1);
            sched_yield();
        }
        atomic_fetch_sub(&readers_inside, 1);
        rwlock_read_unlock(&lock);
        atomic_fetch_add(&turns_done, 1);
    }
    return NULL;
}

static void *write_often(void *unused)
{
    (void)unused;
    for (int turn = 0; turn < TURNS; turn++) {
        rwlock_write_lock(&lock);
        if (atomic_fetch_add(&writers_inside, 1) != 0)
            atomic_fetch_add(&writer_saw_company, 1);
        for (int look = 0; look < 2; look++) {
            if (atomic_load(&readers_inside) != 0 ||
                atomic_load(&writers_inside) != 1)
                atomic_fetch_add(&writer_saw_company, 1);
            sched_yield();
        }
        atomic_fetch_sub(&writers_inside, 1);
        rwlock_write_unlock(&lock);
        atomic_fetch_add(&turns_done, 1);
    }
    return NULL;
}

EXERCISE_TEST(rwlock, writers_are_alone_under_load, 20,
              "readers and writers never finished: a lost wake-up?")
{
    init_lock();
    for (int i = 0; i < READERS + WRITERS; i++)
        async_start(&stress_threads[i], i < READERS ? read_often : write_often,
                    NULL);
    /* Stuck means: nobody finished a turn for 3 s (not a clock on the
     * whole run, which a slow machine may stretch). */
    int finished = 0;
    long seen = -1;
    double last_progress = now_seconds();
    while (finished < READERS + WRITERS &&
           now_seconds() - last_progress < 3.0) {
        sleep_seconds(0.005);
        long done = atomic_load(&turns_done);
        if (done != seen) {
            seen = done;
            last_progress = now_seconds();
        }
        finished = 0;
        for (int i = 0; i < READERS + WRITERS; i++)
            finished += async_is_done(&stress_threads[i]);
    }
    cr_assert_eq(finished, READERS + WRITERS, "only %d of %d threads finished "
                 "%d turns of locking and unlocking; nobody got the lock for "
                 "3 s: a lost wake-up (does every unlock wake the threads "
                 "that may go on?)", finished, READERS + WRITERS, TURNS);
    for (int i = 0; i < READERS + WRITERS; i++)
        async_finish(&stress_threads[i]);
    cr_assert_eq(atomic_load(&writer_saw_company), 0, "%d times a writer "
                 "holding the lock found another thread inside: a writer must "
                 "be alone", atomic_load(&writer_saw_company));
    cr_assert_eq(atomic_load(&reader_saw_writer), 0, "%d times a reader "
                 "holding the lock found a writer inside",
                 atomic_load(&reader_saw_writer));
    rwlock_destroy(&lock);
}
