/* Time and thread-count helpers, for tests and workloads alike. */
#ifndef THREADLINGS_CLOCK_H
#define THREADLINGS_CLOCK_H

#include <stdbool.h>

/* Monotonic seconds, and CPU seconds used by the calling thread. */
double now_seconds(void);
double thread_cpu_seconds(void);
void sleep_seconds(double seconds);
/* How many threads this process has (entries of /proc/self/task). */
int count_process_threads(void);
/* Waits up to `seconds` for the process to be down to `wanted` threads. */
bool wait_for_thread_count(int wanted, double seconds);

#endif
