/*
 * Exercise 11: data that belongs to one thread.
 *
 * Part 1, a counter per thread (_Thread_local): every thread that calls
 * these functions has a counter of its own, and never sees another's.
 *
 * Part 2, a context per thread (a pthread key): every thread can store one
 * value, and when a thread that stored one ends, the value is released.
 */
#ifndef THREAD_LOCAL_H
#define THREAD_LOCAL_H

/* Adds `amount` to the calling thread's counter.  Every thread's counter
 * starts at 0. */
void local_counter_add(long amount);

/* The calling thread's counter: the sum of the amounts this thread added,
 * whatever other threads added to theirs. */
long local_counter_value(void);

/* What a thread's context is released with: release(value). */
typedef void (*context_release)(void *value);

/*
 * Stores `value` as the calling thread's context, to be released with
 * release(value) when the thread ends (it returns from its start function
 * or calls pthread_exit).  release may be NULL: nothing is called then.
 *
 * Setting a context again replaces the old one, and the old value is
 * released at once, with the release function it was stored with.  Every
 * value stored is released exactly once, in the thread that stored it; a
 * thread that never stored a context releases nothing.  (The process's
 * main thread is an exception: when it returns from main or calls exit(),
 * its context is not released.)
 *
 * The first call in the process, from whichever thread, sets up what the
 * contexts need, exactly once, even when many threads call it at the same
 * time.
 *
 * Returns 0, EINVAL if value is NULL (nothing is stored), or the error
 * number of a failed set-up or allocation (EAGAIN, ENOMEM).
 */
int context_set(void *value, context_release release);

/* The calling thread's context, or NULL if this thread has not set one. */
void *context_get(void);

#endif
