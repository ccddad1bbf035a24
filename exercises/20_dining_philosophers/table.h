/*
 * Exercise 20: dining philosophers.  `size` philosophers sit around a
 * table with one fork between each two neighbours; a philosopher eats with
 * both the fork on its left and the one on its right.
 */
#ifndef TABLE_H
#define TABLE_H

#include <pthread.h>

struct table;

/* A test hook: see table_set_fork_hook. */
typedef void table_hook(struct table *table, int philosopher, void *context);

/*
 * Philosopher i's left fork is fork i, its right fork is fork (i + 1) %
 * size; its neighbours are i - 1 and i + 1 (around the table).
 * The fields are public only so that a table can live on the stack or
 * inside another struct: use the functions below, never the fields.
 */
struct table {
    pthread_mutex_t mutex;       /* guards every field below */
    pthread_cond_t changed;      /* hungry philosophers wait here */
    int size;                    /* philosophers, and forks */
    int *fork_holder;            /* the philosopher holding fork f, or -1 */
    unsigned long *hungry_since; /* ticket taken when philosopher i got
                                    hungry (1, 2, 3 ...); 0: not hungry */
    unsigned long next_ticket;
    table_hook *fork_hook;       /* NULL unless a test set one */
    void *hook_context;
};

/*
 * Lays a table for `philosophers` (2 or more), every fork on the table.
 * Returns 0; EINVAL for fewer than 2; ENOMEM; or the error number of the
 * pthread call that failed.  On error nothing is left to destroy.
 */
int table_init(struct table *table, int philosophers);

/* Frees what table_init made.  No thread may use the table any more. */
void table_destroy(struct table *table);

/*
 * Philosopher `philosopher` is hungry: returns once it holds both its
 * forks, and may eat.  Never deadlocks, whatever the others do; never
 * starves: while a philosopher waits, each neighbour starts at most one
 * meal (a neighbour who got hungry later waits for it).  A waiting
 * philosopher sleeps; it uses no CPU.
 */
void table_pick_up(struct table *table, int philosopher);

/* Philosopher `philosopher` has eaten: puts both its forks back and lets
 * the neighbours who wait for them go on. */
void table_put_down(struct table *table, int philosopher);

/*
 * For tests: table_pick_up calls hook(table, philosopher, context), with
 * the mutex held, whenever the philosopher holds one of its forks and
 * still waits for the other.  The hook may wait on the table's mutex (in
 * pthread_cond_wait of a condition variable of its own).  A solution that
 * takes both forks at once never calls it.  NULL removes the hook.
 */
void table_set_fork_hook(struct table *table, table_hook *hook,
                         void *context);

#endif
