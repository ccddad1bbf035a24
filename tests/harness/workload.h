/*
 * Helpers for an exercise's workload: the plain program (its own main, no
 * Criterion) that ThreadSanitizer and helgrind run against the code under
 * test.  A workload drives the API hard from several threads, checks its
 * results with workload_check, and ends with workload_finished: the runner
 * only trusts a run that printed that line, so an early exit() cannot pass.
 */
#ifndef THREADLINGS_WORKLOAD_H
#define THREADLINGS_WORKLOAD_H

#include <stdbool.h>

/* True when running under valgrind, which runs one thread at a time and
 * about fifty times slower: use fewer rounds there. */
bool workload_under_valgrind(void);
/* `native` rounds normally, `under_valgrind` rounds under valgrind. */
int workload_rounds(int native, int under_valgrind);

/* Fails the workload with a message unless `ok`. */
void workload_check(bool ok, const char *format, ...)
    __attribute__((format(printf, 2, 3)));

/* The last call of main: proves the workload ran to its end. */
void workload_finished(void);

#endif
