/*
 * Workload for exercise 20, for ThreadSanitizer and helgrind.  Five
 * philosophers eat many meals each, all at once; the workload records who
 * eats (under its own mutex) and fails if two neighbours ate together, and
 * gives up with a message (instead of hanging) when they deadlock.  Forks
 * touched outside the table's mutex are data races the checkers report.
 * Two neighbours eating together is counted, and reported at the end, not
 * at once: stopping at the first one would cut short the run in which the
 * checkers see the races that caused it, and the reason would depend on
 * which of the two came first.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   table_pick_up   x pick_up (forks, tickets)   this workload (5, all at
 *                     once); tests all_grab_at_once_two_without_deadlock,
 *                     all_grab_at_once_five_without_deadlock (everyone
 *                     hungry at once), hungry_philosopher_between_greedy_
 *                     neighbours_eats (1 waits while 0 and 2 take turns),
 *                     put_down_wakes_both_neighbours (1 and 4 wait
 *                     together)
 *                   x put_down     this workload; tests neighbours_never_
 *                     eat_at_once (1 asleep while 0 and 2 put down),
 *                     put_down_wakes_both_neighbours, the greedy test,
 *                     the all_grab_at_once tests
 *   table_put_down  x pick_up, put_down   this workload; the all_grab_at_
 *                     once tests; the greedy test (0 and 2)
 *   table_set_fork_hook x pick_up  no test (set before the philosophers
 *                     start, in the all_grab_at_once tests; never in this
 *                     workload)
 *   init/destroy: before and after the threads only (their contract).
 * Error paths and edges:
 *   init: fewer than 2 (1, 0): EINVAL; 2 make a table
 *                          needs_at_least_two_philosophers
 *   init: malloc fails (ENOMEM), a pthread call fails (its error); nothing
 *     left to destroy      no test
 *   neighbours never eat together, non-neighbours do (a spurious wake-up
 *     injected)            neighbours_never_eat_at_once; this workload
 *                          (counted, reported at the end)
 *   a waiting philosopher sleeps (its CPU time measured)
 *                          neighbours_never_eat_at_once
 *   put_down lets both waiting neighbours go on
 *                          put_down_wakes_both_neighbours
 *   no deadlock with everyone holding one fork (the fork hook holds each
 *     until all have one)  all_grab_at_once_two_without_deadlock (each the
 *                          other's both neighbours), all_grab_at_once_
 *                          five_without_deadlock
 *   no deadlock under load this workload (gives up instead of hanging)
 *   no starvation: while one waits, each neighbour starts at most one meal
 *                          hungry_philosopher_between_greedy_neighbours_
 *                          eats (it allows 2 each, not 1)
 *   table_set_fork_hook(NULL) removes the hook
 *                          no test
 */
#include "table.h"
#include "workload.h"
#include "clock.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>

enum { SIZE = 5 };

static struct table table;
static pthread_mutex_t record_mutex = PTHREAD_MUTEX_INITIALIZER;
static bool eating[SIZE];
static int meals_each;
static atomic_int finished;
static int meals_beside_a_neighbour;    /* under record_mutex */
static double first_meal_beside_a_neighbour;     /* under record_mutex */

static void *philosopher(void *raw)
{
    int i = *(int *)raw;
    for (int meal = 0; meal < meals_each; meal++) {
        table_pick_up(&table, i);
        pthread_mutex_lock(&record_mutex);
        if ((eating[(i + 1) % SIZE] || eating[(i + SIZE - 1) % SIZE]) &&
            meals_beside_a_neighbour++ == 0)
            first_meal_beside_a_neighbour = now_seconds();
        eating[i] = true;
        pthread_mutex_unlock(&record_mutex);
        /* Each meal takes a moment, so that neighbours are hungry while
         * this one eats on every run, however the machine schedules the
         * threads: meals of no length let a loaded machine run the
         * philosophers one after another, no one ever waited, and a
         * pick_up that reads the forks without the mutex went unseen. */
        sleep_seconds(0.0001);
        pthread_mutex_lock(&record_mutex);
        eating[i] = false;
        pthread_mutex_unlock(&record_mutex);
        table_put_down(&table, i);
    }
    atomic_fetch_add(&finished, 1);
    return NULL;
}

static bool seen_long_enough(void)
{
    pthread_mutex_lock(&record_mutex);
    bool seen = meals_beside_a_neighbour > 0 &&
                now_seconds() > first_meal_beside_a_neighbour + 1.0;
    pthread_mutex_unlock(&record_mutex);
    return seen;
}

int main(void)
{
    int error = table_init(&table, SIZE);
    workload_check(error == 0, "table_init failed with %d", error);
    meals_each = workload_rounds(2000, 100);
    double give_up = now_seconds() + (workload_under_valgrind() ? 120 : 20);
    pthread_t threads[SIZE];
    static int numbers[SIZE];
    for (int i = 0; i < SIZE; i++) {
        numbers[i] = i;
        pthread_create(&threads[i], NULL, philosopher, &numbers[i]);
    }
    /* A second after the first meal beside a neighbour is enough for the
     * checkers to see the races: no need to wait for a deadlock to end. */
    while (atomic_load(&finished) < SIZE && now_seconds() < give_up &&
           !seen_long_enough())
        sleep_seconds(0.01);
    pthread_mutex_lock(&record_mutex);
    workload_check(meals_beside_a_neighbour == 0, "a philosopher ate while "
                   "a neighbour ate: they share a fork, which only one of "
                   "them may hold");
    pthread_mutex_unlock(&record_mutex);
    workload_check(atomic_load(&finished) == SIZE, "only %d of %d "
                   "philosophers finished their meals: every philosopher "
                   "holds one fork and waits for the other (a circular "
                   "wait), or a philosopher sleeps through its neighbour's "
                   "put_down", atomic_load(&finished), SIZE);
    for (int i = 0; i < SIZE; i++)
        pthread_join(threads[i], NULL);
    table_destroy(&table);
    workload_finished();
    return 0;
}
