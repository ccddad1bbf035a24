/* Tests for exercise 06: transfers keep the total and never deadlock. */
#include "harness.h"
#include "accounts.h"

#include <errno.h>

#define DEADLOCK_MESSAGE                                                     \
    "deadlock: transfers between the same accounts in opposite directions "  \
    "never finished - lock the two accounts in a fixed order"

static struct account accounts[4];
static struct gate start_line;

static void open_accounts(int count, const long *balances)
{
    for (int i = 0; i < count; i++)
        cr_assert_eq(account_init(&accounts[i], balances[i]), 0,
                     "account_init(%ld) failed", balances[i]);
}

static void close_accounts(int count)
{
    for (int i = 0; i < count; i++)
        account_destroy(&accounts[i]);
}

/* One call of the API, run in its own thread by async_start. */
struct call {
    struct account *from;
    struct account *to;
    long amount;
    long result;
};

static void *call_transfer(void *raw)
{
    struct call *call = raw;
    call->result = account_transfer(call->from, call->to, call->amount);
    return NULL;
}

static void *call_deposit(void *raw)
{
    struct call *call = raw;
    call->result = account_deposit(call->to, call->amount);
    return NULL;
}

static void *call_balance(void *raw)
{
    struct call *call = raw;
    call->result = account_balance(call->from);
    return NULL;
}

EXERCISE_TEST(accounts, deposit_withdraw_and_transfer_follow_the_contract, 10,
              "an operation never returned: is every lock unlocked on every "
              "return path?")
{
    struct account bad;
    cr_assert_eq(account_init(&bad, -1), EINVAL, "account_init with a "
                 "negative opening balance must return EINVAL");
    open_accounts(2, (long[]){100, 0});
    struct account *a = &accounts[0], *b = &accounts[1];
    cr_assert_eq(account_deposit(a, 0), EINVAL, "a deposit of 0 must return "
                 "EINVAL");
    cr_assert_eq(account_withdraw(a, -1), EINVAL, "a withdrawal of -1 must "
                 "return EINVAL");
    cr_assert_eq(account_transfer(a, b, 0), EINVAL, "a transfer of 0 must "
                 "return EINVAL");
    cr_assert_eq(account_transfer(a, b, -5), EINVAL, "a transfer of -5 must "
                 "return EINVAL");
    cr_assert_eq(account_transfer(a, b, 30), 0, "a transfer of 30 from a "
                 "balance of 100 failed");
    cr_assert_eq(account_transfer(b, a, 30), 0, "a transfer of the whole "
                 "balance (30) must succeed");
    cr_assert_eq(account_transfer(a, b, 100), 0, "a transfer of the whole "
                 "balance (100) must succeed");
    long a_balance = account_balance(a), b_balance = account_balance(b);
    close_accounts(2);
    cr_assert(a_balance == 0 && b_balance == 100, "after transfers of 30, 30 "
              "back and 100 the balances are %ld and %ld, expected 0 and 100",
              a_balance, b_balance);
}

EXERCISE_TEST(accounts, refused_transfer_moves_nothing_and_unlocks_both, 15,
              "a transfer of more than the balance never returned")
{
    open_accounts(2, (long[]){10, 5});
    struct call refused = {&accounts[0], &accounts[1], 50, -1};
    call_transfer(&refused);
    /* Deposits into both accounts, from another thread, with a deadline. */
    struct call into_from = {NULL, &accounts[0], 1, -1};
    struct call into_to = {NULL, &accounts[1], 1, -1};
    struct async_call first, second;
    async_start(&first, call_deposit, &into_from);
    async_start(&second, call_deposit, &into_to);
    bool first_done = async_wait(&first, 3.0);
    bool second_done = async_wait(&second, 1.0);
    cr_assert(first_done && second_done, "after a refused transfer, a deposit "
              "into the %s account waited 3 s for its lock: the ERANGE path "
              "returned without unlocking; unlock both before every return",
              first_done ? "receiving" : "paying");
    async_finish(&first);
    async_finish(&second);
    long from = account_balance(&accounts[0]), to = account_balance(&accounts[1]);
    close_accounts(2);
    cr_assert_eq(refused.result, ERANGE, "a transfer of 50 from a balance of "
                 "10 returned %ld, expected ERANGE (%d)", refused.result,
                 ERANGE);
    cr_assert(from == 11 && to == 6, "a refused transfer, then a deposit of 1 "
              "into each, left the balances at %ld and %ld, expected 11 and 6: "
              "a refused transfer must move nothing", from, to);
}

