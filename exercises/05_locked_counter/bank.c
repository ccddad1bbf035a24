/*
 * Exercise 05: make deposits and withdrawals safe when threads race.
 * Read README.md in this folder, then fix the TODOs here and in counter.c.
 */
#include "bank.h"

#include <errno.h>

int account_init(struct account *account, long opening_balance)
{
    if (opening_balance < 0)
        return EINVAL;
    account->balance = opening_balance;
    account->withdraw_hook = NULL;
    account->hook_context = NULL;
    return pthread_mutex_init(&account->lock, NULL);
}

void account_destroy(struct account *account)
{
    pthread_mutex_destroy(&account->lock);
}

int account_deposit(struct account *account, long amount)
{
    if (amount <= 0)
        return EINVAL;
    /* TODO: the same read-modify-write as the counter's: lock it. */
    account->balance += amount;
    return 0;
}

int account_withdraw(struct account *account, long amount)
{
    if (amount <= 0)
        return EINVAL;
    /* TODO: check-then-act.  Between this check and the update below,
     * another withdrawal can pass the same check, and the two together
     * overdraw the account.  Make the check and the update one critical
     * section, and unlock before every return. */
    if (account->balance < amount)
        return ERANGE;
    if (account->withdraw_hook != NULL)
        account->withdraw_hook(account, account->hook_context);
    account->balance -= amount;
    return 0;
}

long account_balance(struct account *account)
{
    /* TODO: read the balance under the lock. */
    return account->balance;
}

void account_set_withdraw_hook(struct account *account, account_hook *hook,
                               void *context)
{
    pthread_mutex_lock(&account->lock);
    account->withdraw_hook = hook;
    account->hook_context = context;
    pthread_mutex_unlock(&account->lock);
}
