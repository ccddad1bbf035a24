/*
 * Workload for exercise 05, for ThreadSanitizer and helgrind: threads
 * increment one counter, deposit into and withdraw from one account, and
 * read both while the others write.  Every access to the value or the
 * balance must be under its lock; the checkers report any that is not, even
 * when no update happened to be lost.
 */
#include "bank.h"
#include "counter.h"
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
    account_destroy(&account);
    counter_destroy(&counter);
    workload_finished();
    return 0;
}
