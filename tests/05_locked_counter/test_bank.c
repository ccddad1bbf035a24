/* Tests for exercise 05, part 2: deposits and withdrawals under a lock. */
#include "harness.h"
#include "bank.h"

#include <errno.h>

#define MAX_THREADS 16

static struct account account;
static struct gate start_line;

static long balance_seen;

static void *deposit_1(void *unused)
{
    (void)unused;
    account_deposit(&account, 1);
    return NULL;
}

static void *withdraw_1(void *unused)
{
    (void)unused;
    account_withdraw(&account, 1);
    return NULL;
}

static void *read_balance(void *unused)
{
    (void)unused;
    balance_seen = account_balance(&account);
    return NULL;
}

/* The balance, read in another thread: false if that read waited more
 * than `seconds` for the account's lock. */
static bool balance_within(double seconds, long *balance)
{
    struct async_call read;
    async_start(&read, read_balance, NULL);
    if (!async_wait(&read, seconds))
        return false;
    async_finish(&read);
    *balance = balance_seen;
    return true;
}

EXERCISE_TEST(bank, deposits_and_withdrawals_follow_the_contract, 10,
              "a deposit or withdrawal never returned: is the lock unlocked "
              "on every return path?")
{
    struct account bad;
    cr_assert_eq(account_init(&bad, -1), EINVAL, "account_init with a "
                 "negative opening balance must return EINVAL");
    cr_assert_eq(account_init(&account, 50), 0, "account_init failed");
    cr_assert_eq(account_deposit(&account, 0), EINVAL,
                 "a deposit of 0 must return EINVAL");
    cr_assert_eq(account_deposit(&account, -5), EINVAL,
                 "a negative deposit must return EINVAL");
    cr_assert_eq(account_withdraw(&account, 0), EINVAL,
                 "a withdrawal of 0 must return EINVAL");
    cr_assert_eq(account_deposit(&account, 25), 0, "a deposit of 25 failed");
    cr_assert_eq(account_withdraw(&account, 100), ERANGE, "withdrawing 100 "
                 "from a balance of 75 must return ERANGE (%d)", ERANGE);
    long after_refusal = 0;
    cr_assert(balance_within(3.0, &after_refusal), "after a refused "
              "withdrawal, account_balance waited 3 s for the account's lock: "
              "the ERANGE path returned without unlocking. Unlock before "
              "every return");
    cr_assert_eq(after_refusal, 75, "a refused withdrawal changed the balance "
                 "from 75 to %ld: take nothing out when refusing",
                 after_refusal);
    cr_assert_eq(account_withdraw(&account, 75), 0, "withdrawing the whole "
                 "balance (75) must succeed");
    long final = account_balance(&account);
    account_destroy(&account);
    cr_assert_eq(final, 0, "50 + 25 - 75 left the balance at %ld", final);
}

/* Waits at the start line, then deposits `amount` `times` times. */
struct depositor {
    long amount;
    long times;
};

static void *deposit_from_the_start_line(void *argument)
{
    const struct depositor *depositor = argument;
    gate_wait(&start_line, 10.0);
    for (long i = 0; i < depositor->times; i++)
        account_deposit(&account, depositor->amount);
    return NULL;
}

static long deposit_in_threads(int threads, struct depositor depositor)
{
    pthread_t ids[MAX_THREADS];
    cr_assert_eq(account_init(&account, 0), 0, "account_init failed");
    gate_init(&start_line);
    for (int i = 0; i < threads; i++)
        cr_assert_eq(pthread_create(&ids[i], NULL, deposit_from_the_start_line,
                                    &depositor),
                     0, "the test could not start its threads");
    gate_open(&start_line);
    for (int i = 0; i < threads; i++)
        pthread_join(ids[i], NULL);
    gate_destroy(&start_line);
    long balance = account_balance(&account);
    account_destroy(&account);
    return balance;
}

/* Deposits 1 until `stop`, counting its own deposits. */
struct timed_depositor {
    double stop;
    long done;
};

static void *deposit_until_stop(void *raw)
{
    struct timed_depositor *self = raw;
    gate_wait(&start_line, 10.0);
    while (now_seconds() < self->stop) {
        for (int i = 0; i < 1000; i++)
            account_deposit(&account, 1);
        self->done += 1000;
    }
    return NULL;
}

/* `threads` threads deposit 1 at a time for `seconds`: returns the balance
 * (it starts at 0), and in *expected the number of deposits made. */
static long deposit_in_threads_for(int threads, double seconds, long *expected)
{
    pthread_t ids[MAX_THREADS];
    struct timed_depositor depositors[MAX_THREADS];
    cr_assert_eq(account_init(&account, 0), 0, "account_init failed");
    gate_init(&start_line);
    double stop = now_seconds() + seconds;
    for (int i = 0; i < threads; i++) {
        depositors[i] = (struct timed_depositor){stop, 0};
        cr_assert_eq(pthread_create(&ids[i], NULL, deposit_until_stop,
                                    &depositors[i]),
                     0, "the test could not start its threads");
    }
    gate_open(&start_line);
    *expected = 0;
    for (int i = 0; i < threads; i++) {
        pthread_join(ids[i], NULL);
        *expected += depositors[i].done;
    }
    gate_destroy(&start_line);
    long balance = account_balance(&account);
    account_destroy(&account);
    return balance;
}

