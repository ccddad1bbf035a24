/*
 * Freezing threads: the test sends a thread a signal whose handler holds it
 * until the test thaws it.  A frozen thread can neither take a mutex nor
 * consume an item or a wake-up, so the test can make several calls in a
 * row that the thread only reacts to afterwards: the interleaving that
 * exposes a lost wake-up then happens on every run, not by chance.  A
 * thread frozen while asleep in pthread_cond_wait is still one of the
 * condition variable's waiters, and carries on waiting once thawed.
 */
#ifndef SUPPORT_FREEZE_H
#define SUPPORT_FREEZE_H

#include <pthread.h>
#include <stdbool.h>

/* Freezes `count` threads; false unless all are frozen within `seconds`. */
bool freeze_threads(const pthread_t *threads, int count, double seconds);

/* Lets `count` frozen threads go on. */
void thaw_threads(int count);

#endif