EXERCISE_TEST(accounts, transfer_to_itself_does_not_deadlock, 15,
              "a transfer from an account to itself never returned: when "
              "from == to, lock the account once")
{
    open_accounts(1, (long[]){100});
    struct call covered = {&accounts[0], &accounts[0], 60, -1};
    struct call too_much = {&accounts[0], &accounts[0], 500, -1};
    struct async_call first, second;
    /* Waits of 9 s, more than the kit's hang watcher needs: a transfer
     * that waits for itself (1 s) or retries for ever (3 s) is stopped by
     * it, with its line named, before this test gives up. */
    async_start(&first, call_transfer, &covered);
    cr_assert(async_wait(&first, 9.0), "account_transfer(a, a, 60) never "
              "returned: from and to are one account with one mutex, which "
              "it already held after its first lock; locking it again (a "
              "default mutex is not recursive) or waiting for it to come "
              "free waits for itself forever. When from == to, lock the "
              "account once");
    async_finish(&first);
    async_start(&second, call_transfer, &too_much);
    cr_assert(async_wait(&second, 9.0), "account_transfer(a, a, 500) never "
              "returned: is the lock unlocked on the ERANGE path?");
    async_finish(&second);
    long balance = account_balance(&accounts[0]);
    close_accounts(1);
    cr_assert_eq(covered.result, 0, "a transfer of 60 from an account with "
                 "100 to itself returned %ld, expected 0", covered.result);
    cr_assert_eq(too_much.result, ERANGE, "a transfer of 500 from an account "
                 "with 100 to itself returned %ld, expected ERANGE (%d)",
                 too_much.result, ERANGE);
    cr_assert_eq(balance, 100, "transfers from an account to itself changed "
                 "its balance from 100 to %ld", balance);
}

EXERCISE_TEST(accounts, transfer_waits_for_both_accounts_locks, 15,
              "a transfer never returned after the test released the lock")
{
    open_accounts(3, (long[]){100, 0, 50});
    struct account *a = &accounts[0], *b = &accounts[1], *c = &accounts[2];
    struct call out_of_a = {a, b, 10, -1}, into_a = {c, a, 20, -1};
    struct async_call paying, receiving;
    pthread_mutex_lock(&a->lock);
    async_start(&paying, call_transfer, &out_of_a);
    async_start(&receiving, call_transfer, &into_a);
    /* Both transfers touch a, whose lock the test holds: both must wait. */
    bool paying_early = async_wait(&paying, 0.5);
    bool receiving_early = async_wait(&receiving, 0.01);
    pthread_mutex_unlock(&a->lock);
    cr_assert_not(paying_early, "account_transfer(a, b) returned while another "
                  "thread held a's lock: lock the paying account too");
    cr_assert_not(receiving_early, "account_transfer(c, a) returned while "
                  "another thread held a's lock: lock the receiving account "
                  "too");
    cr_assert(async_wait(&paying, 5.0) && async_wait(&receiving, 5.0),
              "a transfer never returned after the lock was released");
    async_finish(&paying);
    async_finish(&receiving);
    long balances[3] = {account_balance(a), account_balance(b),
                        account_balance(c)};
    close_accounts(3);
    cr_assert(balances[0] == 110 && balances[1] == 10 && balances[2] == 30,
              "after a->b 10 and c->a 20 the balances are %ld, %ld, %ld; "
              "expected 110, 10, 30", balances[0], balances[1], balances[2]);
}

EXERCISE_TEST(accounts, money_in_transit_is_never_visible, 15,
              "a transfer or a balance never returned after the test "
              "released the lock")
{
    open_accounts(2, (long[]){0, 50});
    struct account *a = &accounts[0], *c = &accounts[1];
    struct call into_a = {c, a, 20, -1}, read_c = {c, NULL, 0, -1};
    struct async_call transfer, read;
    /* The transfer c->a must wait for a's lock, which the test holds.  In
     * the meantime c must still show 50, or wait: showing 30 means the 20
     * left c while a had not got it, and the total was 20 short. */
    pthread_mutex_lock(&a->lock);
    async_start(&transfer, call_transfer, &into_a);
    bool transfer_early = async_wait(&transfer, 0.5);
    async_start(&read, call_balance, &read_c);
    bool read_while_held = async_wait(&read, 1.0);
    pthread_mutex_unlock(&a->lock);
    cr_assert_not(transfer_early, "account_transfer(c, a) returned while "
                  "another thread held a's lock: lock both accounts");
    cr_assert(!read_while_held || read_c.result == 50, "while a transfer of 20 "
              "from c (50) to a waited for a's lock, c already showed %ld: the "
              "money had left c but not reached a. Hold both locks for the "
              "whole transfer (a withdraw followed by a deposit is two steps)",
              read_c.result);
    cr_assert(async_wait(&transfer, 5.0) && async_wait(&read, 5.0),
              "a transfer or a balance never returned after the lock was "
              "released");
    async_finish(&transfer);
    async_finish(&read);
    close_accounts(2);
}

