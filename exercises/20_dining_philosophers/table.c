/*
 * Exercise 20: dining philosophers.  Read README.md in this folder, then
 * fix the TODOs.
 */
#include "table.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

/* Setting up and tearing down are done. */
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

void table_pick_up(struct table *table, int philosopher)
{
    int left = philosopher, right = (philosopher + 1) % table->size;
    /* TODO: everybody takes the left fork first.  If all philosophers get
     * hungry at once, each holds its left fork and waits for its right
     * one, which its neighbour holds: a circular wait, for ever.  Take
     * both forks at once (or none), and let a neighbour who has been
     * hungry longer (hungry_since) go first, so that nobody starves. */
    pthread_mutex_lock(&table->mutex);
    if (table->fork_holder[left] != -1) /* TODO: a wake-up can be spurious */
        pthread_cond_wait(&table->changed, &table->mutex);
    table->fork_holder[left] = philosopher;
    if (table->fork_hook != NULL) /* one fork held, waiting for the other */
        table->fork_hook(table, philosopher, table->hook_context);
    if (table->fork_holder[right] != -1)
        pthread_cond_wait(&table->changed, &table->mutex);
    table->fork_holder[right] = philosopher;
    pthread_mutex_unlock(&table->mutex);
}

void table_put_down(struct table *table, int philosopher)
{
    pthread_mutex_lock(&table->mutex);
    /* TODO: this wakes one sleeper; both neighbours may be waiting. */
    pthread_cond_signal(&table->changed);
    pthread_mutex_unlock(&table->mutex);
    /* TODO: the forks are put back after the mutex is released, while
     * hungry neighbours read them under it (and the wake-up came before
     * the forks were free). */
    table->fork_holder[philosopher] = -1;
    table->fork_holder[(philosopher + 1) % table->size] = -1;
}

void table_set_fork_hook(struct table *table, table_hook *hook,
                         void *context)
{
    pthread_mutex_lock(&table->mutex);
    table->fork_hook = hook;
    table->hook_context = context;
    pthread_mutex_unlock(&table->mutex);
}
