/*
 * Workload for exercise 07, for ThreadSanitizer and helgrind.  Each round,
 * waiters (plain and timed) block on a clear event while another thread
 * sets it, and latecomers look at the flag only after the set: with no
 * lock between the setter's write and a latecomer's read, a flag read
 * outside the mutex is a data race the checkers report.
 */
#include "event.h"
#include "workload.h"
#include "clock.h"

#include <pthread.h>

enum { PLAIN_WAITERS = 3, TIMED_WAITERS = 2 };

static struct event event;

static void *plain_waiter(void *unused)
{
    (void)unused;
    event_wait(&event);
    return NULL;
}

static void *timed_waiter(void *unused)
{
    (void)unused;
    return event_wait_timeout(&event, 60.0) ? &event : NULL;
}

/* Latecomers arrive after the set, with nothing ordering them after the
 * setter: the first thing each does reads the flag. */
static void *latecomer_asks(void *unused)
{
    (void)unused;
    sleep_seconds(0.002);
    return event_is_set(&event) ? &event : NULL;
}

static void *latecomer_waits(void *unused)
{
    (void)unused;
    sleep_seconds(0.002);
    event_wait(&event);
    return NULL;
}

static void *setter(void *unused)
{
    (void)unused;
    event_set(&event);
    return NULL;
}

static void run_round(int round)
{
    pthread_t plain[PLAIN_WAITERS], timed[TIMED_WAITERS], asks, waits, set;
    for (int i = 0; i < PLAIN_WAITERS; i++)
        pthread_create(&plain[i], NULL, plain_waiter, NULL);
    for (int i = 0; i < TIMED_WAITERS; i++)
        pthread_create(&timed[i], NULL, timed_waiter, NULL);
    pthread_create(&asks, NULL, latecomer_asks, NULL);
    pthread_create(&waits, NULL, latecomer_waits, NULL);
    pthread_create(&set, NULL, setter, NULL);

    pthread_join(set, NULL);
    for (int i = 0; i < PLAIN_WAITERS; i++)
        pthread_join(plain[i], NULL);
    for (int i = 0; i < TIMED_WAITERS; i++) {
        void *result;
        pthread_join(timed[i], &result);
        workload_check(result != NULL, "round %d: event_wait_timeout(60 s) "
                       "returned false although the event was set", round);
    }
    pthread_join(asks, NULL);
    pthread_join(waits, NULL);

    workload_check(event_is_set(&event), "round %d: the event was not set "
                   "after event_set", round);
    event_clear(&event);
    workload_check(!event_is_set(&event), "round %d: the event was still "
                   "set after event_clear", round);
    workload_check(!event_wait_timeout(&event, 0.001), "round %d: a timed "
                   "wait on a clear event returned true", round);
}

int main(void)
{
    int error = event_init(&event);
    workload_check(error == 0, "event_init failed with %d", error);
    const int rounds = workload_rounds(150, 30);
    for (int round = 0; round < rounds; round++)
        run_round(round);
    event_destroy(&event);
    workload_finished();
    return 0;
}