EXERCISE_TEST(accounts, transfer_checked_and_moved_under_one_lock, 15,
              "a transfer never returned while another transfer from the same "
              "account was held after an unlock")
{
    open_accounts(3, (long[]){10, 0, 0});
    struct account *a = &accounts[0], *b = &accounts[1], *c = &accounts[2];
    struct call held_transfer = {a, b, 10, -1}, racing = {a, c, 10, -1};
    struct async_call first;
    /* The first transfer is held right after it first unlocks a's lock,
     * and the test transfers the same 10 out of a meanwhile.  A transfer
     * that checked the balance in one lock region and moves the money in
     * another has checked, and will now move money a no longer has. */
    harness_hold_next_unlock(&a->lock, 5.0);
    async_start(&first, call_transfer, &held_transfer);
    bool held = harness_wait_until_held(1, 5.0);
    call_transfer(&racing);
    harness_release_held();
    bool returned = async_wait(&first, 5.0);
    long balances[3] = {account_balance(a), account_balance(b),
                        account_balance(c)};
    if (returned)
        async_finish(&first);
    cr_assert(held, "account_transfer(a, b, 10) never unlocked a's lock");
    cr_assert(returned, "account_transfer(a, b, 10) never returned");
    close_accounts(3);
    cr_assert(balances[0] >= 0, "two transfers of 10 out of an account of 10 "
              "left it at %ld (%ld and %ld in the others): a transfer checked "
              "the balance, unlocked, and moved the money under a second "
              "lock, when another transfer had already taken it. Check and "
              "move under the same locks, in one critical section",
              balances[0], balances[1], balances[2]);
    cr_assert(held_transfer.result + racing.result == ERANGE &&
              balances[1] + balances[2] == 10,
              "two transfers of 10 out of an account of 10 returned %ld and "
              "%ld and left %ld, %ld, %ld: exactly one may succeed",
              held_transfer.result, racing.result, balances[0], balances[1],
              balances[2]);
}

/* Moves 1 from `from` to `to` `rounds` times, starting at the gate. */
struct mover {
    struct account *from;
    struct account *to;
    long rounds;
    long unexpected_errors;
};

static _Thread_local bool is_mover;

static bool a_mover(void) { return is_mover; }

static void *move_repeatedly(void *raw)
{
    struct mover *mover = raw;
    gate_wait(&start_line, 10.0);
    is_mover = true;
    for (long i = 0; i < mover->rounds; i++) {
        int result = account_transfer(mover->from, mover->to, 1);
        mover->unexpected_errors += result != 0 && result != ERANGE;
    }
    return NULL;
}

EXERCISE_TEST(accounts, opposite_transfers_never_deadlock, 20, DEADLOCK_MESSAGE)
{
    enum { ROUNDS = 20000 };
    /* Enough money that no transfer is ever refused: a hang here can only
     * be two transfers waiting for each other. */
    open_accounts(2, (long[]){ROUNDS, ROUNDS});
    struct account *a = &accounts[0], *b = &accounts[1];
    struct mover there = {a, b, ROUNDS, 0}, back = {b, a, ROUNDS, 0};
    struct async_call moving_there, moving_back;
    gate_init(&start_line);
    /* Each mover is held right after its first lock.  Transfers that lock
     * in argument order then hold a and b, one each, and wait for each
     * other: a deadlock on every run, not only when the scheduler happens
     * to switch at the wrong moment.  In one fixed order, the second mover
     * waits for the first lock and only one is ever held. */
    harness_hold_locks(NULL, 2, a_mover, 5.0);
    async_start(&moving_there, move_repeatedly, &there);
    async_start(&moving_back, move_repeatedly, &back);
    gate_open(&start_line);
    harness_wait_until_held(2, 1.0);
    harness_release_held();
    /* 10 s: long enough for the kit's hang watcher to see both movers
     * blocked (it ignores waits that end within 5 s) and name their line. */
    bool there_done = async_wait(&moving_there, 10.0);
    bool back_done = async_wait(&moving_back, 1.0);
    cr_assert(there_done && back_done, DEADLOCK_MESSAGE);
    async_finish(&moving_there);
    async_finish(&moving_back);
    long total = account_balance(a) + account_balance(b);
    close_accounts(2);
    cr_assert_eq(there.unexpected_errors + back.unexpected_errors, 0,
                 "transfers of 1 returned errors other than 0 and ERANGE");
    cr_assert_eq(total, 2 * ROUNDS, "transfers between two accounts holding "
                 "%d each changed their total to %ld: hold both locks for the "
                 "whole transfer", ROUNDS, total);
}

