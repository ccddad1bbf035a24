/*
 * Benchmark for exercise 13.  Not one of the checks (the tests prove
 * overlap without a clock; speed-ups come from programs run side by side,
 * on an otherwise idle machine).  From the kit's top folder:
 *
 *   mkdir -p build && gcc -std=c11 -D_POSIX_C_SOURCE=200809L -O2 \
 *       -pthread -I exercises/13_cpu_bound -I tests/harness \
 *       tests/13_cpu_bound/bench.c exercises/13_cpu_bound/parallel_sum.c \
 *       tests/harness/clock.c -o build/bench13 && build/bench13
 *
 * (use solutions/13_cpu_bound/parallel_sum.c to see the reference).  The
 * work: counting the primes among 1..N by trial division, which costs more
 * for bigger numbers.  It prints
 *   - the wall time (best of 3) for 1, 2 and 4 threads, and the speed-up;
 *   - the same with every chunk run under one global lock (a homemade GIL);
 *   - the CPU time of each chunk with 2 threads: the upper half costs more,
 *     so its thread finishes last while the other core idles.
 */
#include "clock.h"
#include "parallel_sum.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#define NUMBERS 2000000
#define MOST_CHUNKS 8

struct bench {
    pthread_mutex_t *global_lock; /* NULL: no GIL */
    pthread_mutex_t record_lock;
    int chunks;
    int64_t first_value[MOST_CHUNKS];
    double cpu_seconds[MOST_CHUNKS];
};

static bool is_prime(int64_t n)
{
    if (n < 2)
        return false;
    if (n % 2 == 0)
        return n == 2;
    for (int64_t d = 3; d * d <= n; d += 2)
        if (n % d == 0)
            return false;
    return true;
}

/* The chunk's "sum": how many of its values are prime. */
static int64_t count_primes(const int64_t *values, size_t count, void *context)
{
    struct bench *bench = context;
    if (bench->global_lock)
        pthread_mutex_lock(bench->global_lock);
    double started = thread_cpu_seconds();
    int64_t primes = 0;
    for (size_t i = 0; i < count; i++)
        primes += is_prime(values[i]);
    double used = thread_cpu_seconds() - started;
    if (bench->global_lock)
        pthread_mutex_unlock(bench->global_lock);

    pthread_mutex_lock(&bench->record_lock);
    if (bench->chunks < MOST_CHUNKS && count > 0) {
        bench->first_value[bench->chunks] = values[0];
        bench->cpu_seconds[bench->chunks] = used;
        bench->chunks++;
    }
    pthread_mutex_unlock(&bench->record_lock);
    return primes;
}

static double run_once(const int64_t *values, size_t threads,
                       pthread_mutex_t *global_lock, struct bench *bench)
{
    *bench = (struct bench){.global_lock = global_lock};
    pthread_mutex_init(&bench->record_lock, NULL);
    int64_t primes = 0;
    double started = now_seconds();
    int error = parallel_sum(values, NUMBERS, threads, count_primes, bench,
                             &primes);
    double seconds = now_seconds() - started;
    pthread_mutex_destroy(&bench->record_lock);
    if (error != 0 || primes != 148933) { /* primes below 2,000,000 */
        fprintf(stderr, "parallel_sum failed (%d) or counted %" PRId64
                " primes, expected 148933\n", error, primes);
        exit(1);
    }
    return seconds;
}

/* The best of three runs: other programs only ever make a run slower. */
static double run(const int64_t *values, size_t threads,
                  pthread_mutex_t *global_lock, struct bench *bench)
{
    double best = run_once(values, threads, global_lock, bench);
    for (int i = 0; i < 2; i++) {
        double seconds = run_once(values, threads, global_lock, bench);
        best = seconds < best ? seconds : best;
    }
    return best;
}

int main(void)
{
    int64_t *values = malloc(NUMBERS * sizeof *values);
    if (values == NULL)
        return 1;
    for (int64_t i = 0; i < NUMBERS; i++)
        values[i] = i + 1;
    static pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;
    struct bench bench;

    printf("primes among 1..%d, by trial division\n\n", NUMBERS);
    printf("threads   no lock (s)  speed-up   global lock (s)  speed-up\n");
    run(values, 1, NULL, &bench); /* warm-up: page faults, CPU clock */
    double one = 0, one_locked = 0;
    for (size_t threads = 1; threads <= 4; threads *= 2) {
        double free_run = run(values, threads, NULL, &bench);
        double locked = run(values, threads, &gil, &bench);
        if (threads == 1) {
            one = free_run;
            one_locked = locked;
        }
        printf("%7zu   %11.3f  %7.2fx   %15.3f  %7.2fx\n", threads, free_run,
               one / free_run, locked, one_locked / locked);
    }

    run(values, 2, NULL, &bench);
    printf("\nCPU time per chunk with 2 threads "
           "(equal sizes, unequal work):\n");
    for (int i = 0; i < bench.chunks; i++)
        printf("  chunk from %8" PRId64 ": %.3f s\n", bench.first_value[i],
               bench.cpu_seconds[i]);
    free(values);
    return 0;
}
