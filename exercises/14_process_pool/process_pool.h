/*
 * Exercise 14: a process pool.  Map a function over inputs in child
 * processes made with fork, and collect the results through pipes.
 */
#ifndef PROCESS_POOL_H
#define PROCESS_POOL_H

#include <stddef.h>
#include <stdint.h>

/* The function to map: one input, one result.  It runs in a child process,
 * so whatever it writes to memory stays in that child. */
typedef uint64_t (*pool_function)(uint64_t input);

/*
 * Computes outputs[i] = function(inputs[i]) for i in [0, count) in at most
 * `nprocs` child processes that run at the same time, and returns when
 * every child has ended and been waited for.
 *
 * The inputs are split into contiguous blocks, one per child: with
 * p = min(nprocs, count) children, child k computes the inputs with index
 * k*count/p up to, not including, (k+1)*count/p, in that order, and
 * sends their results to the parent through a pipe.  outputs[] is in input
 * order whatever order the children finish in.
 *
 * statuses[i] is 0 when outputs[i] holds function(inputs[i]).  It is EIO
 * for every input of a child that did not deliver all of its results and
 * then exit with status 0 (the function crashed, was killed, or ended the
 * child early); the other children's results are unaffected.
 *
 * When it returns, no child of this call is left running or unreaped
 * (a zombie), and every descriptor it opened is closed.  It reaps only its
 * own children, so it may run in several threads at once.
 *
 * Returns 0 (even when some children failed: see statuses), EINVAL if
 * nprocs < 1 or a pointer is NULL while count > 0, or the error number of
 * a failed pipe() or fork() (for example EMFILE, EAGAIN); then the children
 * already started have been stopped and reaped, and outputs and statuses
 * are unspecified.  count == 0 starts no child and returns 0.
 */
int process_map(pool_function function, const uint64_t *inputs, size_t count,
                uint64_t *outputs, int *statuses, int nprocs);

#endif