/* Random operations among all accounts, with the net deposits counted. */
struct trader {
    unsigned seed;
    long operations;
    long deposited;
    long withdrawn;
    long unexpected_errors;
};

static unsigned next_random(unsigned *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 17;
    *state ^= *state << 5;
    return *state;
}

static void *trade_randomly(void *raw)
{
    struct trader *trader = raw;
    gate_wait(&start_line, 10.0);
    for (long i = 0; i < trader->operations; i++) {
        unsigned pick = next_random(&trader->seed);
        /* Money moves only from a lower to a higher account: transfers in
         * opposite directions may or may not deadlock a wrong solution on
         * a given run, and a test must fail it every run or never, so
         * opposite_transfers_never_deadlock (and the lock-order checks of
         * tsan and helgrind) prove that part. */
        int first = (int)(pick % 4);
        int second = (int)((pick / 4 % 3 + 1 + pick % 4) % 4);
        struct account *from = &accounts[first < second ? first : second];
        struct account *to = &accounts[first < second ? second : first];
        long amount = (long)(pick / 16 % 40) + 1;
        int result;
        if (pick / 1024 % 10 == 0) {
            result = account_deposit(to, amount);
            trader->deposited += result == 0 ? amount : 0;
        } else if (pick / 1024 % 10 == 1) {
            result = account_withdraw(from, amount);
            trader->withdrawn += result == 0 ? amount : 0;
        } else {
            result = account_transfer(from, to, amount);
        }
        trader->unexpected_errors += result != 0 && result != ERANGE;
    }
    return NULL;
}

#define STUCK_TRADERS_MESSAGE                                                \
    DEADLOCK_MESSAGE ", and unlock both before every return (ERANGE too)"

EXERCISE_TEST(accounts, random_transfers_keep_the_total, 20,
              STUCK_TRADERS_MESSAGE)
{
    enum { TRADERS = 4 };
    open_accounts(4, (long[]){100, 100, 100, 100});
    struct trader traders[TRADERS];
    struct async_call calls[TRADERS];
    gate_init(&start_line);
    for (int i = 0; i < TRADERS; i++) {
        traders[i] = (struct trader){2463534242u + 7919u * (unsigned)i, 20000,
                                     0, 0, 0};
        async_start(&calls[i], trade_randomly, &traders[i]);
    }
    gate_open(&start_line);
    /* 8 s: long enough for the kit's hang watcher (it ignores waits that
     * end within 5 s) to see stuck traders and name their line, and within
     * the test's time limit. */
    double give_up = now_seconds() + 8.0;
    bool all_done = true;
    for (int i = 0; i < TRADERS; i++) {
        double left = give_up - now_seconds();
        all_done = async_wait(&calls[i], left > 0 ? left : 0) && all_done;
    }
    cr_assert(all_done, STUCK_TRADERS_MESSAGE);
    long expected = 400, total = 0, unexpected = 0, lowest = 0;
    for (int i = 0; i < TRADERS; i++) {
        async_finish(&calls[i]);
        expected += traders[i].deposited - traders[i].withdrawn;
        unexpected += traders[i].unexpected_errors;
    }
    for (int i = 0; i < 4; i++) {
        long balance = account_balance(&accounts[i]);
        total += balance;
        lowest = balance < lowest ? balance : lowest;
    }
    close_accounts(4);
    cr_assert_eq(unexpected, 0, "%ld operations returned errors other than 0 "
                 "and ERANGE", unexpected);
    cr_assert_geq(lowest, 0, "a balance ended at %ld: check the balance and "
                  "move the money under the same locks", lowest);
    cr_assert_eq(total, expected, "after random transfers among 4 accounts "
                 "the total is %ld, expected %ld (opening balances plus "
                 "deposits minus withdrawals): hold both locks for the whole "
                 "transfer", total, expected);
}