EXERCISE_TEST(bank, ten_deposits_of_100_make_1000, 10,
              "the depositing threads never finished: is the lock unlocked "
              "after every deposit?")
{
    long balance = deposit_in_threads(10, (struct depositor){100, 1});
    cr_assert_eq(balance, 1000, "ten threads depositing 100 each left the "
                 "balance at %ld, expected 1000: deposits were lost. Lock the "
                 "account around balance += amount", balance);
}

EXERCISE_TEST(bank, many_deposits_at_once_lose_none, 20,
              "the depositing threads never finished: is the lock unlocked "
              "after every deposit?")
{
    /* For a fixed time, not a fixed count: 50000 deposits each took about
     * a millisecond, and on a busy machine the threads then ran one after
     * another and unlocked deposits lost nothing in some runs.  (The
     * message gives no count: it differs between runs.) */
    long expected = 0;
    long balance = deposit_in_threads_for(8, 0.3, &expected);
    cr_assert_eq(balance, expected, "8 threads depositing 1 at a time for "
                 "0.3 s lost deposits. Lock the account around balance += "
                 "amount");
}

/*
 * The forced interleaving: the first withdrawal, paused by the hook between
 * its check and its update, starts a second one and gives it a second to
 * finish once it runs.  If the check and the update are one critical
 * section, the second withdrawal waits for the lock, then finds the balance
 * empty.
 */
static struct {
    pthread_mutex_t mutex;
    int hook_calls;
    struct gate second_running;
    struct async_call second;
    int first_result;
    int second_result;
} race = {.mutex = PTHREAD_MUTEX_INITIALIZER};

static void *second_withdrawal(void *unused)
{
    (void)unused;
    gate_open(&race.second_running);
    race.second_result = account_withdraw(&account, 100);
    return NULL;
}

static void *first_withdrawal(void *unused)
{
    (void)unused;
    race.first_result = account_withdraw(&account, 100);
    return NULL;
}

static void start_a_rival_in_the_gap(struct account *paused, void *context)
{
    (void)paused;
    (void)context;
    pthread_mutex_lock(&race.mutex);
    int call = ++race.hook_calls;
    pthread_mutex_unlock(&race.mutex);
    if (call != 1)
        return;
    async_start(&race.second, second_withdrawal, NULL);
    gate_wait(&race.second_running, 3.0);
    async_wait(&race.second, 1.0);
}

EXERCISE_TEST(bank, withdrawal_raced_between_check_and_update_never_overdraws,
              15, "a withdrawal never returned: is the lock unlocked on "
              "every return path (ERANGE too)?")
{
    cr_assert_eq(account_init(&account, 100), 0, "account_init failed");
    gate_init(&race.second_running);
    account_set_withdraw_hook(&account, start_a_rival_in_the_gap, NULL);
    struct async_call first;
    async_start(&first, first_withdrawal, NULL);
    cr_assert(async_wait(&first, 6.0), "account_withdraw never returned");
    async_finish(&first);
    pthread_mutex_lock(&race.mutex);
    int hook_calls = race.hook_calls;
    pthread_mutex_unlock(&race.mutex);
    cr_assert(hook_calls > 0, "account_withdraw never called the account's "
              "withdraw hook between its balance check and its update (see "
              "bank.h): keep the hook call where the stub has it");
    cr_assert(async_wait(&race.second, 3.0), "the second withdrawal never "
              "returned: is the lock unlocked on every return path (ERANGE "
              "too)?");
    async_finish(&race.second);
    long balance = 0;
    cr_assert(balance_within(3.0, &balance), "after two withdrawals, "
              "account_balance waited 3 s for the account's lock: the ERANGE "
              "path returned without unlocking. Unlock before every return");
    account_destroy(&account);
    cr_assert(balance >= 0, "two withdrawals of 100 from a balance of 100 "
              "left it at %ld: the second passed the balance check while the "
              "first was between its check and its update (check-then-act): "
              "check the balance and take the money in one critical section, "
              "holding account->lock from the check until the update",
              balance);
    int successes = (race.first_result == 0) + (race.second_result == 0);
    cr_assert_eq(successes, 1, "two withdrawals of 100 from a balance of 100 "
                 "returned %d and %d: exactly one must succeed, the other must "
                 "return ERANGE (%d)", race.first_result, race.second_result,
                 ERANGE);
    cr_assert_eq(balance, 0, "the balance is %ld after one withdrawal of 100 "
                 "from 100", balance);
}

static struct {
    pthread_mutex_t mutex;
    int successes;
    int refusals;
} withdrawals = {PTHREAD_MUTEX_INITIALIZER, 0, 0};

