/*
 * Exercise 06: transfers that never deadlock, whatever pairs run at once.
 * Read README.md in this folder, then fix the TODOs in account_transfer.
 */
#include "accounts.h"

#include <errno.h>

int account_init(struct account *account, long opening_balance)
{
    if (opening_balance < 0)
        return EINVAL;
    account->balance = opening_balance;
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
    pthread_mutex_lock(&account->lock);
    int error = account->balance < amount ? ERANGE : 0;
    if (error == 0)
        account->balance -= amount;
    pthread_mutex_unlock(&account->lock);
    return error;
}

long account_balance(struct account *account)
{
    pthread_mutex_lock(&account->lock);
    long balance = account->balance;
    pthread_mutex_unlock(&account->lock);
    return balance;
}

int account_transfer(struct account *from, struct account *to, long amount)
{
    if (amount <= 0)
        return EINVAL;
    /* TODO: a transfer A->B locks A then waits for B; a transfer B->A at the
     * same moment locks B then waits for A: each waits for the other
     * forever.  Lock the two accounts in one fixed order, the same for
     * every transfer, whatever order the arguments come in. */
    /* TODO: when from == to, the second lock waits for the first forever
     * (the mutex is not recursive): lock the account once. */
    pthread_mutex_lock(&from->lock);
    pthread_mutex_lock(&to->lock);
    int error = from->balance < amount ? ERANGE : 0;
    if (error == 0) {
        from->balance -= amount;
        to->balance += amount;
    }
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
    return error;
}
