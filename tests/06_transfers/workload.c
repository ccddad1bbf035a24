/*
 * Workload for exercise 06, for ThreadSanitizer and helgrind.
 *
 * Phase 1: several threads transfer money from lower-numbered to higher-
 * numbered accounts, deposit, withdraw and read balances, all at once: the
 * checkers report any balance touched without its lock.
 * Phase 2: one thread transfers in the opposite directions.  Both checkers
 * remember the order in which each thread took the locks, so a transfer that
 * locks its arguments in argument order is reported as a lock-order
 * inversion (a deadlock waiting to happen) although no two transfers ran at
 * the same time, and the workload cannot hang on it.
 * Phase 3 (workload_race): one thread each transfers account 0 to itself,
 * deposits into it, withdraws from it, reads it, and transfers from it to
 * account 1, all overlapping, with a yield after every unlock; then every
 * pair of those calls in turn (workload_in_turn), which no schedule can
 * keep apart.
 *
 * Concurrency matrix (every public function, the functions that write the
 * same state, and where they run at the same time):
 *   account_deposit   x deposit, withdraw, transfer   phases 1 and 3
 *   account_withdraw  x deposit, withdraw, transfer   phases 1 and 3
 *   account_balance   x deposit, withdraw, transfer   phases 1 and 3;
 *                                     test money_in_transit_is_never_visible
 *   account_transfer  x deposit, withdraw, transfer   phases 1, 2 and 3;
 *     the same payer, held between two lock regions:
 *                     test transfer_checked_and_moved_under_one_lock
 *   account_transfer(a, a) x deposit, withdraw, transfer   phase 3 only
 *   init/destroy: before and after the threads only (their contract).
 * Before phase 3 no transfer of an account to itself ran beside a writer,
 * and no test held a transfer between its check and its update.
 */
#include "accounts.h"
#include "interleavings.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <time.h>

enum { ACCOUNTS = 4, TRADERS = 4, OPENING = 1000 };

static struct account accounts[ACCOUNTS];
static long operations; /* per trader */

struct trader {
    unsigned seed;
    long deposited;
    long withdrawn;
};

