/*
 * Exercise 14: map a function over inputs in nprocs child processes.
 * Read README.md in this folder, then fix the TODOs.
 */
#include "process_pool.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int process_map(pool_function function, const uint64_t *inputs, size_t count,
                uint64_t *outputs, int *statuses, int nprocs)
{
    /* TODO: check the arguments (EINVAL), see process_pool.h. */
    (void)nprocs;

    /* TODO: this computes every input in the caller's own process, one after
     * another: nothing runs in parallel, the function's writes land in the
     * caller's memory, and a function that crashes takes the caller with it.
     * Instead, for each of min(nprocs, count) children:
     *   - make a pipe, fork; the child computes its block of inputs, writes
     *     each result to the pipe and ends with _exit(0) (never exit, never
     *     return);
     *   - the parent closes the write end at once.
     * Start every child first; then, child by child, read its whole block of
     * results (a read may return less than asked), close the pipe, waitpid
     * that child, and set the block's statuses to 0 or EIO. */
    for (size_t i = 0; i < count; i++) {
        outputs[i] = function(inputs[i]);
        statuses[i] = 0;
    }
    return 0;
}
