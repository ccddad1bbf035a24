/*
 * Workload for exercise 03, for ThreadSanitizer and helgrind: creator
 * threads name objects at the same time, round after round, and the
 * objects run and check that thread_object_current() is themselves.  An
 * unlocked name counter, or a "current object" shared by all threads, is a
 * data race the checkers report.  At the end every automatic number from 1
 * up must have been given exactly once.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   thread_object_init  x init in other threads (the process's name
 *                         counter)    test names_stay_unique_when_threads_
 *                         create_at_once (8 creators released by a gate);
 *                         main's rounds (4 creators, given names mixed in;
 *                         under helgrind too)
 *   thread_object_start x the object's own thread reading the state start
 *                         writes      test joining_itself_is_refused (its
 *                         self-join; by chance only: nothing holds start
 *                         after pthread_create, and no workload part)
 *                       x start, join of other objects (nothing shared:
 *                         each object's state is its own)   test names_
 *                         stay_unique_when_threads_create_at_once; main's
 *                         rounds (creators run their objects; not under
 *                         helgrind, where main runs them)
 *   thread_object_join  x the object's run, still running (join must wait
 *                         for it)     main's rounds (sightings read without
 *                         a lock after the join); test each_thread_sees_
 *                         its_own_object_as_current (runs wait for all six)
 *                       x join of the same object by its own thread
 *                         (EDEADLK)   test joining_itself_is_refused
 *                       x start, join of other objects: as for start
 *   thread_object_current x the other objects' threads setting theirs
 *                         test each_thread_sees_its_own_object_as_current
 *                         (six running at once); main's rounds (each run
 *                         checks it)
 *   Start and join of one object from two threads at once: excluded by the
 *   header's contract.
 * Error paths and edges:
 *   init: object NULL: EINVAL                no test
 *   init: run NULL: EINVAL                   init_needs_a_run_function
 *   init: name NULL: Thread-1, 2, 3          automatic_names_are_thread_1_
 *                                            2_3
 *   init: name copied, cut to 31 characters; CREATED
 *                                            a_given_name_is_copied
 *   init at once: each number once, none skipped
 *                                            names_stay_unique_when_
 *                                            threads_create_at_once; main
 *                                            (the final check)
 *   start of a STARTED or JOINED object: EINVAL
 *                                            an_object_runs_at_most_once
 *   start: pthread_create fails: its error, CREATED, startable again
 *                                            failed_start_leaves_the_
 *                                            object_startable
 *   join of a never started object: EINVAL, state unchanged; join twice:
 *   EINVAL                                   join_needs_a_started_
 *                                            unjoined_object
 *   join from the object's own thread: EDEADLK
 *                                            joining_itself_is_refused
 *   run on a new thread, with itself as current; current NULL on main
 *                                            start_runs_the_object_on_a_
 *                                            new_thread
 */
#include "thread_object.h"
#include "workload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_CREATORS 4
#define OBJECTS 8

struct sighting {
    int runs;
    bool saw_itself;
};

static void record(struct thread_object *self)
{
    struct sighting *seen = self->context;
    seen->runs++;
    seen->saw_itself = thread_object_current() == self;
}

struct creator {
    struct thread_object objects[OBJECTS];
    struct sighting seen[OBJECTS];
    unsigned long *numbers; /* every automatic number it was given */
    size_t named;
};

static int rounds;
/* Under helgrind only main starts and joins threads: when one thread joins
 * a thread and another creates the next, glibc hands the old stack over
 * through a lock helgrind cannot see, and helgrind reports a race inside
 * glibc.  The names are still taken by several threads at once. */
static bool creators_run_their_objects;

static void run_objects(struct creator *creator)
{
    for (int i = 0; i < OBJECTS; i++) {
        int error = thread_object_start(&creator->objects[i]);
        workload_check(error == 0, "thread_object_start failed with %d",
                       error);
    }
    for (int i = 0; i < OBJECTS; i++) {
        int error = thread_object_join(&creator->objects[i]);
        workload_check(error == 0, "thread_object_join failed with %d",
                       error);
        /* Read without a lock: the join orders the run before it. */
        workload_check(creator->seen[i].runs == 1 &&
                       creator->seen[i].saw_itself,
                       "%s ran %d times, and thread_object_current() %s it",
                       creator->objects[i].name, creator->seen[i].runs,
                       creator->seen[i].saw_itself ? "was" : "was not");
    }
}

static void name_objects(struct creator *creator)
{
    for (int i = 0; i < OBJECTS; i++) {
        creator->seen[i] = (struct sighting){0, false};
        /* Every fourth object gets a given name. */
        const char *name = i % 4 == 3 ? "given-name" : NULL;
        int error = thread_object_init(&creator->objects[i], name, record,
                                       &creator->seen[i]);
        workload_check(error == 0, "thread_object_init failed with %d",
                       error);
        if (name != NULL)
            continue;
        unsigned long number = 0;
        char rest;
        workload_check(sscanf(creator->objects[i].name, "Thread-%lu%c",
                              &number, &rest) == 1,
                       "an automatic name is '%s'", creator->objects[i].name);
        creator->numbers[creator->named++] = number;
    }
}

static void *create(void *raw)
{
    struct creator *creator = raw;
    name_objects(creator);
    if (creators_run_their_objects)
        run_objects(creator);
    return NULL;
}

static int compare_numbers(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    rounds = workload_rounds(20, 5);
    creators_run_their_objects = !workload_under_valgrind();
    static struct creator creators[MAX_CREATORS];
    size_t per_creator = (size_t)rounds * OBJECTS;
    for (int c = 0; c < MAX_CREATORS; c++) {
        creators[c].numbers = malloc(per_creator * sizeof(unsigned long));
        workload_check(creators[c].numbers != NULL, "out of memory");
    }

    for (int round = 0; round < rounds; round++) {
        pthread_t threads[MAX_CREATORS];
        for (int c = 0; c < MAX_CREATORS; c++)
            workload_check(pthread_create(&threads[c], NULL, create,
                                          &creators[c]) == 0,
                           "pthread_create failed");
        for (int c = 0; c < MAX_CREATORS; c++)
            pthread_join(threads[c], NULL);
        if (!creators_run_their_objects)
            for (int c = 0; c < MAX_CREATORS; c++)
                run_objects(&creators[c]);
    }

    /* Every automatic number from 1 up, each exactly once. */
    size_t total = 0;
    unsigned long *all = malloc(MAX_CREATORS * per_creator * sizeof *all);
    workload_check(all != NULL, "out of memory");
    for (int c = 0; c < MAX_CREATORS; c++)
        for (size_t i = 0; i < creators[c].named; i++)
            all[total++] = creators[c].numbers[i];
    qsort(all, total, sizeof *all, compare_numbers);
    for (size_t i = 0; i < total; i++)
        workload_check(all[i] == i + 1, "the automatic names are not Thread-1 "
                       "to Thread-%zu, each once: Thread-%lu is %s", total,
                       all[i], i > 0 && all[i] == all[i - 1] ? "given twice"
                       : "out of place (a number was skipped)");
    free(all);
    for (int c = 0; c < MAX_CREATORS; c++)
        free(creators[c].numbers);
    workload_finished();
    return 0;
}