static unsigned next_random(unsigned *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static void check_result(int result, const char *what)
{
    workload_check(result == 0 || result == ERANGE, "%s returned %d", what,
                   result);
}

/* Transfers only upwards (lower index to higher), so that even a transfer
 * that locks in argument order cannot deadlock here. */
static void *trade_upwards(void *raw)
{
    struct trader *trader = raw;
    for (long i = 0; i < operations; i++) {
        unsigned pick = next_random(&trader->seed);
        int low = (int)(pick % (ACCOUNTS - 1));
        int high = low + 1 + (int)(pick / 4 % (unsigned)(ACCOUNTS - 1 - low));
        long amount = (long)(pick / 64 % 20) + 1;
        switch (pick / 4096 % 8) {
        case 0:
            check_result(account_deposit(&accounts[low], amount), "a deposit");
            trader->deposited += amount;
            break;
        case 1: {
            int result = account_withdraw(&accounts[high], amount);
            check_result(result, "a withdrawal");
            trader->withdrawn += result == 0 ? amount : 0;
            break;
        }
        case 2:
            workload_check(account_balance(&accounts[high]) >= 0,
                           "a balance went below 0");
            break;
        default:
            check_result(account_transfer(&accounts[low], &accounts[high],
                                          amount), "a transfer");
        }
    }
    return NULL;
}

/* Every pair, in the opposite direction to phase 1. */
static void *transfer_downwards(void *unused)
{
    (void)unused;
    for (int round = 0; round < 10; round++)
        for (int high = ACCOUNTS - 1; high > 0; high--)
            for (int low = 0; low < high; low++)
                check_result(account_transfer(&accounts[high], &accounts[low],
                                              1), "a transfer");
    return NULL;
}

/* Threads report here when they finish, so that main can give up on a
 * deadlock instead of waiting forever. */
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

#define DEADLOCK "deadlock: transfers never finished - lock the two " \
                 "accounts in a fixed order, and unlock on every return"

/* Runs the jobs in threads at once; fails the workload with `if_stuck` if
 * they have not all finished within `seconds`. */
static void run_all_or_fail(struct job *jobs, int count, int seconds,
                            const char *if_stuck)
{
    pthread_t threads[TRADERS];
    pthread_mutex_lock(&finished_lock);
    finished = 0;
    pthread_mutex_unlock(&finished_lock);
    for (int i = 0; i < count; i++)
        workload_check(pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0,
                       "pthread_create failed");
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += seconds;
    pthread_mutex_lock(&finished_lock);
    while (finished < count &&
           pthread_cond_timedwait(&finished_cond, &finished_lock,
                                  &deadline) == 0) {
    }
    bool all = finished == count;
    pthread_mutex_unlock(&finished_lock);
    workload_check(all, "%s", if_stuck);
    for (int i = 0; i < count; i++)
        pthread_join(threads[i], NULL);
}

/* Phase 3: account 0 against everything that writes it. */
static long race_deposited, race_withdrawn;

static void race_self_transfer(void *unused)
{
    (void)unused;
    check_result(account_transfer(&accounts[0], &accounts[0], 5),
                 "a transfer to the same account");
}

static void race_deposit(void *unused)
{
    (void)unused;
    check_result(account_deposit(&accounts[0], 3), "a deposit");
    race_deposited += 3;
}

static void race_withdraw(void *unused)
{
    (void)unused;
    int result = account_withdraw(&accounts[0], 2);
    check_result(result, "a withdrawal");
    race_withdrawn += result == 0 ? 2 : 0;
}

static void race_balance(void *unused)
{
    (void)unused;
    workload_check(account_balance(&accounts[0]) >= 0,
                   "a balance went below 0");
}

static void race_transfer_out(void *unused)
{
    (void)unused;
    check_result(account_transfer(&accounts[0], &accounts[1], 1), "a transfer");
}

static void *transfer_once_to_itself(void *unused)
{
    (void)unused;
    check_result(account_transfer(&accounts[0], &accounts[0], 1),
                 "a transfer to the same account");
    return NULL;
}

static void *race_one_account(void *unused)
{
    (void)unused;
    race_function *const functions[] = {race_self_transfer, race_deposit,
                                        race_withdraw, race_balance,
                                        race_transfer_out};
    void *const arguments[] = {NULL, NULL, NULL, NULL, NULL};
    harness_yield_after_unlock(true);
    workload_race(functions, arguments, 5, workload_rounds(3000, 300));
    /* And in turn: every pair one after the other, unordered for the
     * checkers, so an unlocked access races on every run however the
     * threads are scheduled. */
    workload_in_turn(functions, arguments, 5, NULL);
    harness_yield_after_unlock(false);
    return NULL;
}

int main(void)
{
    operations = workload_rounds(20000, 1500);
    for (int i = 0; i < ACCOUNTS; i++)
        workload_check(account_init(&accounts[i], OPENING) == 0,
                       "account_init failed");

    struct trader traders[TRADERS];
    struct job jobs[TRADERS];
    for (int i = 0; i < TRADERS; i++) {
        traders[i] = (struct trader){2463534242u + 7919u * (unsigned)i, 0, 0};
        jobs[i] = (struct job){trade_upwards, &traders[i]};
    }
    int limit = workload_rounds(30, 200);
    run_all_or_fail(jobs, TRADERS, limit, DEADLOCK);
    run_all_or_fail(&(struct job){transfer_downwards, NULL}, 1, limit,
                    DEADLOCK);
    /* A transfer to the same account that waits for itself would hang
     * phase 3 for its whole time limit: find out quickly. */
    run_all_or_fail(&(struct job){transfer_once_to_itself, NULL}, 1,
                    workload_rounds(1, 3), "a transfer from an account to "
                    "itself never returned: it locked the same mutex twice?");
    run_all_or_fail(&(struct job){race_one_account, NULL}, 1, limit,
                    DEADLOCK);

    long expected = ACCOUNTS * OPENING, total = 0;
    for (int i = 0; i < TRADERS; i++)
        expected += traders[i].deposited - traders[i].withdrawn;
    expected += race_deposited - race_withdrawn;
    for (int i = 0; i < ACCOUNTS; i++) {
        long balance = account_balance(&accounts[i]);
        workload_check(balance >= 0, "account %d ended at %ld", i, balance);
        total += balance;
        account_destroy(&accounts[i]);
    }
    workload_check(total == expected, "the total of all balances is %ld, "
                   "expected %ld", total, expected);
    workload_finished();
    return 0;
}
