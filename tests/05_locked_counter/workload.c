/*
 * Workload for exercise 05, for ThreadSanitizer and helgrind: threads
 * increment one counter, deposit into and withdraw from one account, and
 * read both while the others write.  Every access to the value or the
 * balance must be under its lock; the checkers report any that is not, even
 * when no update happened to be lost.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   counter_increment  x counter_increment     main phase; test_counter.c
 *   counter_value      x counter_increment     race phase (workload_race)
 *   account_deposit    x deposit, withdraw     main phase; race phase
 *   account_withdraw   x deposit, withdraw     main phase; race phase;
 *                                              test_bank.c (held check)
 *   account_balance    x deposit, withdraw     race phase (workload_race)
 *   The race phase runs its calls overlapping (workload_race), then every
 *   pair in turn (workload_in_turn), which no schedule can keep apart.
 *   init/destroy/set_withdraw_hook: before and after the threads only
 *                                   (their contract).
 * The main phase alone did not race the readers: started last, the reader
 * often ran after the writers had finished, and an unlocked read passed.
 */
#include "bank.h"
#include "counter.h"
#include "interleavings.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

enum { INCREMENTERS = 3, DEPOSITORS = 2, WITHDRAWERS = 2, READERS = 1 };
enum { THREADS = INCREMENTERS + DEPOSITORS + WITHDRAWERS + READERS };

static struct counter counter;
static struct account account;
static long operations; /* per writing thread */

/* Written by each thread, read by main after the join. */
static long withdrawn[WITHDRAWERS];
static bool reader_saw_overdraft;

static void *increment(void *unused)
{
    (void)unused;
    for (long i = 0; i < operations; i++)
        counter_increment(&counter);
    return NULL;
}

static void *deposit(void *unused)
{
    (void)unused;
    for (long i = 0; i < operations; i++)
        workload_check(account_deposit(&account, 1) == 0, "a deposit failed");
    return NULL;
}

static void *withdraw(void *slot)
{
    long *total = slot;
    for (long i = 0; i < operations; i++) {
        int result = account_withdraw(&account, 1);
        workload_check(result == 0 || result == ERANGE,
                       "a withdrawal returned %d", result);
        *total += result == 0;
    }
    return NULL;
}

/* Reads both while the writers run: the reads race unless they lock. */
static void *read_both(void *unused)
{
    (void)unused;
    for (long i = 0; i < operations / 4; i++) {
        counter_value(&counter);
        if (account_balance(&account) < 0)
            reader_saw_overdraft = true;
    }
    return NULL;
}

/* The race phase: each function runs in a thread of its own, all of them
 * overlapping, with nothing between them that orders a read before or
 * after a write (workload_race). */
static long race_increments, race_deposits, race_withdrawals;

static void race_increment(void *unused)
{
    (void)unused;
    counter_increment(&counter);
    race_increments++;
}

static void race_read_value(void *unused)
{
    (void)unused;
    workload_check(counter_value(&counter) >= 0, "the counter went below 0");
}

static void race_deposit(void *unused)
{
    (void)unused;
    workload_check(account_deposit(&account, 1) == 0, "a deposit failed");
    race_deposits++;
}

static void race_withdraw(void *unused)
{
    (void)unused;
    int result = account_withdraw(&account, 1);
    workload_check(result == 0 || result == ERANGE,
                   "a withdrawal returned %d", result);
    race_withdrawals += result == 0;
}

static void race_read_balance(void *unused)
{
    (void)unused;
    workload_check(account_balance(&account) >= 0, "the balance went below 0");
}

static void race_readers_against_writers(void)
{
    race_function *const functions[] = {race_increment, race_read_value,
                                        race_deposit, race_withdraw,
                                        race_read_balance};
    void *const arguments[] = {NULL, NULL, NULL, NULL, NULL};
    long value_before = counter_value(&counter);
    long balance_before = account_balance(&account);
    /* A yield after every unlock lets a writer in between a reader's
     * unlock and whatever the reader does next. */
    harness_yield_after_unlock(true);
    workload_race(functions, arguments, 5, workload_rounds(3000, 300));
    /* And in turn: every pair one after the other, unordered for the
     * checkers, so an unlocked access races on every run however the
     * threads are scheduled. */
    workload_in_turn(functions, arguments, 5, NULL);
    harness_yield_after_unlock(false);
    long value = counter_value(&counter);
    workload_check(value == value_before + race_increments,
                   "%ld increments raced with counter_value moved the counter "
                   "from %ld to %ld", race_increments, value_before, value);
    long balance = account_balance(&account);
    workload_check(balance == balance_before + race_deposits - race_withdrawals,
                   "%ld deposits and %ld withdrawals raced with "
                   "account_balance moved the balance from %ld to %ld",
                   race_deposits, race_withdrawals, balance_before, balance);
}

/* Threads report here when they finish, so that main can give up on a
 * thread that hangs (a lock never released) instead of waiting forever. */
static pthread_mutex_t finished_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t finished_cond = PTHREAD_COND_INITIALIZER;
static int finished;

struct job {
    void *(*run)(void *);
    void *argument;
};

static void *run_job(void *raw)
{
    const struct job *job = raw;
    job->run(job->argument);
    pthread_mutex_lock(&finished_lock);
    finished++;
    pthread_cond_broadcast(&finished_cond);
    pthread_mutex_unlock(&finished_lock);
    return NULL;
}

static bool all_finished_within(int seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&finished_lock);
    while (finished < THREADS &&
           pthread_cond_timedwait(&finished_cond, &finished_lock,
                                  &deadline) == 0) {
    }
    bool all = finished == THREADS;
    pthread_mutex_unlock(&finished_lock);
    return all;
}

int main(void)
{
    operations = workload_rounds(20000, 3000);
    workload_check(counter_init(&counter) == 0, "counter_init failed");
    workload_check(account_init(&account, 0) == 0, "account_init failed");

    struct job jobs[THREADS];
    int n = 0;
    for (int i = 0; i < INCREMENTERS; i++)
        jobs[n++] = (struct job){increment, NULL};
    for (int i = 0; i < DEPOSITORS; i++)
        jobs[n++] = (struct job){deposit, NULL};
    for (int i = 0; i < WITHDRAWERS; i++)
        jobs[n++] = (struct job){withdraw, &withdrawn[i]};
    for (int i = 0; i < READERS; i++)
        jobs[n++] = (struct job){read_both, NULL};

    pthread_t threads[THREADS];
    for (int i = 0; i < THREADS; i++)
        workload_check(pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0,
                       "pthread_create failed");
    workload_check(all_finished_within(workload_rounds(30, 200)),
                   "the threads never finished: a lock was never unlocked "
                   "(a return path that skips pthread_mutex_unlock?)");
    for (int i = 0; i < THREADS; i++)
        pthread_join(threads[i], NULL);

    long value = counter_value(&counter);
    workload_check(value == INCREMENTERS * operations,
                   "%d threads x %ld increments left the counter at %ld",
                   INCREMENTERS, operations, value);
    long taken = 0;
    for (int i = 0; i < WITHDRAWERS; i++)
        taken += withdrawn[i];
    long balance = account_balance(&account);
    workload_check(balance == DEPOSITORS * operations - taken,
                   "deposits of %ld and withdrawals of %ld left the balance "
                   "at %ld", DEPOSITORS * operations, taken, balance);
    workload_check(!reader_saw_overdraft, "the balance went below 0");
    race_readers_against_writers();
    account_destroy(&account);
    counter_destroy(&counter);
    workload_finished();
    return 0;
}
