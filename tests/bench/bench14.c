/*
 * Exercises 14 and 13 side by side, from the student's own process_map
 * and parallel_sum: the same CPU-bound work (primes by trial division,
 * primes.h) on 1..nproc child processes and on as many threads, as
 * speed-up over the work done serially.  In C both scale with the cores
 * (no interpreter lock); processes pay for fork and pipes, threads share
 * memory.  In Python only the processes would scale (the tutorials'
 * factorials).
 */
#include "bench.h"
#include "parallel_sum.h"
#include "primes.h"
#include "process_pool.h"

#include <math.h>
#include <unistd.h>

/* Each input is a block of positions of the scrambled order. */
#define BLOCKS 64
#define BLOCK_SIZE (PRIME_LIMIT / BLOCKS)
#define REPEATS 3 /* per round; the best counts */

static uint64_t primes_in_block(uint64_t block)
{
    uint64_t primes = 0;
    for (int64_t i = 0; i < BLOCK_SIZE; i++)
        primes += is_prime(scrambled_value((int64_t)block * BLOCK_SIZE + i));
    return primes;
}

static int64_t primes_in_blocks(const int64_t *blocks, size_t count,
                                void *context)
{
    (void)context;
    int64_t primes = 0;
    for (size_t i = 0; i < count; i++)
        primes += (int64_t)primes_in_block((uint64_t)blocks[i]);
    return primes;
}

static void check(int64_t primes, const char *who)
{
    if (primes != PRIMES_BELOW_LIMIT) {
        fprintf(stderr, "%s counted %lld primes below %d, expected %d\n", who,
                (long long)primes, PRIME_LIMIT, PRIMES_BELOW_LIMIT);
        exit(1);
    }
}

static double serial(const int64_t *blocks)
{
    double started = bench_now();
    check(primes_in_blocks(blocks, BLOCKS, NULL), "serial");
    return bench_now() - started;
}

static double in_processes(const uint64_t *inputs, int processes)
{
    uint64_t outputs[BLOCKS];
    int statuses[BLOCKS];
    double started = bench_now();
    if (process_map(primes_in_block, inputs, BLOCKS, outputs, statuses,
                    processes) != 0)
        bench_fail("process_map returned an error");
    double seconds = bench_now() - started;
    int64_t primes = 0;
    for (int i = 0; i < BLOCKS; i++) {
        if (statuses[i] != 0)
            bench_fail("process_map: a child failed (status not 0)");
        primes += (int64_t)outputs[i];
    }
    check(primes, "process_map");
    return seconds;
}

static double in_threads(const int64_t *blocks, size_t threads)
{
    int64_t primes = 0;
    double started = bench_now();
    if (parallel_sum(blocks, BLOCKS, threads, primes_in_blocks, NULL,
                     &primes) != 0)
        bench_fail("parallel_sum returned an error");
    double seconds = bench_now() - started;
    check(primes, "parallel_sum");
    return seconds;
}

int main(int argc, char **argv)
{
    int round = bench_round(argc, argv);
    uint64_t inputs[BLOCKS];
    int64_t blocks[BLOCKS];
    for (int i = 0; i < BLOCKS; i++) {
        inputs[i] = (uint64_t)i;
        blocks[i] = i;
    }
    int cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    int most = cores > 1 ? cores : 2;
    bench_table("cpu14", "speed-up over serial (x)",
                "14 and 13: primes below 2,000,000 in processes and threads,"
                " speed-up over serial");
    bench_table("cpu14_seconds", "s", "14 and 13: wall seconds of the same "
                "runs");
    serial(blocks); /* warm-up */
    /* Each pair next to its own serial run (the load drifts), in an order
     * rotated by the round. */
    double serial_sum = 0;
    for (int k = 0; k < most; k++) {
        int workers = 1 + (k + round) % most;
        char x[24];
        snprintf(x, sizeof x, "%d", workers);
        double one = 1e9, processes = 1e9, threads = 1e9;
        /* Best of REPEATS: other programs only ever slow a run down. */
        for (int repeat = 0; repeat < REPEATS; repeat++) {
            one = fmin(one, serial(blocks));
            if ((round + k) % 2)
                threads = fmin(threads, in_threads(blocks, (size_t)workers));
            processes = fmin(processes, in_processes(inputs, workers));
            if ((round + k) % 2 == 0)
                threads = fmin(threads, in_threads(blocks, (size_t)workers));
        }
        serial_sum += one;
        bench_value("cpu14", "processes (14)", x, one / processes);
        bench_value("cpu14", "threads (13)", x, one / threads);
        bench_value("cpu14_seconds", "processes (14)", x, processes);
        bench_value("cpu14_seconds", "threads (13)", x, threads);
    }
    bench_value("cpu14_seconds", "serial", "1", serial_sum / most);
    return 0;
}
