/* Tests for exercise 20: dining philosophers. */
#include "harness.h"
#include "sleepers.h"
#include "table.h"

#include <errno.h>
#include <time.h>

/* The table, and every call a test runs in another thread, are static: a
 * thread that a failed test leaves blocked must still find valid memory
 * while the test process ends. */
static struct table table;

static void init_table(int philosophers)
{
    int error = table_init(&table, philosophers);
    cr_assert_eq(error, 0, "table_init(%d) returned %d, expected 0",
                 philosophers, error);
}

/* The test's own record of who eats: meals started, and who eats now. */
enum { MOST = 8 };
static struct {
    pthread_mutex_t mutex;
    pthread_cond_t changed;
    int meals[MOST];
    bool eating[MOST];
    bool neighbours_ate_together;
} record = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, {0}, {0},
            false};

static void start_meal(int i, int size)
{
    pthread_mutex_lock(&record.mutex);
    if (record.eating[(i + 1) % size] || record.eating[(i + size - 1) % size])
        record.neighbours_ate_together = true;
    record.eating[i] = true;
    record.meals[i]++;
    pthread_cond_broadcast(&record.changed);
    pthread_mutex_unlock(&record.mutex);
}

static void end_meal(int i)
{
    pthread_mutex_lock(&record.mutex);
    record.eating[i] = false;
    pthread_mutex_unlock(&record.mutex);
}

static int meals_of(int i)
{
    pthread_mutex_lock(&record.mutex);
    int meals = record.meals[i];
    pthread_mutex_unlock(&record.mutex);
    return meals;
}

/* Waits at most `seconds` until philosopher i has started `meals` meals. */
static bool wait_for_meals(int i, int meals, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (meals_of(i) < meals && now_seconds() < give_up)
        sleep_seconds(0.001);
    return meals_of(i) >= meals;
}

/* table_pick_up of one philosopher in its own thread (then it eats, and
 * the test decides when it puts the forks down). */
struct diner {
    struct async_call async;
    int philosopher;
    double cpu_seconds;
};

static void *pick_up(void *raw)
{
    struct diner *diner = raw;
    double cpu_before = thread_cpu_seconds();
    table_pick_up(&table, diner->philosopher);
    diner->cpu_seconds = thread_cpu_seconds() - cpu_before;
    start_meal(diner->philosopher, table.size);
    return NULL;
}

static void start_diner(struct diner *diner, int philosopher)
{
    diner->philosopher = philosopher;
    async_start(&diner->async, pick_up, diner);
}

static int asleep_at_table(void)
{
    return threads_asleep_on(&table.changed, sizeof table.changed);
}

EXERCISE_TEST(table, needs_at_least_two_philosophers, 10,
              "table_init or table_destroy never returned")
{
    static struct table small;
    cr_assert_eq(table_init(&small, 1), EINVAL, "table_init(1) must return "
                 "EINVAL: one philosopher has only one fork");
    cr_assert_eq(table_init(&small, 0), EINVAL, "table_init(0) must return "
                 "EINVAL");
    cr_assert_eq(table_init(&small, 2), 0, "table_init(2) must return 0");
    table_destroy(&small);
}

