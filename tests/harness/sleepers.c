/* See sleepers.h.  Linux only (reads /proc). */
#define _GNU_SOURCE
#include "sleepers.h"

#include "clock.h"

#include <dirent.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* 1 if the thread is in futex() on an address inside the range, 0 if not,
 * -1 if its syscall file cannot be read. */
static int asleep_on(const char *tid, uintptr_t start, uintptr_t end)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/self/task/%s/syscall", tid);
    FILE *file = fopen(path, "r");
    if (!file)
        return -1;
    char *read = fgets(line, sizeof line, file);
    fclose(file);
    if (!read)
        return -1;
    /* "NR arg1 arg2 ... sp pc" while in a system call, "running" or
     * "-1 sp pc" otherwise; futex's first argument is the address. */
    char *rest;
    long number = strtol(line, &rest, 10);
    if (rest == line)
        return 0;
    bool is_futex = number == SYS_futex;
#ifdef SYS_futex_time64
    is_futex = is_futex || number == SYS_futex_time64;
#endif
    if (!is_futex)
        return 0;
    uintptr_t address = (uintptr_t)strtoull(rest, NULL, 16);
    return address >= start && address < end;
}

static int count_asleep_on(const void *object, size_t size)
{
    uintptr_t start = (uintptr_t)object, end = start + size;
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        return -1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(tasks));) {
        if (entry->d_name[0] == '.')
            continue;
        int asleep = asleep_on(entry->d_name, start, end);
        if (asleep < 0) {
            /* A thread that ended while we looked has no file any more;
             * only our own thread's file tells whether /proc can answer. */
            char self[32];
            snprintf(self, sizeof self, "%ld", (long)syscall(SYS_gettid));
            if (asleep_on(self, 0, 0) < 0) {
                closedir(tasks);
                return -1;
            }
            continue;
        }
        count += asleep;
    }
    closedir(tasks);
    return count;
}

/* A thread of our own that sleeps on a condition variable until told. */
static struct {
    pthread_mutex_t mutex;
    pthread_cond_t cond;
    bool done;
} calibration = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};

static void *sleep_until_done(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&calibration.mutex);
    while (!calibration.done)
        pthread_cond_wait(&calibration.cond, &calibration.mutex);
    pthread_mutex_unlock(&calibration.mutex);
    return NULL;
}

/* Does /proc show a thread asleep in pthread_cond_wait as asleep on its
 * condition variable?  Checked once, with a thread of our own: where it
 * does not (another kernel, another C library, a sandbox), the callers
 * fall back to a grace period instead of failing right code. */
static bool proc_shows_sleepers(void)
{
    static int known = -1;
    if (known >= 0)
        return known;
    pthread_t thread;
    if (pthread_create(&thread, NULL, sleep_until_done, NULL) != 0) {
        known = 0;
        return false;
    }
    double give_up = now_seconds() + 3.0;
    int seen;
    while ((seen = count_asleep_on(&calibration.cond,
                                   sizeof calibration.cond)) == 0 &&
           now_seconds() < give_up)
        sleep_seconds(0.002);
    pthread_mutex_lock(&calibration.mutex);
    calibration.done = true;
    pthread_cond_broadcast(&calibration.cond);
    pthread_mutex_unlock(&calibration.mutex);
    pthread_join(thread, NULL);
    known = seen == 1;
    return known;
}

int threads_asleep_on(const void *object, size_t size)
{
    if (!proc_shows_sleepers())
        return -1;
    return count_asleep_on(object, size);
}

double others_cpu_seconds(void)
{
    struct timespec process, own;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &process);
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &own);
    return (double)(process.tv_sec - own.tv_sec) +
           (double)(process.tv_nsec - own.tv_nsec) / 1e9;
}

int wait_until_asleep_on(const void *object, size_t size, int count,
                         double seconds, bool (*returned)(const void *context),
                         const void *context)
{
    double give_up = now_seconds() + seconds;
    double cpu_start = others_cpu_seconds();
    for (;;) {
        int asleep = threads_asleep_on(object, size);
        if (asleep < 0) {
            sleep_seconds(0.5);
            return -1;
        }
        if (asleep >= count || (returned && returned(context)) ||
            now_seconds() > give_up ||
            others_cpu_seconds() - cpu_start > POLLING_CPU_SECONDS)
            return asleep;
        sleep_seconds(0.002);
    }
}
