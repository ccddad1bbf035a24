/*
 * Workload for exercise 10, for ThreadSanitizer and helgrind: workers with
 * a short period are stopped at varying moments, often while the task
 * runs, which is when an unsynchronised stop flag races; loggers write to
 * a file in a fresh temporary directory; detached tasks count down a latch
 * (TSan reports threads that end without being joined or detached).
 *
 * Under helgrind the period (1 s) is far longer than the time from a start
 * to its stop (about a millisecond), so no timed wait times out while a
 * stop's broadcast is in flight: glibc then sends a replacement signal
 * from inside pthread_cond_timedwait without the mutex, which helgrind
 * would report against correct code.  (A worker that sleeps instead of
 * waiting makes each round last a period.)
 */
#include "logger.h"
#include "worker.h"
#include "workload.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { WORKERS = 3, DETACHED = 4 };

static void pause_for(long microseconds)
{
    struct timespec pause = {0, microseconds * 1000};
    nanosleep(&pause, NULL);
}

struct counter {
    pthread_mutex_t lock;
    long runs;
};

static void count_and_pause(void *raw)
{
    struct counter *counter = raw;
    pthread_mutex_lock(&counter->lock);
    counter->runs++;
    pthread_mutex_unlock(&counter->lock);
    if (!workload_under_valgrind())
        pause_for(100); /* a stop often lands while the task runs */
}

static void run_workers(int round, double period)
{
    struct worker workers[WORKERS];
    struct counter counters[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        pthread_mutex_init(&counters[i].lock, NULL);
        counters[i].runs = 0;
        int error = worker_start(&workers[i], period, count_and_pause,
                                 &counters[i]);
        workload_check(error == 0, "worker_start failed with %d", error);
    }
    pause_for(50 + 150 * (round % 7));
    for (int i = 0; i < WORKERS; i++) {
        int error = worker_stop(&workers[i]);
        workload_check(error == 0, "worker_stop returned %d", error);
        /* No lock: worker_stop has joined the worker thread. */
        workload_check(workers[i].runs == counters[i].runs, "round %d: "
                       "worker->runs is %ld, the task ran %ld times", round,
                       workers[i].runs, counters[i].runs);
        pthread_mutex_destroy(&counters[i].lock);
    }
}

static long count_lines(const char *path)
{
    FILE *file = fopen(path, "r");
    if (!file)
        return -1;
    long lines = 0;
    for (int c; (c = fgetc(file)) != EOF;)
        lines += c == '\n';
    fclose(file);
    return lines;
}

/* The temporary directory and the current log, removed even when a check
 * fails (workload_check exits). */
static char directory[256];
static char path[512];

static void remove_files(void)
{
    unlink(path);
    rmdir(directory);
}

static void run_logger(int round, double period)
{
    snprintf(path, sizeof path, "%s/log-%d.txt", directory, round);
    struct logger logger;
    int error = logger_start(&logger, path, "line", period);
    workload_check(error == 0, "logger_start failed with %d", error);
    pause_for(300);
    long written = -1;
    error = logger_stop(&logger, &written);
    workload_check(error == 0, "logger_stop returned %d", error);
    long lines = count_lines(path);
    workload_check(lines == written, "round %d: the logger "
                   "wrote %ld lines, the file holds %ld", round, written,
                   lines);
    unlink(path);
}

/* Detached tasks count down this latch; nobody joins them. */
static pthread_mutex_t latch_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t latch_zero = PTHREAD_COND_INITIALIZER;
static int latch_left;

static void *count_down(void *unused)
{
    (void)unused;
    pthread_mutex_lock(&latch_lock);
    if (--latch_left == 0)
        pthread_cond_broadcast(&latch_zero);
    pthread_mutex_unlock(&latch_lock);
    return NULL;
}

static void run_detached_tasks(void)
{
    pthread_mutex_lock(&latch_lock);
    latch_left = DETACHED;
    pthread_mutex_unlock(&latch_lock);
    for (int i = 0; i < DETACHED; i++) {
        int error = run_detached(count_down, NULL);
        workload_check(error == 0, "run_detached failed with %d", error);
    }
    pthread_mutex_lock(&latch_lock);
    while (latch_left > 0)
        pthread_cond_wait(&latch_zero, &latch_lock);
    pthread_mutex_unlock(&latch_lock);
}

int main(void)
{
    const bool valgrind = workload_under_valgrind();
    const double period = valgrind ? 1.0 : 0.0002;
    const int rounds = workload_rounds(200, 6);

    const char *tmp = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/threadlings-workload-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    workload_check(mkdtemp(directory) != NULL, "mkdtemp failed");
    atexit(remove_files);

    for (int round = 0; round < rounds; round++) {
        run_workers(round, period);
        run_logger(round, period);
        run_detached_tasks();
    }
    workload_finished();
    return 0;
}