EXERCISE_TEST(table, neighbours_never_eat_at_once, 15,
              "a philosopher never got its forks although both were free")
{
    init_table(5);
    table_pick_up(&table, 0);
    start_meal(0, 5);
    static struct diner two;
    start_diner(&two, 2);
    cr_assert(async_wait(&two.async, 3.0), "philosopher 2 could not pick up "
              "its forks (2 and 3) while only philosopher 0 ate: "
              "philosophers who are not neighbours may eat at the same time");
    async_finish(&two.async);
    static struct diner one;
    start_diner(&one, 1);
    bool ate_early = async_wait(&one.async, 0.7);
    int asleep = ate_early ? 0 : asleep_at_table();
    end_meal(0);
    table_put_down(&table, 0);
    bool ate_beside_two = ate_early || async_wait(&one.async, 0.3);
    end_meal(2);
    table_put_down(&table, 2);
    cr_assert_not(ate_early, "philosopher 1 picked up its forks while both "
                  "its neighbours (0 and 2) ate: a wait can end without a "
                  "signal (a spurious wake-up), so wait in a loop: while "
                  "(!can_eat) pthread_cond_wait(...), with the forks checked "
                  "under the mutex");
    cr_assert(asleep != 0, "philosopher 1 waited without sleeping in "
              "pthread_cond_wait on the table's condition variable "
              "(busy-waiting)");
    cr_assert_not(ate_beside_two, "philosopher 1 ate while its neighbour 2 "
                  "still held fork 2: a philosopher needs both forks free");
    cr_assert(async_wait(&one.async, 3.0), "philosopher 1 was still waiting "
              "3 s after both its neighbours put their forks down");
    async_finish(&one.async);
    cr_assert_lt(one.cpu_seconds, 0.05, "a philosopher waiting for its forks "
                 "used %.2f s of CPU: it polls (busy-waiting)",
                 one.cpu_seconds);
    end_meal(1);
    table_put_down(&table, 1);
}

EXERCISE_TEST(table, put_down_wakes_both_neighbours, 15,
              "a neighbour never ate after the forks were put down")
{
    init_table(5);
    table_pick_up(&table, 0);
    static struct diner one, four;
    start_diner(&one, 1);
    start_diner(&four, 4);
    double give_up = now_seconds() + 3.0;
    while (asleep_at_table() >= 0 && asleep_at_table() < 2 &&
           now_seconds() < give_up)
        sleep_seconds(0.002);
    if (asleep_at_table() < 0)
        sleep_seconds(0.5);
    table_put_down(&table, 0);
    bool one_ate = async_wait(&one.async, 3.0);
    bool four_ate = async_wait(&four.async, 3.0);
    cr_assert(one_ate && four_ate, "philosopher 0 put its forks down while "
              "both its neighbours waited for them, but only %s ate: wake "
              "every waiter (pthread_cond_broadcast; signal wakes only one, "
              "and it may be the wrong one)",
              one_ate ? "philosopher 1" : four_ate ? "philosopher 4" : "nobody");
    async_finish(&one.async);
    async_finish(&four.async);
}

/* The fork hook: holds a philosopher that has one fork (releasing the
 * table's mutex) until all of them have one, or half a second passed. */
static struct {
    pthread_cond_t changed;
    int holding_one;
    int wanted;
} fork_gate = {PTHREAD_COND_INITIALIZER, 0, 0};

static void hold_with_one_fork(struct table *held, int philosopher,
                               void *context)
{
    (void)philosopher;
    (void)context;
    fork_gate.holding_one++; /* under held->mutex */
    pthread_cond_broadcast(&fork_gate.changed);
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_nsec += 500000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    while (fork_gate.holding_one < fork_gate.wanted &&
           pthread_cond_timedwait(&fork_gate.changed, &held->mutex,
                                  &deadline) != ETIMEDOUT) {
    }
}

static int hungry_size;
static void *eat_three_times(void *raw)
{
    int i = *(int *)raw;
    for (int meal = 0; meal < 3; meal++) {
        table_pick_up(&table, i);
        start_meal(i, hungry_size);
        end_meal(i);
        table_put_down(&table, i);
    }
    return NULL;
}

static void all_grab_at_once(int size)
{
    init_table(size);
    hungry_size = size;
    fork_gate.holding_one = 0;
    fork_gate.wanted = size;
    table_set_fork_hook(&table, hold_with_one_fork, NULL);
    static struct async_call philosophers[MOST];
    static int numbers[MOST];
    for (int i = 0; i < size; i++) {
        numbers[i] = i;
        async_start(&philosophers[i], eat_three_times, &numbers[i]);
    }
    int finished = 0;
    double give_up = now_seconds() + 5.0;
    for (int i = 0; i < size; i++) {
        double left = give_up - now_seconds();
        finished += async_wait(&philosophers[i], left > 0 ? left : 0);
    }
    pthread_mutex_lock(&table.mutex);
    int holding_one = fork_gate.holding_one;
    pthread_mutex_unlock(&table.mutex);
    cr_assert(finished == size || holding_one < size, "%d philosophers, all "
              "hungry at once: every philosopher holds one fork and waits "
              "for the other, a circular wait (deadlock).  Take both forks "
              "at once or none (under the mutex), or take them in one "
              "global order", size);
    cr_assert_eq(finished, size, "%d philosophers eating three meals each: "
                 "only %d finished within 5 s (deadlock or starvation)",
                 size, finished);
    for (int i = 0; i < size; i++)
        async_finish(&philosophers[i]);
}

