/*
 * Workload for exercise 14, for ThreadSanitizer and helgrind: two threads
 * call process_map at the same time, over and over.  A correct process_map
 * keeps all its state on its own stack and heap and reaps only its own
 * children; one that keeps a static table of children, or waits for any
 * child, mixes up the two callers' children and results.  The function
 * also notes when it runs in the workload's own process: process_map must
 * run it in children, and one that does not has not done the exercise.
 */
#include "process_pool.h"
#include "workload.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <unistd.h>

enum { INPUTS = 24, CALLERS = 2 };

static pid_t workload_pid;
static atomic_int calls_in_workload_process;

static uint64_t expected_output(uint64_t x) { return x * x + 11; }

/* The function process_map runs. */
static uint64_t square_plus(uint64_t x)
{
    if (getpid() == workload_pid)
        atomic_fetch_add(&calls_in_workload_process, 1);
    return expected_output(x);
}

static void *call_process_map(void *raw)
{
    const uint64_t offset = *(const uint64_t *)raw;
    uint64_t inputs[INPUTS], outputs[INPUTS];
    int statuses[INPUTS];
    const int rounds = workload_rounds(40, 3);
    for (int round = 0; round < rounds; round++) {
        for (int i = 0; i < INPUTS; i++) {
            inputs[i] = offset + (uint64_t)(round * INPUTS + i);
            outputs[i] = 0;
            statuses[i] = -1;
        }
        int nprocs = 2 + round % 3;
        int error = process_map(square_plus, inputs, INPUTS, outputs,
                                statuses, nprocs);
        workload_check(error == 0, "process_map returned %d", error);
        workload_check(atomic_load(&calls_in_workload_process) == 0,
                       "process_map ran the function %d times in the "
                       "calling process: run it in child processes made "
                       "with fork", atomic_load(&calls_in_workload_process));
        for (int i = 0; i < INPUTS; i++)
            workload_check(statuses[i] == 0 &&
                           outputs[i] == expected_output(inputs[i]),
                           "round %d, input %d: status %d, output %llu, "
                           "expected status 0 and %llu", round, i,
                           statuses[i], (unsigned long long)outputs[i],
                           (unsigned long long)expected_output(inputs[i]));
    }
    return NULL;
}

int main(void)
{
    pthread_t callers[CALLERS];
    uint64_t offsets[CALLERS];
    workload_pid = getpid();
    for (int c = 0; c < CALLERS; c++) {
        offsets[c] = (uint64_t)c * 1000000u;
        pthread_create(&callers[c], NULL, call_process_map, &offsets[c]);
    }
    for (int c = 0; c < CALLERS; c++)
        pthread_join(callers[c], NULL);
    workload_finished();
    return 0;
}
