/*
 * Workload for exercise 15, for ThreadSanitizer and helgrind: fetch_all
 * over a mix of good, slow, missing, malformed and refused URLs, round
 * after round, from two threads at once.  The workers share the list of
 * URLs and the results array: taking an index or filling a slot without
 * the right synchronisation is a race the checkers report.  First, one
 * call checks the limit on connections in flight, as the tests do: a
 * fetch_all that ignores it has not done the exercise.
 */
#include "fetch.h"
#include "support_server.h"
#include "workload.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>

enum { URLS = 12, CALLERS = 2, URL_MAX = 96 };

static struct test_server *server;
static int refused_port;

struct expected {
    const char *path;   /* NULL: the refused port */
    int error, status;
    size_t size;
};

static const struct expected mix[URLS] = {
    {"/ok/10", 0, 200, 10},       {"/slow/2000", 0, 200, 2000},
    {"/missing/3", 0, 404, 3},    {"/ok/70000", 0, 200, 70000},
    {"/bad/1", EPROTO, 0, 0},     {NULL, ECONNREFUSED, 0, 0},
    {"/slow/0", 0, 200, 0},       {"/ok/1", 0, 200, 1},
    {"/cut/1", EPROTO, 0, 0},     {"/ok/5000", 0, 200, 5000},
    {"/slow/77", 0, 200, 77},     {"/ok/300", 0, 200, 300},
};

static void *fetch_rounds(void *unused)
{
    (void)unused;
    char urls[URLS][URL_MAX];
    const char *pointers[URLS];
    for (int i = 0; i < URLS; i++) {
        if (mix[i].path)
            server_url(server, mix[i].path, urls[i], URL_MAX);
        else
            snprintf(urls[i], URL_MAX, "http://127.0.0.1:%d/ok/1",
                     refused_port);
        pointers[i] = urls[i];
    }
    const int rounds = workload_rounds(25, 3);
    for (int round = 0; round < rounds; round++) {
        struct fetch_result results[URLS];
        int error = fetch_all(pointers, URLS, 4, 10000, results);
        workload_check(error == 0, "fetch_all returned %d", error);
        for (int i = 0; i < URLS; i++) {
            const struct expected *want = &mix[i];
            const struct fetch_result *got = &results[i];
            workload_check(got->error == want->error &&
                           (want->error != 0 || (got->status == want->status &&
                                                 got->size == want->size)),
                           "round %d, %s: error %d, status %d, %zu bytes; "
                           "expected error %d, status %d, %zu bytes", round,
                           urls[i], got->error, got->status, got->size,
                           want->error, want->status, want->size);
        }
    }
    return NULL;
}

/* The server holds its answers until more than `limit` connections are
 * open at once: a fetch_all that keeps to the limit never gets there, and
 * the server gives up waiting after a while (longer under valgrind, where
 * a fetch_all that opens them all needs longer to do so). */
static void check_in_flight_limit(void)
{
    enum { LIMIT = 4, HELD_URLS = 8 };
    char urls[HELD_URLS][URL_MAX];
    const char *pointers[HELD_URLS];
    for (int i = 0; i < HELD_URLS; i++) {
        server_url(server, "/hold/5", urls[i], URL_MAX);
        pointers[i] = urls[i];
    }
    server_hold_until(server, LIMIT + 1, workload_under_valgrind() ? 4.0 : 1.0);
    struct fetch_result results[HELD_URLS];
    int error = fetch_all(pointers, HELD_URLS, LIMIT, 10000, results);
    workload_check(error == 0, "fetch_all returned %d", error);
    workload_check(server_peak(server) <= LIMIT,
                   "the server saw more than %d connections open at once "
                   "with max_in_flight %d: at most max_in_flight threads may "
                   "fetch", LIMIT, LIMIT);
}

int main(void)
{
    server = server_start();
    workload_check(server != NULL, "the test server did not start");
    check_in_flight_limit();
    refused_port = unused_port();
    workload_check(refused_port > 0, "no unused port found");
    pthread_t callers[CALLERS];
    for (int c = 0; c < CALLERS; c++)
        pthread_create(&callers[c], NULL, fetch_rounds, NULL);
    for (int c = 0; c < CALLERS; c++)
        pthread_join(callers[c], NULL);
    server_stop(server);
    workload_finished();
    return 0;
}