EXERCISE_TEST(table, all_grab_at_once_two_without_deadlock, 15, "two philosophers deadlocked")
{
    all_grab_at_once(2);
}

EXERCISE_TEST(table, all_grab_at_once_five_without_deadlock, 15, "five philosophers deadlocked")
{
    all_grab_at_once(5);
}

/* Philosophers 0 and 2 eat in turns that overlap (each puts its forks down
 * only once the other has started a meal, or after a second), while
 * philosopher 1 between them is hungry: it starves unless its neighbours
 * let it go first. */
enum { GREEDY_MEALS = 6 };

static void *greedy(void *raw)
{
    int me = *(int *)raw, other = me == 0 ? 2 : 0;
    for (int meal = 1; meal <= GREEDY_MEALS; meal++) {
        if (me == 2)
            wait_for_meals(other, meal, 1.0);
        table_pick_up(&table, me);
        start_meal(me, 5);
        wait_for_meals(other, me == 0 ? meal : meal + 1, 1.0);
        end_meal(me);
        table_put_down(&table, me);
    }
    return NULL;
}

EXERCISE_TEST(table, hungry_philosopher_between_greedy_neighbours_eats, 30,
              "the philosophers never finished their meals")
{
    init_table(5);
    static int zero = 0, two = 2;
    static struct async_call left_neighbour, right_neighbour;
    async_start(&left_neighbour, greedy, &zero);
    cr_assert(wait_for_meals(0, 1, 3.0), "philosopher 0 could not eat at an "
              "empty table");
    static struct diner one;
    start_diner(&one, 1);
    sleep_seconds(0.2);
    int before0 = meals_of(0), before2 = meals_of(2);
    async_start(&right_neighbour, greedy, &two);
    bool ate = async_wait(&one.async, 20.0);
    int during0 = meals_of(0) - before0, during2 = meals_of(2) - before2;
    pthread_mutex_lock(&record.mutex);
    bool together_early = record.neighbours_ate_together;
    pthread_mutex_unlock(&record.mutex);
    cr_assert_not(together_early, "two neighbours ate at the same time: "
                  "check both forks under the mutex, and wait in a loop (a "
                  "wait can end without a signal, a spurious wake-up): while "
                  "(!can_eat) pthread_cond_wait(...)");
    cr_assert(ate, "philosopher 1 never ate");
    cr_assert(during0 <= 2 && during2 <= 2, "while philosopher 1 was hungry, "
              "its neighbours started %d and %d meals: it starves.  A "
              "philosopher must not pick up its forks while a neighbour who "
              "got hungry earlier still waits (compare hungry_since)",
              during0, during2);
    end_meal(1);
    table_put_down(&table, 1);
    cr_assert(async_wait(&left_neighbour, 10.0) &&
              async_wait(&right_neighbour, 10.0), "the greedy neighbours "
              "never finished");
    async_finish(&left_neighbour);
    async_finish(&right_neighbour);
    async_finish(&one.async);
    pthread_mutex_lock(&record.mutex);
    bool together = record.neighbours_ate_together;
    pthread_mutex_unlock(&record.mutex);
    cr_assert_not(together, "two neighbours ate at the same time: check "
                  "both forks under the mutex, and wait in a loop (a wait "
                  "can end without a signal, a spurious wake-up): while "
                  "(!can_eat) pthread_cond_wait(...)");
}
