/*
 * Exercise 13's demonstration, from the student's own parallel_sum:
 * CPU-bound work (primes by trial division, primes.h) on 1..nproc threads
 * as speed-up over the same work done serially, and the same with every
 * chunk computed under one global lock (a homemade GIL, as CPython's):
 * then the threads take turns and the speed-up stays at 1.  The last
 * table shows why the values are scrambled: in natural order the upper
 * chunk costs more, its thread finishes last, the other core idles.
 */
#include "bench.h"
#include "parallel_sum.h"
#include "primes.h"

#include <math.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#define MOST_CHUNKS 64
#define REPEATS 3 /* per round; the best counts */

struct bench {
    pthread_mutex_t *global_lock; /* NULL: no homemade GIL */
    pthread_mutex_t record_lock;
    int chunks;
    double cpu_seconds[MOST_CHUNKS];
};

static double thread_cpu(void)
{
    struct timespec now;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* The chunk's "sum": how many of its values are prime. */
static int64_t count_primes(const int64_t *values, size_t count, void *raw)
{
    struct bench *bench = raw;
    if (bench->global_lock)
        pthread_mutex_lock(bench->global_lock);
    double started = thread_cpu();
    int64_t primes = 0;
    for (size_t i = 0; i < count; i++)
        primes += is_prime(values[i]);
    double used = thread_cpu() - started;
    if (bench->global_lock)
        pthread_mutex_unlock(bench->global_lock);

    pthread_mutex_lock(&bench->record_lock);
    if (bench->chunks < MOST_CHUNKS)
        bench->cpu_seconds[bench->chunks++] = used;
    pthread_mutex_unlock(&bench->record_lock);
    return primes;
}

/* Wall seconds of one parallel_sum (threads 0: serial, no parallel_sum). */
static double run(const int64_t *values, size_t count, size_t threads,
                  pthread_mutex_t *global_lock, struct bench *bench)
{
    *bench = (struct bench){.global_lock = global_lock};
    pthread_mutex_init(&bench->record_lock, NULL);
    int64_t primes = 0;
    double started = bench_now();
    int error = 0;
    if (threads == 0)
        primes = count_primes(values, count, bench);
    else
        error = parallel_sum(values, count, threads, count_primes, bench,
                             &primes);
    double seconds = bench_now() - started;
    pthread_mutex_destroy(&bench->record_lock);
    if (error != 0)
        bench_fail("parallel_sum returned an error");
    if (count == PRIME_LIMIT && primes != PRIMES_BELOW_LIMIT) {
        fprintf(stderr, "parallel_sum counted %lld primes below %d with %zu "
                "threads, expected %d\n", (long long)primes, PRIME_LIMIT,
                threads, PRIMES_BELOW_LIMIT);
        exit(1);
    }
    return seconds;
}

int main(int argc, char **argv)
{
    int round = bench_round(argc, argv);
    size_t count = PRIME_LIMIT;
    if (bench_scale() < 1)
        count = (size_t)(PRIME_LIMIT * bench_scale());
    int64_t *scrambled = malloc(count * sizeof *scrambled);
    int64_t *in_order = malloc(count * sizeof *in_order);
    if (scrambled == NULL || in_order == NULL)
        bench_fail("out of memory");
    for (size_t i = 0; i < count; i++) {
        scrambled[i] = count == PRIME_LIMIT ? scrambled_value((int64_t)i)
                                            : (int64_t)i + 1;
        in_order[i] = (int64_t)i + 1;
    }
    static pthread_mutex_t gil = PTHREAD_MUTEX_INITIALIZER;
    struct bench bench;
    size_t cores = (size_t)sysconf(_SC_NPROCESSORS_ONLN);
    size_t most = cores > 1 ? cores : 2;

    bench_table("cpu13", "speed-up over serial (x)",
                "13: primes below 2,000,000 in threads, speed-up over "
                "serial");
    bench_table("cpu13_seconds", "s", "13: wall seconds of the same runs");
    run(scrambled, count, 1, NULL, &bench); /* warm-up: page faults */
    /* Each parallel run next to its own serial run, and the thread counts
     * and contenders in an order rotated by the round: on a busy machine
     * the load drifts, and a pair measured together sees the same load. */
    double serial_sum = 0;
    for (size_t k = 0; k < most; k++) {
        size_t threads = 1 + (k + (size_t)round) % most;
        char x[24];
        snprintf(x, sizeof x, "%zu", threads);
        int locked_first = (round + (int)k) % 2;
        double serial = 1e9, free_run = 1e9, locked = 1e9;
        /* Best of REPEATS: other programs only ever slow a run down. */
        for (int repeat = 0; repeat < REPEATS; repeat++) {
            serial = fmin(serial, run(scrambled, count, 0, NULL, &bench));
            if (locked_first)
                locked = fmin(locked,
                              run(scrambled, count, threads, &gil, &bench));
            free_run = fmin(free_run,
                            run(scrambled, count, threads, NULL, &bench));
            if (!locked_first)
                locked = fmin(locked,
                              run(scrambled, count, threads, &gil, &bench));
        }
        serial_sum += serial;
        bench_value("cpu13", "threads (13)", x, serial / free_run);
        bench_value("cpu13", "threads, one global lock", x, serial / locked);
        bench_value("cpu13_seconds", "threads (13)", x, free_run);
        bench_value("cpu13_seconds", "threads, one global lock", x, locked);
    }
    bench_value("cpu13_seconds", "serial (no threads)", "1",
                serial_sum / (double)most);

    /* Natural order, 2 threads: the CPU time of each chunk. */
    run(in_order, count, 2, NULL, &bench);
    bench_table("cpu13_chunks", "CPU s",
                "13: CPU seconds of each chunk with 2 threads: values in "
                "natural order vs scrambled");
    if (bench.chunks == 2) {
        double a = bench.cpu_seconds[0], b = bench.cpu_seconds[1];
        bench_value("cpu13_chunks", "natural order", "cheaper chunk",
                    a < b ? a : b);
        bench_value("cpu13_chunks", "natural order", "dearer chunk",
                    a < b ? b : a);
    }
    run(scrambled, count, 2, NULL, &bench);
    if (bench.chunks == 2) {
        double a = bench.cpu_seconds[0], b = bench.cpu_seconds[1];
        bench_value("cpu13_chunks", "scrambled", "cheaper chunk",
                    a < b ? a : b);
        bench_value("cpu13_chunks", "scrambled", "dearer chunk",
                    a < b ? b : a);
    }
    free(scrambled);
    free(in_order);
    return 0;
}
