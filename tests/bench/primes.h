/*
 * The CPU-bound work of benchmarks 13 and 14: count the primes among
 * 1..PRIME_LIMIT by trial division.  A bigger number costs more to test,
 * so the values are visited in a scrambled order (value of position i:
 * 1 + i * PRIME_STRIDE mod PRIME_LIMIT, a permutation because the stride
 * and the limit share no factor): every chunk of positions then costs
 * about the same, and the speed-up measures the threads, not the luck of
 * the split.
 */
#ifndef THREADLINGS_PRIMES_H
#define THREADLINGS_PRIMES_H

#include <stdbool.h>
#include <stdint.h>

#define PRIME_LIMIT 2000000
#define PRIME_STRIDE 7919
#define PRIMES_BELOW_LIMIT 148933

static inline bool is_prime(int64_t n)
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

/* The value at position `position` of the scrambled order. */
static inline int64_t scrambled_value(int64_t position)
{
    return 1 + (position * PRIME_STRIDE) % PRIME_LIMIT;
}

#endif