static void *withdraw_100_from_the_start_line(void *unused)
{
    (void)unused;
    gate_wait(&start_line, 10.0);
    int result = account_withdraw(&account, 100);
    pthread_mutex_lock(&withdrawals.mutex);
    withdrawals.successes += result == 0;
    withdrawals.refusals += result == ERANGE;
    pthread_mutex_unlock(&withdrawals.mutex);
    return NULL;
}

/* Releases `threads` withdrawals of 100 at once; false if any of them is
 * still running after a few seconds. */
static bool withdraw_all_at_once(int threads)
{
    struct async_call calls[MAX_THREADS];
    gate_init(&start_line);
    for (int i = 0; i < threads; i++)
        async_start(&calls[i], withdraw_100_from_the_start_line, NULL);
    gate_open(&start_line);
    double give_up = now_seconds() + 3.0;
    bool all_returned = true;
    for (int i = 0; i < threads; i++) {
        double left = give_up - now_seconds();
        all_returned = async_wait(&calls[i], left > 0 ? left : 0) &&
                       all_returned;
        async_finish(&calls[i]);
    }
    if (all_returned)
        gate_destroy(&start_line);
    return all_returned;
}

EXERCISE_TEST(bank, many_withdrawers_released_together_overdraw_nothing, 15,
              "the withdrawing threads never finished: is the lock unlocked "
              "on every return path (ERANGE too)?")
{
    enum { THREADS = 8, ROUNDS = 50 };
    for (int round = 0; round < ROUNDS; round++) {
        cr_assert_eq(account_init(&account, 100), 0, "account_init failed");
        withdrawals.successes = withdrawals.refusals = 0;
        cr_assert(withdraw_all_at_once(THREADS), "%d withdrawals released "
                  "together did not all return within 3 s: is the lock "
                  "unlocked on every return path (ERANGE too)?", THREADS);
        long balance = account_balance(&account);
        account_destroy(&account);
        cr_assert_eq(withdrawals.successes, 1, "%d threads withdrew 100 at "
                     "once from a balance of 100 and %d succeeded (balance "
                     "now %ld): check the balance and take the money in one "
                     "critical section", THREADS, withdrawals.successes,
                     balance);
        cr_assert_eq(withdrawals.refusals, THREADS - 1, "%d of %d withdrawals "
                     "were refused, expected %d with ERANGE",
                     withdrawals.refusals, THREADS, THREADS - 1);
    }
}

EXERCISE_TEST(bank, refused_withdrawal_leaves_the_account_usable, 15,
              "a withdrawal of more than the balance never returned")
{
    cr_assert_eq(account_init(&account, 10), 0, "account_init failed");
    int refused = account_withdraw(&account, 50);
    struct async_call next;
    async_start(&next, deposit_1, NULL);
    bool finished = async_wait(&next, 3.0);
    cr_assert(finished, "after a refused withdrawal, the next deposit waited "
              "5 s for the account's lock: the ERANGE path returned without "
              "unlocking. Unlock before every return");
    async_finish(&next);
    long balance = account_balance(&account);
    account_destroy(&account);
    cr_assert_eq(refused, ERANGE, "withdrawing 50 from a balance of 10 "
                 "returned %d, expected ERANGE (%d)", refused, ERANGE);
    cr_assert_eq(balance, 11, "10, a refused withdrawal, then a deposit of 1 "
                 "left the balance at %ld, expected 11", balance);
}

EXERCISE_TEST(bank, every_operation_waits_for_the_accounts_lock, 15,
              "an operation never returned after the test released "
              "account->lock")
{
    cr_assert_eq(account_init(&account, 100), 0, "account_init failed");
    struct async_call deposit, withdrawal, balance;
    pthread_mutex_lock(&account.lock);
    async_start(&deposit, deposit_1, NULL);
    async_start(&withdrawal, withdraw_1, NULL);
    async_start(&balance, read_balance, NULL);
    /* All three must wait while the test holds the lock. */
    bool deposit_early = async_wait(&deposit, 0.5);
    bool withdrawal_early = async_wait(&withdrawal, 0.01);
    bool balance_early = async_wait(&balance, 0.01);
    pthread_mutex_unlock(&account.lock);
    cr_assert_not(deposit_early, "account_deposit returned while another "
                  "thread held account->lock: it changed the balance without "
                  "the account's lock");
    cr_assert_not(withdrawal_early, "account_withdraw returned while another "
                  "thread held account->lock: it checked or changed the "
                  "balance without the account's lock");
    cr_assert_not(balance_early, "account_balance returned while another "
                  "thread held account->lock: read the balance under the "
                  "lock too");
    cr_assert(async_wait(&deposit, 5.0) && async_wait(&withdrawal, 5.0) &&
              async_wait(&balance, 5.0), "an operation never returned after "
              "the lock was released");
    async_finish(&deposit);
    async_finish(&withdrawal);
    async_finish(&balance);
    long final = account_balance(&account);
    account_destroy(&account);
    cr_assert_eq(final, 100, "100 + 1 - 1 left the balance at %ld", final);
}
