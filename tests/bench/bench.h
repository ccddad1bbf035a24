/*
 * What every benchmark program of tests/bench/ shares.  A program runs one
 * round of its comparisons and prints tab-separated lines that
 * tools/kit/bench.py collects over several rounds (median and spread):
 *
 *   table <id> <unit> <title>            declares a table
 *   value <id> <series> <x> <number>     one measurement in that table
 *   note  <text>                         a line shown under the tables
 *
 * argv[1] is the round number: each program rotates the order of its
 * contenders by it, so that none always runs first (or last) on a busy
 * machine.  BENCH_SCALE (environment, default 1) shrinks the work for
 * quick debugging runs.
 */
#ifndef THREADLINGS_BENCH_H
#define THREADLINGS_BENCH_H

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

/* CPU seconds used by the whole process (every thread) so far. */
static inline double bench_process_cpu(void)
{
    struct timespec now;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

static inline int bench_round(int argc, char **argv)
{
    return argc > 1 ? atoi(argv[1]) : 0;
}

/* BENCH_SCALE=0.1 runs a tenth of the work: only for debugging. */
static inline double bench_scale(void)
{
    const char *text = getenv("BENCH_SCALE");
    double scale = text ? atof(text) : 1.0;
    return scale > 0 ? scale : 1.0;
}

static inline void bench_table(const char *id, const char *unit,
                               const char *title)
{
    printf("table\t%s\t%s\t%s\n", id, unit, title);
}

static inline void bench_value(const char *id, const char *series,
                               const char *x, double value)
{
    printf("value\t%s\t%s\t%s\t%.9g\n", id, series, x, value);
    fflush(stdout);
}

static inline void bench_fail(const char *what)
{
    fprintf(stderr, "%s\n", what);
    exit(1);
}

#endif
