/*
 * Exercise 01: start several threads, then wait for all of them.
 */
#ifndef START_JOIN_H
#define START_JOIN_H

#include <stddef.h>

/*
 * Runs task(argument) in `count` new threads that all run at the same time,
 * and returns only when every one of them has finished.
 *
 * Returns 0 on success.  If a thread cannot be created, returns the error
 * number pthread_create gave (for example EAGAIN) after waiting for the
 * threads already started: no thread is left running either way.
 * `count` may be 0 (nothing runs).
 */
int run_concurrently(size_t count, void *(*task)(void *), void *argument);

#endif
