/*
 * Exercise 06: accounts that threads move money between.
 */
#ifndef ACCOUNTS_H
#define ACCOUNTS_H

#include <pthread.h>

/*
 * An account shared by threads.  `lock` guards `balance`: each read and each
 * write of it happens while `lock` is held.  (The tests hold `lock`
 * themselves and expect the calls below to wait for it.)
 */
struct account {
    pthread_mutex_t lock;  /* a default mutex: not recursive */
    long balance;          /* never below 0 */
};

/* Opens the account with `opening_balance`.  Returns 0; EINVAL if
 * opening_balance < 0; or the error number pthread_mutex_init returned. */
int account_init(struct account *account, long opening_balance);

/* Destroys the lock.  No thread may use the account any more. */
void account_destroy(struct account *account);

/* Adds `amount` to the balance.  Returns 0, or EINVAL if amount <= 0. */
int account_deposit(struct account *account, long amount);

/* Takes `amount` out of the balance.  Returns 0; EINVAL if amount <= 0;
 * ERANGE if the balance is less than `amount` (nothing is taken). */
int account_withdraw(struct account *account, long amount);

/* The balance, read while holding the lock. */
long account_balance(struct account *account);

/*
 * Moves `amount` from `from` to `to` in one step: no other thread ever sees
 * the money in neither account or in both, so the total of all balances
 * changes only by deposits and withdrawals.
 *
 * Returns 0; EINVAL if amount <= 0; ERANGE if from's balance is less than
 * `amount` (then nothing moves).  `from` may equal `to`: the same rules
 * apply, and no balance changes.
 *
 * Any number of threads may transfer at the same time between any accounts,
 * in any direction, and no transfer ever waits forever.
 */
int account_transfer(struct account *from, struct account *to, long amount);

#endif
