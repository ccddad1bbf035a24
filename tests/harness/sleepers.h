/*
 * Which threads are asleep on a given object?  A test that wants to prove
 * that a waiter is really blocked inside pthread_cond_wait (and not about to
 * call it, or spinning) asks the kernel: /proc/self/task/TID/syscall shows
 * a sleeping thread's system call and its arguments, and glibc's condition
 * variables sleep in futex() on an address inside the pthread_cond_t.
 * This turns "wait a while and hope the waiters got there" into a fact.
 */
#ifndef THREADLINGS_SLEEPERS_H
#define THREADLINGS_SLEEPERS_H

#include <stdbool.h>
#include <stddef.h>

/* How many threads of this process are asleep in a futex wait on an address
 * inside [object, object + size); -1 if /proc cannot tell on this system
 * (the first call checks that it can, with a thread of its own asleep on a
 * condition variable: that takes a few milliseconds). */
int threads_asleep_on(const void *object, size_t size);

/* The CPU time the other threads of this process have used so far (the
 * calling thread's own left out).  Threads on their way into a condition
 * wait use microseconds of it; threads that poll instead use a core each.
 * A test that waits for sleepers stops waiting once the others have used
 * POLLING_CPU_SECONDS since it began: they poll and will never sleep, and
 * saying so at once spares the student (and the grader's CPU) the rest of
 * the wait. */
double others_cpu_seconds(void);
#define POLLING_CPU_SECONDS 0.5

/* Waits (at most `seconds`) until `count` threads sleep on an address inside
 * [object, object + size), and returns how many do.  Stops early when
 * `returned(context)` says that a call the test expects to block has
 * returned (a failure the test names itself; NULL: no such call), or once
 * the other threads have used POLLING_CPU_SECONDS since it began.  Where
 * /proc cannot tell (-1), it gives them half a second instead. */
int wait_until_asleep_on(const void *object, size_t size, int count,
                         double seconds, bool (*returned)(const void *context),
                         const void *context);

#endif
