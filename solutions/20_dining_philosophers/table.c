/*
 * Exercise 20, solved: the table's mutex is the waiter.  A philosopher
 * takes both forks at once or none (no one ever holds one fork and waits
 * for the other, so no circular wait can form), and lets a neighbour who
 * got hungry earlier go first (so nobody starves: Chandy-Misra's rule,
 * "whoever waited longer gets the shared fork", in its simplest form).
 */
#include "table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

int table_init(struct table *table, int philosophers)
{
    if (philosophers < 2)
        return EINVAL;
    table->fork_holder = malloc((size_t)philosophers * sizeof *table->fork_holder);
    table->hungry_since = calloc((size_t)philosophers,
                                 sizeof *table->hungry_since);
    int error = ENOMEM;
    if (table->fork_holder == NULL || table->hungry_since == NULL)
        goto no_memory;
    error = pthread_mutex_init(&table->mutex, NULL);
    if (error != 0)
        goto no_memory;
    error = pthread_cond_init(&table->changed, NULL);
    if (error != 0) {
        pthread_mutex_destroy(&table->mutex);
        goto no_memory;
    }
    for (int fork = 0; fork < philosophers; fork++)
        table->fork_holder[fork] = -1;
    table->size = philosophers;
    table->next_ticket = 1;
    table->fork_hook = NULL;
    table->hook_context = NULL;
    return 0;

no_memory:
    free(table->fork_holder);
    free(table->hungry_since);
    return error;
}

void table_destroy(struct table *table)
{
    pthread_cond_destroy(&table->changed);
    pthread_mutex_destroy(&table->mutex);
    free(table->fork_holder);
    free(table->hungry_since);
}

static int left_fork(struct table *table, int i) { (void)table; return i; }
static int right_fork(struct table *table, int i) { return (i + 1) % table->size; }

/* Whether neighbour n has been hungry since before philosopher i. */
static bool waited_longer(struct table *table, int n, int i)
{
    return table->hungry_since[n] != 0 &&
           table->hungry_since[n] < table->hungry_since[i];
}

/* With the mutex held: both forks free, and no neighbour waited longer. */
static bool can_eat(struct table *table, int i)
{
    int left = (i + table->size - 1) % table->size;
    int right = (i + 1) % table->size;
    return table->fork_holder[left_fork(table, i)] == -1 &&
           table->fork_holder[right_fork(table, i)] == -1 &&
           !waited_longer(table, left, i) && !waited_longer(table, right, i);
}

void table_pick_up(struct table *table, int philosopher)
{
    pthread_mutex_lock(&table->mutex);
    table->hungry_since[philosopher] = table->next_ticket++;
    /* while, not if: a wake-up may be spurious, or a neighbour may have
     * taken a fork first. */
    while (!can_eat(table, philosopher))
        pthread_cond_wait(&table->changed, &table->mutex);
    table->fork_holder[left_fork(table, philosopher)] = philosopher;
    table->fork_holder[right_fork(table, philosopher)] = philosopher;
    table->hungry_since[philosopher] = 0;
    pthread_mutex_unlock(&table->mutex);
}

void table_put_down(struct table *table, int philosopher)
{
    pthread_mutex_lock(&table->mutex);
    table->fork_holder[left_fork(table, philosopher)] = -1;
    table->fork_holder[right_fork(table, philosopher)] = -1;
    /* Both neighbours may now eat, and each sleeps on the same condition
     * variable as everybody else: wake them all, each re-checks. */
    pthread_cond_broadcast(&table->changed);
    pthread_mutex_unlock(&table->mutex);
}

void table_set_fork_hook(struct table *table, table_hook *hook,
                         void *context)
{
    pthread_mutex_lock(&table->mutex);
    table->fork_hook = hook;
    table->hook_context = context;
    pthread_mutex_unlock(&table->mutex);
}
