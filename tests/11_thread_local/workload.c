/*
 * Workload for exercise 11, for ThreadSanitizer and helgrind.
 * Each round, 8 threads pass a barrier together and at once use their
 * context and their counter, with no lock between them: thread-local data
 * needs none.  In the first round this is also the first use of the
 * contexts in the process (under ThreadSanitizer), so a key created without
 * pthread_once is a race it sees.  Each thread replaces its context once; every value
 * must be released exactly once, by its own thread.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   local_counter_add    x nothing shared: each thread's counter is its
 *                          own; other threads adding at the same time:
 *                          every round (8 threads); in a forced order:
 *                          counters_of_two_threads_never_interfere
 *   local_counter_value  x nothing shared (the same); every round;
 *                          counters_of_two_threads_never_interfere
 *   context_set  x context_set: the key's one-time set-up, in the first
 *                  call of the process
 *                          key_is_created_once_when_threads_race_to_use_it
 *                          (the first pthread_key_create held until a
 *                          second comes); the first round under
 *                          ThreadSanitizer (under helgrind main uses the
 *                          contexts first)
 *                x context_get: the same set-up   see context_get
 *                x nothing else shared: each thread's slot and record are
 *                  its own; other threads setting at the same time: every
 *                  round; only_threads_that_set_a_context_release_one
 *   context_get  x context_set's one-time set-up
 *                          only_threads_that_set_a_context_release_one
 *                          (odd threads only get while even threads set,
 *                          unsynchronised: overlap by chance, functional
 *                          only); under the checkers: no test (every
 *                          thread here sets before it gets)
 *                x another thread's context_set (its own slot only)
 *                          every round; contexts_of_two_threads_never_
 *                          interfere (in a forced order)
 *   the release functions: run in the thread that stored the value, at
 *                  its end or on a replace: every round; context_is_
 *                  released_once_when_its_thread_ends
 * Error paths and edges:
 *   value NULL: EINVAL, nothing stored context_set_rejects_null
 *   the key's set-up fails (EAGAIN)    no test
 *   an allocation fails (ENOMEM)       no test
 *   every counter starts at 0          counter_starts_at_zero_in_every_new_
 *                                      thread
 *   the sum of this thread's amounts   counter_sums_what_its_thread_added;
 *                                      every round
 *   context_get: NULL before any set   contexts_of_two_threads_never_
 *                                      interfere, only_threads_that_set_a_
 *                                      context_release_one
 *   released once when its thread ends (returns), by that thread
 *                                      context_is_released_once_when_its_
 *                                      thread_ends; every round
 *   ... or calls pthread_exit          no test
 *   replaced: the old value released at once
 *                                      setting_again_releases_the_old_
 *                                      context_at_once; every round
 *   ... with the release function it was stored with
 *                                      no test (every value is stored with
 *                                      the same release function)
 *   release NULL: nothing called       a_context_without_release_function_
 *                                      is_dropped
 *   a thread that set none releases nothing
 *                                      only_threads_that_set_a_context_
 *                                      release_one
 *   set-up exactly once, many threads at once
 *                                      key_is_created_once_when_threads_
 *                                      race_to_use_it; the first round
 *                                      (ThreadSanitizer only)
 */
#include "thread_local.h"
#include "workload.h"

#include <pthread.h>

#define THREADS 8
#define ADDITIONS 2000

struct thread_state {
    int number;
    int first_value, second_value;  /* the contexts are their addresses */
    int first_releases, second_releases;
    long counted;
    void *got_first, *got_second;
    int errors;
};

static pthread_barrier_t start_together;
static _Thread_local struct thread_state *me;

/* Runs in the thread that set the value: only that thread and, after the
 * join, main touch its state. */
static void count_release(void *value)
{
    if (value == &me->first_value)
        me->first_releases++;
    else if (value == &me->second_value)
        me->second_releases++;
    else
        me->errors++;
}

static void *use_thread_locals(void *raw)
{
    me = raw;
    pthread_barrier_wait(&start_together);
    if (context_set(&me->first_value, count_release) != 0)
        me->errors++;
    for (int i = 0; i < ADDITIONS; i++)
        local_counter_add(me->number + 1);
    me->got_first = context_get();
    if (context_set(&me->second_value, count_release) != 0)
        me->errors++;
    me->got_second = context_get();
    me->counted = local_counter_value();
    return NULL;
}

static void run_round(int round)
{
    struct thread_state states[THREADS] = {{0}};
    pthread_t threads[THREADS];
    pthread_barrier_init(&start_together, NULL, THREADS);
    for (int i = 0; i < THREADS; i++) {
        states[i].number = i;
        int error = pthread_create(&threads[i], NULL, use_thread_locals,
                                   &states[i]);
        workload_check(error == 0, "pthread_create failed with %d", error);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);
    pthread_barrier_destroy(&start_together);

    for (int i = 0; i < THREADS; i++) {
        struct thread_state *s = &states[i];
        workload_check(s->errors == 0, "round %d, thread %d: context_set "
                       "failed or a foreign value was released", round, i);
        workload_check(s->counted == (long)(i + 1) * ADDITIONS,
                       "round %d, thread %d: its counter read %ld, expected "
                       "%ld", round, i, s->counted, (long)(i + 1) * ADDITIONS);
        workload_check(s->got_first == &s->first_value &&
                       s->got_second == &s->second_value,
                       "round %d, thread %d: context_get returned another "
                       "thread's context", round, i);
        workload_check(s->first_releases == 1 && s->second_releases == 1,
                       "round %d, thread %d: its two contexts were released "
                       "%d and %d times by it (expected once each)", round, i,
                       s->first_releases, s->second_releases);
    }
}

int main(void)
{
    /* helgrind does not model pthread_once (it cannot see that the threads
     * that skip the once-function are ordered after the one that ran it)
     * and reports a false race on the key.  Under valgrind, main uses the
     * contexts first, before any thread exists; ThreadSanitizer, which does
     * model pthread_once, checks the racing first use. */
    if (workload_under_valgrind())
        workload_check(context_get() == NULL, "main has a context it never "
                       "set");
    int rounds = workload_rounds(100, 8);
    for (int round = 0; round < rounds; round++)
        run_round(round);
    workload_finished();
    return 0;
}
