/* Tests for exercise 03: thread objects with names, start, join and run. */
#include "harness.h"
#include "thread_object.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a run function saw, kept in the object's context.  Only the object's
 * own thread writes it, and the test reads it after the join. */
struct sighting {
    int runs;
    bool on_a_new_thread;
    struct thread_object *self;
    struct thread_object *current;
    int self_join_error;
};

static pthread_t test_thread;

static void record(struct thread_object *self)
{
    struct sighting *seen = self->context;
    seen->runs++;
    seen->on_a_new_thread = !pthread_equal(pthread_self(), test_thread);
    seen->self = self;
    seen->current = thread_object_current();
}

/* A fresh object: zeroed first, so that nothing in it is left over. */
static void init_recording(struct thread_object *object, const char *name,
                           struct sighting *seen)
{
    memset(object, 0, sizeof *object);
    memset(seen, 0, sizeof *seen);
    test_thread = pthread_self();
    int error = thread_object_init(object, name, record, seen);
    cr_assert_eq(error, 0, "thread_object_init returned %d, expected 0",
                 error);
}

/* "Thread-N" -> N, or 0 if the name is not an automatic one. */
static unsigned long automatic_number(const char *name)
{
    unsigned long number = 0;
    char rest;
    if (sscanf(name, "Thread-%lu%c", &number, &rest) != 1)
        return 0;
    return number;
}

/* ---- names ------------------------------------------------------------- */

EXERCISE_TEST(thread_object, automatic_names_are_thread_1_2_3, 10,
              "thread_object_init never returned: a lock never unlocked?")
{
    struct thread_object objects[3];
    struct sighting seen[3];
    for (int i = 0; i < 3; i++) {
        init_recording(&objects[i], NULL, &seen[i]);
        char expected[16];
        snprintf(expected, sizeof expected, "Thread-%d", i + 1);
        cr_assert_str_eq(objects[i].name, expected, "automatic name number "
                         "%d is '%s', expected '%s': count the automatic "
                         "names of the process from 1", i + 1,
                         objects[i].name, expected);
    }
}

EXERCISE_TEST(thread_object, a_given_name_is_copied, 10,
              "thread_object_init never returned")
{
    struct thread_object object;
    struct sighting seen;
    char name[64] = "downloader";
    init_recording(&object, name, &seen);
    strcpy(name, "overwritten");
    cr_assert_str_eq(object.name, "downloader", "the name changed to '%s' "
                     "when the caller reused its buffer: copy the name into "
                     "object->name", object.name);

    const char *long_name = "a-name-that-is-much-longer-than-the-buffer-of-"
                            "thirty-two-characters";
    init_recording(&object, long_name, &seen);
    cr_assert_eq(strlen(object.name), THREAD_OBJECT_NAME_SIZE - 1,
                 "a long name became '%s': keep %d characters and the "
                 "terminating null character (snprintf does both)", object.name,
                 THREAD_OBJECT_NAME_SIZE - 1);
    cr_assert_eq(strncmp(object.name, long_name, THREAD_OBJECT_NAME_SIZE - 1),
                 0, "a long name became '%s': keep its first %d characters",
                 object.name, THREAD_OBJECT_NAME_SIZE - 1);
    cr_assert_eq(object.state, THREAD_OBJECT_CREATED, "a new object must be "
                 "in the CREATED state, it is in state %d", (int)object.state);
}

EXERCISE_TEST(thread_object, init_needs_a_run_function, 10,
              "thread_object_init never returned")
{
    struct thread_object object;
    int error = thread_object_init(&object, "nothing-to-run", NULL, NULL);
    cr_assert_eq(error, EINVAL, "thread_object_init without a run function "
                 "returned %d, expected EINVAL (%d)", error, EINVAL);
}

/* 8 threads, released together by a gate, each name 100 new objects. */
#define CREATORS 8
#define OBJECTS_EACH 100
#define BATCH 10

static struct gate all_together;
static struct thread_object made[CREATORS][OBJECTS_EACH];
static struct sighting seen_by[CREATORS][OBJECTS_EACH];
static int init_errors[CREATORS], start_errors[CREATORS];

static void *make_many(void *raw)
{
    int creator = (int)(long)raw;
    if (!gate_wait(&all_together, 10.0))
        return NULL;
    for (int i = 0; i < OBJECTS_EACH; i++)
        if (thread_object_init(&made[creator][i], NULL, record,
                               &seen_by[creator][i]) != 0)
            init_errors[creator]++;
    /* Run them too, a few at a time, from this thread. */
    for (int first = 0; first < OBJECTS_EACH; first += BATCH) {
        for (int i = first; i < first + BATCH; i++)
            if (thread_object_start(&made[creator][i]) != 0)
                start_errors[creator]++;
        for (int i = first; i < first + BATCH; i++)
            thread_object_join(&made[creator][i]);
    }
    return NULL;
}

