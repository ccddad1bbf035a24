/*
 * Exercise 05, solved: every access to the balance is under the account's
 * lock, and a withdrawal checks and updates in one critical section.
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
    pthread_mutex_lock(&account->lock);
    account->balance += amount;
    pthread_mutex_unlock(&account->lock);
    return 0;
}

int account_withdraw(struct account *account, long amount)
{
    if (amount <= 0)
        return EINVAL;
    /* The check stays true until the update only if no other thread can
     * change the balance in between: both happen under the same lock. */
    pthread_mutex_lock(&account->lock);
    if (account->balance < amount) {
        pthread_mutex_unlock(&account->lock);
        return ERANGE;
    }
    if (account->withdraw_hook != NULL)
        account->withdraw_hook(account, account->hook_context);
    account->balance -= amount;
    pthread_mutex_unlock(&account->lock);
    return 0;
}

long account_balance(struct account *account)
{
    pthread_mutex_lock(&account->lock);
    long balance = account->balance;
    pthread_mutex_unlock(&account->lock);
    return balance;
}

void account_set_withdraw_hook(struct account *account, account_hook *hook,
                               void *context)
{
    pthread_mutex_lock(&account->lock);
    account->withdraw_hook = hook;
    account->hook_context = context;
    pthread_mutex_unlock(&account->lock);
}
