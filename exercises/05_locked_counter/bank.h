/*
 * Exercise 05, part 2: a bank account that many threads use at once.
 */
#ifndef BANK_H
#define BANK_H

#include <pthread.h>

struct account;

/* A test hook: see account_set_withdraw_hook. */
typedef void account_hook(struct account *account, void *context);

/*
 * An account shared by threads.  `lock` guards every other field: each read
 * and each write of them happens while `lock` is held.  (The tests hold
 * `lock` themselves and expect the calls below to wait for it.)
 */
struct account {
    pthread_mutex_t lock;
    long balance;                 /* never below 0 */
    account_hook *withdraw_hook;  /* NULL unless a test set one */
    void *hook_context;
};

/* Opens the account with `opening_balance` and no hook.  Returns 0; EINVAL
 * if opening_balance < 0; or the error number pthread_mutex_init returned. */
int account_init(struct account *account, long opening_balance);

/* Destroys the lock.  No thread may use the account any more. */
void account_destroy(struct account *account);

/* Adds `amount` to the balance.  Returns 0, or EINVAL if amount <= 0. */
int account_deposit(struct account *account, long amount);

/*
 * Takes `amount` out of the balance, only if the balance covers it.
 * Returns 0; EINVAL if amount <= 0; ERANGE if the balance is less than
 * `amount` (then nothing is taken).  However many threads withdraw at once,
 * the balance never goes below 0.
 */
int account_withdraw(struct account *account, long amount);

/* The balance, read while holding the lock. */
long account_balance(struct account *account);

/*
 * For tests: makes account_withdraw call hook(account, context) after it has
 * found that the balance covers the amount and before it takes the amount
 * out.  A test uses the hook to start a second withdrawal at exactly that
 * moment.  Call it before any thread uses the account; NULL removes it.
 */
void account_set_withdraw_hook(struct account *account, account_hook *hook,
                               void *context);

#endif