static int compare_numbers(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

EXERCISE_TEST(thread_object, names_stay_unique_when_threads_create_at_once, 20,
              "the creators never finished: does start or join hang, or a "
              "lock stay locked?")
{
    /* A race on the counter shows here only sometimes; tsan and helgrind
     * find it every time. */
    test_thread = pthread_self();
    gate_init(&all_together);
    pthread_t creators[CREATORS];
    for (long c = 0; c < CREATORS; c++)
        cr_assert_eq(pthread_create(&creators[c], NULL, make_many, (void *)c),
                     0, "the test could not start its threads");
    gate_open(&all_together);
    for (int c = 0; c < CREATORS; c++)
        pthread_join(creators[c], NULL);

    static unsigned long numbers[CREATORS * OBJECTS_EACH];
    size_t n = 0;
    for (int c = 0; c < CREATORS; c++) {
        cr_assert_eq(init_errors[c] + start_errors[c], 0, "thread_object_init "
                     "or thread_object_start failed %d times",
                     init_errors[c] + start_errors[c]);
        for (int i = 0; i < OBJECTS_EACH; i++) {
            const char *name = made[c][i].name;
            numbers[n] = automatic_number(name);
            cr_assert(numbers[n] > 0, "an automatic name is '%s', expected "
                      "'Thread-N'", name);
            n++;
            cr_assert_eq(seen_by[c][i].runs, 1, "%s ran %d times, expected "
                         "once", name, seen_by[c][i].runs);
        }
    }
    qsort(numbers, n, sizeof numbers[0], compare_numbers);
    for (size_t i = 1; i < n; i++)
        cr_assert_neq(numbers[i], numbers[i - 1], "the name Thread-%lu was "
                      "given to two objects: each number must be handed out "
                      "once in the whole process. Take it from one shared "
                      "counter under a mutex, and format the name from the "
                      "number you took there", numbers[i]);
    cr_assert(numbers[0] == 1 && numbers[n - 1] == n, "%zu objects got the "
              "numbers %lu to %lu: expected 1 to %zu, with no number "
              "skipped", n, numbers[0], numbers[n - 1], n);
}

/* ---- start, run and current -------------------------------------------- */

EXERCISE_TEST(thread_object, start_runs_the_object_on_a_new_thread, 10,
              "start or join never returned")
{
    struct thread_object object;
    struct sighting seen;
    init_recording(&object, "worker", &seen);
    int error = thread_object_start(&object);
    cr_assert_eq(error, 0, "thread_object_start returned %d, expected 0",
                 error);
    cr_assert_eq(object.state, THREAD_OBJECT_STARTED, "after a start the "
                 "state is %d, expected STARTED (%d)", (int)object.state,
                 THREAD_OBJECT_STARTED);
    error = thread_object_join(&object);
    cr_assert_eq(error, 0, "thread_object_join returned %d, expected 0",
                 error);
    cr_assert_eq(object.state, THREAD_OBJECT_JOINED, "after a join the state "
                 "is %d, expected JOINED (%d)", (int)object.state,
                 THREAD_OBJECT_JOINED);
    cr_assert_eq(seen.runs, 1, "the run function ran %d times, expected once "
                 "(and finished before join returned)", seen.runs);
    cr_assert(seen.on_a_new_thread, "the run function ran on the thread "
              "that called start: run it in the new thread");
    cr_assert(seen.self == &object, "the run function got %p as self, "
              "expected the object %p", (void *)seen.self, (void *)&object);
    cr_assert(seen.current == &object, "inside run, thread_object_current() "
              "returned %p, expected the running object %p",
              (void *)seen.current, (void *)&object);
    cr_assert(thread_object_current() == NULL, "on the test's own thread, "
              "which no thread object started, thread_object_current() must "
              "return NULL");
}

/* Six objects wait until all six run, then ask which object they are. */
#define RUNNING 6
static struct peak_probe all_running;

static void wait_then_record(struct thread_object *self)
{
    probe_enter_and_wait_for(&all_running, RUNNING, 5.0);
    record(self);
    probe_leave(&all_running);
}

EXERCISE_TEST(thread_object, each_thread_sees_its_own_object_as_current, 15,
              "start or join never returned")
{
    struct thread_object objects[RUNNING];
    struct sighting seen[RUNNING];
    probe_init(&all_running);
    test_thread = pthread_self();
    for (int i = 0; i < RUNNING; i++) {
        memset(&seen[i], 0, sizeof seen[i]);
        cr_assert_eq(thread_object_init(&objects[i], NULL, wait_then_record,
                                        &seen[i]), 0);
    }
    for (int i = 0; i < RUNNING; i++)
        cr_assert_eq(thread_object_start(&objects[i]), 0);
    for (int i = 0; i < RUNNING; i++) {
        int error = thread_object_join(&objects[i]);
        cr_assert_eq(error, 0, "thread_object_join(%s) on the test's thread "
                     "returned %d, expected 0%s", objects[i].name, error,
                     error == EDEADLK ? " (EDEADLK: it took the test's thread "
                     "for the object's own; thread_object_current() must "
                     "give each thread its own answer)" : "");
    }
    cr_assert_eq(probe_peak(&all_running), RUNNING, "the %d objects did not "
                 "all run at the same time: does start wait for the thread?",
                 RUNNING);
    for (int i = 0; i < RUNNING; i++) {
        cr_assert(seen[i].current != NULL, "inside run, "
                  "thread_object_current() returned NULL in %s: remember "
                  "the running object when its thread starts, in a variable "
                  "of that thread (_Thread_local or a pthread key)",
                  objects[i].name);
        cr_assert(seen[i].current == &objects[i], "while %d objects ran at "
                  "once, thread_object_current() in %s returned %p, not its "
                  "own object %p: one variable shared by all threads holds "
                  "only the last one; give each thread its own "
                  "(_Thread_local or a pthread key)", RUNNING,
                  objects[i].name, (void *)seen[i].current,
                  (void *)&objects[i]);
    }
}

/* ---- the life cycle: errors instead of crashes ------------------------- */

EXERCISE_TEST(thread_object, an_object_runs_at_most_once, 10,
              "start or join never returned")
{
    struct thread_object object;
    struct sighting seen;
    init_recording(&object, "once", &seen);
    cr_assert_eq(thread_object_start(&object), 0);
    int second = thread_object_start(&object);
    cr_assert_eq(second, EINVAL, "starting a started object returned %d, "
                 "expected EINVAL (%d): check the state before starting",
                 second, EINVAL);
    cr_assert_eq(thread_object_join(&object), 0);
    int after_join = thread_object_start(&object);
    cr_assert_eq(after_join, EINVAL, "starting a joined object returned %d, "
                 "expected EINVAL (%d): only a CREATED object may start",
                 after_join, EINVAL);
    cr_assert_eq(seen.runs, 1, "the run function ran %d times, expected once",
                 seen.runs);
}

EXERCISE_TEST(thread_object, join_needs_a_started_unjoined_object, 10,
              "thread_object_join hung: does it check the state before "
              "calling pthread_join?")
{
    struct thread_object object;
    struct sighting seen;
    init_recording(&object, "joinee", &seen);
    harness_note("thread_object_join of a never started object crashed: "
                 "check the state, and return EINVAL");
    int early = thread_object_join(&object);
    cr_assert_eq(early, EINVAL, "joining a never started object returned "
                 "%d, expected EINVAL (%d): its pthread_t is not a thread "
                 "yet, check the state first", early, EINVAL);
    cr_assert_eq(object.state, THREAD_OBJECT_CREATED, "a failed join changed "
                 "the state to %d", (int)object.state);
    cr_assert_eq(thread_object_start(&object), 0);
    cr_assert_eq(thread_object_join(&object), 0);
    int again = thread_object_join(&object);
    cr_assert_eq(again, EINVAL, "joining an object twice returned %d, "
                 "expected EINVAL (%d): a thread can be joined only once",
                 again, EINVAL);
}

static void join_myself(struct thread_object *self)
{
    struct sighting *seen = self->context;
    seen->runs++;
    seen->self_join_error = thread_object_join(self);
}

EXERCISE_TEST(thread_object, joining_itself_is_refused, 10,
              "the object's thread joined itself and waits forever: return "
              "EDEADLK instead")
{
    struct thread_object object;
    struct sighting seen = {0};
    cr_assert_eq(thread_object_init(&object, "self", join_myself, &seen), 0);
    cr_assert_eq(thread_object_start(&object), 0);
    cr_assert_eq(thread_object_join(&object), 0, "joining the object failed "
                 "after it had tried to join itself");
    cr_assert_eq(seen.self_join_error, EDEADLK, "thread_object_join called "
                 "by the object's own thread returned %d, expected EDEADLK "
                 "(%d)", seen.self_join_error, EDEADLK);
}

EXERCISE_TEST(thread_object, failed_start_leaves_the_object_startable, 10,
              "start or join never returned after a failed start")
{
    struct thread_object object;
    struct sighting seen;
    init_recording(&object, "retry", &seen);
    harness_fail_pthread_create_after(0);
    int error = thread_object_start(&object);
    harness_fail_pthread_create_after(-1);
    cr_assert_eq(error, EAGAIN, "pthread_create failed with EAGAIN (%d), and "
                 "thread_object_start returned %d: return its error", EAGAIN,
                 error);
    cr_assert_eq(object.state, THREAD_OBJECT_CREATED, "after a failed start "
                 "the state is %d, expected CREATED (%d): no thread runs, "
                 "so the object can still be started", (int)object.state,
                 THREAD_OBJECT_CREATED);
    error = thread_object_start(&object);
    cr_assert_eq(error, 0, "starting again after a failed start returned "
                 "%d, expected 0", error);
    cr_assert_eq(thread_object_join(&object), 0);
    cr_assert_eq(seen.runs, 1, "the run function ran %d times, expected once",
                 seen.runs);
}
