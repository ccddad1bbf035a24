/*
 * Exercise 06, solved: a transfer holds both accounts' locks, always taken
 * in the same order, so that no two transfers can wait for each other.
 */
#include "accounts.h"

#include <errno.h>
#include <stdint.h>

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

/*
 * Every transfer takes the two locks in one global order, lower address
 * first.  A cycle of transfers each holding one lock and waiting for the
 * next would need some transfer to take a higher address before a lower
 * one, which none does.
 */
static void lock_in_address_order(struct account *a, struct account *b)
{
    if ((uintptr_t)b < (uintptr_t)a) {
        struct account *lower = b;
        b = a;
        a = lower;
    }
    pthread_mutex_lock(&a->lock);
    pthread_mutex_lock(&b->lock);
}

/* from == to: one lock, taken once (locking it twice would wait for
 * ourselves); only the funds are checked, nothing moves. */
static int transfer_to_itself(struct account *account, long amount)
{
    pthread_mutex_lock(&account->lock);
    int error = account->balance < amount ? ERANGE : 0;
    pthread_mutex_unlock(&account->lock);
    return error;
}

int account_transfer(struct account *from, struct account *to, long amount)
{
    if (amount <= 0)
        return EINVAL;
    if (from == to)
        return transfer_to_itself(from, amount);
    lock_in_address_order(from, to);
    int error = from->balance < amount ? ERANGE : 0;
    if (error == 0) {
        from->balance -= amount;
        to->balance += amount;
    }
    pthread_mutex_unlock(&to->lock);
    pthread_mutex_unlock(&from->lock);
    return error;
}
