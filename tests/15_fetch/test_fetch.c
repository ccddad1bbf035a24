/* Tests for exercise 15: fetch_all fetches URLs, at most K at a time.
 *
 * Concurrency matrix.  fetch_all is the only public function; what its
 * threads share is the next URL index, the count of connections in flight,
 * and the results array.  Who writes it at the same time, and where:
 *   next index   x the other workers   test next_index_taken_and_bumped_
 *                  under_one_lock (two workers held right after their
 *                  first unlock); workload (two fetch_all calls at once)
 *   in flight    x the other workers   test in_flight_checked_and_counted_
 *                  under_one_lock (every worker held after its first
 *                  unlock); never_has_more_than_k_in_flight
 *   results[i]   x the other workers   workload (tsan, helgrind);
 *                  reports_each_urls_status_and_size
 *   fetch_all    x fetch_all           workload (two callers at once)
 * Before: no test held a worker between two lock regions, so reading the
 * index (or checking the count) in one region and bumping it in the next
 * passed almost every run.
 * Contract edges tested here: NULL urls or results with count > 0, no
 * worker started (pthread_create's error), a timeout of 1000 ms or more
 * (a struct timeval's tv_usec stops at 999999), a server whose accept
 * queue is full (connect itself must time out).
 */
#include "harness.h"
#include "fetch.h"
#include "support_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { URL_MAX = 128, TIMEOUT_MS = 10000 };

/* ---- helpers ---------------------------------------------------------------- */

/* One fetch_all call over up to 16 URLs, run in a harness thread so that a
 * call that never returns fails the test with a reason.  Never freed if its
 * call is stuck. */
struct fetch_run {
    char urls[16][URL_MAX];
    const char *url_pointers[16];
    size_t count;
    int max_in_flight, timeout_ms;
    struct fetch_result results[16];
    int error;
};

static struct fetch_run *new_run(int max_in_flight)
{
    struct fetch_run *run = calloc(1, sizeof *run);
    cr_assert(run, "out of memory");
    run->max_in_flight = max_in_flight;
    run->timeout_ms = TIMEOUT_MS;
    run->error = -1;
    for (size_t i = 0; i < 16; i++) {
        run->url_pointers[i] = run->urls[i];
        /* A result fetch_all never filled in stays recognisable. */
        run->results[i] = (struct fetch_result){-1, -1, (size_t)-1};
    }
    return run;
}

/* A URL as messages show it: without the test server's port, which
 * changes from run to run (a reason must read the same every run). */
static const char *shown(const char *url)
{
    static _Thread_local char text[URL_MAX + 8];
    const char *port = strstr(url, "127.0.0.1:");
    const char *path = port ? strchr(port, '/') : NULL;
    if (!path)
        return url;
    snprintf(text, sizeof text, "%.*sPORT%s", (int)(port + 10 - url), url,
             path);
    return text;
}

static void add_url(struct fetch_run *run, const char *url)
{
    cr_assert(run->count < 16);
    snprintf(run->urls[run->count++], URL_MAX, "%s", url);
}

static void add_path(struct fetch_run *run, struct test_server *server,
                     const char *path)
{
    char url[URL_MAX];
    server_url(server, path, url, sizeof url);
    add_url(run, url);
}

static void *call_fetch_all(void *raw)
{
    struct fetch_run *run = raw;
    run->error = fetch_all(run->url_pointers, run->count, run->max_in_flight,
                           run->timeout_ms, run->results);
    return NULL;
}

static void fetch_within(struct fetch_run *run, double seconds,
                         const char *if_stuck)
{
    struct async_call call;
    async_start(&call, call_fetch_all, run);
    cr_assert(async_wait(&call, seconds), "fetch_all did not return within "
              "%g s: %s", seconds, if_stuck);
    async_finish(&call);
    cr_assert_eq(run->error, 0, "fetch_all returned %d, expected 0",
                 run->error);
}

/* 9.5 s (within the 10 s floor of a test's limit): the kit's hang watcher
 * ignores waits that end within 5 s and needs 3 s to call a loop a spin, so
 * a shorter wait would fail the test before the watcher could name the
 * line that spins. */
static void fetch(struct fetch_run *run)
{
    fetch_within(run, 9.5, "is every thread joined, and does each fetch end "
                 "when the server closes the connection?");
}

/* A slot never filled in is most often a URL that two workers both took,
 * which any test with several workers can meet, not only the one that
 * forces it (assert_each_fetched_once). */
#define NEVER_FILLED_IN "was never filled in: every URL must get its result, " \
    "whatever happened to the others (did two workers take the same index? " \
    "if each read it in one lock region and bumped it in the next, read and " \
    "bump it in one critical section)"

static void assert_fetched(const struct fetch_run *run, size_t i, int status,
                           size_t size)
{
    const struct fetch_result *got = &run->results[i];
    cr_assert_neq(got->error, -1, "results[%zu] (%s) " NEVER_FILLED_IN, i,
                  shown(run->urls[i]));
    cr_assert_eq(got->error, 0, "results[%zu] (%s) has error %d (%s), "
                 "expected 0", i, shown(run->urls[i]), got->error,
                 strerror(got->error));
    cr_assert(got->status == status && got->size == size, "results[%zu] (%s) "
              "is status %d with %zu bytes, expected status %d with %zu bytes: "
              "each URL's result goes to its own slot, results[i] for urls[i]",
              i, shown(run->urls[i]), got->status, got->size, status, size);
}

static void assert_error(const struct fetch_run *run, size_t i, int error,
                         const char *why)
{
    int got = run->results[i].error;
    cr_assert_neq(got, -1, "results[%zu] (%s) " NEVER_FILLED_IN, i,
                  shown(run->urls[i]));
    cr_assert_eq(got, error, "results[%zu] (%s) has error %d (%s), expected "
                 "%s (%d): %s", i, shown(run->urls[i]), got,
                 strerror(got), strerror(error), error, why);
}

/* ---- results ------------------------------------------------------------------ */

EXERCISE_TEST(fetch, reports_each_urls_status_and_size, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    static const size_t sizes[] = {0, 1, 1000, 4096, 70000, 12, 300000, 7};
    struct fetch_run *run = new_run(3);
    char path[64];
    for (size_t i = 0; i < 8; i++) {
        snprintf(path, sizeof path, "/%s/%zu", i == 5 ? "missing" : "ok",
                 sizes[i]);
        add_path(run, server, path);
    }
    fetch(run);
    for (size_t i = 0; i < 8; i++)
        assert_fetched(run, i, i == 5 ? 404 : 200, sizes[i]);
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, rejects_bad_arguments_and_fetches_nothing, 10,
              "fetch_all never returned")
{
    const char *url = "http://127.0.0.1:1/ok/1";
    struct fetch_result result;
    int error = fetch_all(&url, 1, 0, TIMEOUT_MS, &result);
    cr_assert_eq(error, EINVAL, "fetch_all with max_in_flight 0 returned %d, "
                 "expected EINVAL (%d)", error, EINVAL);
    error = fetch_all(&url, 1, 2, 0, &result);
    cr_assert_eq(error, EINVAL, "fetch_all with timeout_ms 0 returned %d, "
                 "expected EINVAL (%d)", error, EINVAL);
    error = fetch_all(NULL, 0, 2, TIMEOUT_MS, NULL);
    cr_assert_eq(error, 0, "fetch_all with no URLs returned %d, expected 0",
                 error);
}

/* ---- at most K, and K at once ---------------------------------------------------- */

EXERCISE_TEST(fetch, fetches_k_urls_at_the_same_time, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    /* The server answers no /hold/ request until 3 connections are open. */
    server_hold_until(server, 3, 3.0);
    struct fetch_run *run = new_run(3);
    for (int i = 0; i < 6; i++)
        add_path(run, server, "/hold/10");
    fetch(run);
    cr_assert_not(server_gave_up(server), "the server waited 3 s for 3 "
                  "connections open at the same time and saw at most %d: with "
                  "max_in_flight 3, fetch 3 URLs at once (in 3 threads), not "
                  "one after another", server_peak(server));
    /* No "exactly 3" here: a fetch_all that opens more than 3 reaches a
     * peak of 3, 4, 5 or 6 depending on the run, so this test would fail
     * it only sometimes; never_has_more_than_k_in_flight and
     * in_flight_checked_and_counted_under_one_lock fail it every run. */
    for (size_t i = 0; i < 6; i++)
        assert_fetched(run, i, 200, 10);
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, never_has_more_than_k_in_flight, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    /* The server holds every answer until all 8 are open (a client that
     * keeps to 3 never gets there: after 1 s the server gives up). */
    server_hold_until(server, 8, 1.0);
    struct fetch_run *run = new_run(3);
    for (int i = 0; i < 8; i++)
        add_path(run, server, "/hold/10");
    fetch(run);
    int peak = server_peak(server);
    cr_assert(peak <= 3, "the server saw %d connections open at once with "
              "max_in_flight 3: starting a thread per URL opens them all "
              "together; let at most max_in_flight threads take URLs one "
              "after another", peak);
    for (size_t i = 0; i < 8; i++)
        assert_fetched(run, i, 200, 10);
    server_stop(server);
    free(run);
}

/* ---- errors are per URL --------------------------------------------------------------- */

EXERCISE_TEST(fetch, refused_connection_is_that_urls_error, 15,
              "fetch_all never returned after a refused connection")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    int closed_port = unused_port();
    cr_assert(closed_port > 0, "could not find an unused port");
    char refused[URL_MAX];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/ok/5", closed_port);
    struct fetch_run *run = new_run(2);
    add_path(run, server, "/ok/5");
    add_url(run, refused);
    add_path(run, server, "/ok/6");
    fetch(run);
    assert_fetched(run, 0, 200, 5);
    assert_error(run, 1, ECONNREFUSED, "nothing listens on that port; the "
                 "error of connect() belongs in that URL's result");
    assert_fetched(run, 2, 200, 6);
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, malformed_replies_are_protocol_errors, 15,
              "fetch_all never returned after a malformed reply")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(2);
    add_path(run, server, "/bad/5");
    add_path(run, server, "/ok/5");
    add_path(run, server, "/cut/5");
    fetch(run);
    assert_error(run, 0, EPROTO, "the reply starts with \"HTPT/1.0 200\", "
                 "which is not a status line");
    assert_fetched(run, 1, 200, 5);
    assert_error(run, 2, EPROTO, "the server hung up in the middle of the "
                 "status line");
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, contacts_only_loopback_and_rejects_bad_urls, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    char url[URL_MAX];
    struct fetch_run *run = new_run(2);
    /* 0.0.0.0 is not a loopback address, yet Linux would connect it to this
     * machine: a client that connects anyway reaches the test server. */
    server_url(server, "/ok/5", url, sizeof url);
    char not_loopback[URL_MAX];
    snprintf(not_loopback, sizeof not_loopback, "http://0.0.0.0:%s",
             strrchr(url, ':') + 1);
    add_url(run, not_loopback);
    add_url(run, "ftp://127.0.0.1:21/ok/5");
    add_url(run, "http://localhost:80/ok/5");
    add_url(run, "http://127.0.0.1/ok/5");
    add_url(run, "http://127.0.0.1:99999/ok/5");
    add_url(run, "http://127.0.0.1:80/ok 5");
    add_path(run, server, "/ok/9");
    fetch(run);
    assert_error(run, 0, EPERM, "0.0.0.0 is not in 127.0.0.0/8; refuse every "
                 "address whose first byte is not 127, before connecting");
    for (size_t i = 1; i < 6; i++)
        assert_error(run, i, EINVAL, "that is not a URL of the form "
                     "http://A.B.C.D:PORT/path");
    assert_fetched(run, 6, 200, 9);
    cr_assert_eq(server_accepted(server), 1, "the server accepted %d "
                 "connections for one good URL: the refused URLs must never "
                 "be connected to", server_accepted(server));
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, a_server_that_never_answers_times_out, 15,
              "fetch_all never returned with a server that never answers: "
              "is there a receive timeout on every socket?")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(2);
    run->timeout_ms = 500;
    add_path(run, server, "/stall/5");
    fetch_within(run, 5.0, "the server never answers, and "
                 "the call waited for it for ever: give every socket a "
                 "receive timeout of timeout_ms (setsockopt SO_RCVTIMEO)");
    assert_error(run, 0, ETIMEDOUT, "the server sent nothing for timeout_ms; "
                 "recv() then fails with EAGAIN, which stands for ETIMEDOUT");
    server_stop(server);
    free(run);
}

/* ---- nothing left behind --------------------------------------------------------------- */

EXERCISE_TEST(fetch, closes_every_socket, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    int closed_port = unused_port();
    char refused[URL_MAX];
    snprintf(refused, sizeof refused, "http://127.0.0.1:%d/ok/5", closed_port);
    int before = harness_count_open_fds();
    struct fetch_run *run = new_run(3);
    add_path(run, server, "/ok/100");
    add_path(run, server, "/bad/5");
    add_path(run, server, "/missing/3");
    add_url(run, refused);
    add_path(run, server, "/cut/1");
    add_path(run, server, "/ok/7");
    fetch(run);
    cr_assert(server_wait_idle(server, 5.0), "the server still has a "
              "connection open 5 s after fetch_all returned");
    int after = harness_count_open_fds();
    cr_assert_eq(after, before, "%d descriptors were open before fetch_all "
                 "and %d after: close every socket, on the error paths too",
                 before, after);
    assert_fetched(run, 0, 200, 100);
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, a_failed_thread_start_still_fetches_everything, 15,
              "after a failed pthread_create, fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(3);
    for (int i = 0; i < 6; i++)
        add_path(run, server, "/ok/20");
    harness_fail_pthread_create_after(1);
    fetch(run);
    harness_fail_pthread_create_after(-1);
    for (size_t i = 0; i < 6; i++)
        assert_fetched(run, i, 200, 20);
    server_stop(server);
    free(run);
}

/* ---- two lock regions where one is needed ---------------------------------- */

/* Each URL fetched exactly once: results filled, and no extra connection. */
static void assert_each_fetched_once(struct fetch_run *run,
                                     struct test_server *server,
                                     const size_t sizes[])
{
    for (size_t i = 0; i < run->count; i++)
        cr_assert_neq(run->results[i].error, -1, "results[%zu] (%s) was never "
                      "filled in: two workers took the same index, because "
                      "each read it in one lock region and bumped it in the "
                      "next; read and bump the next index under one lock, "
                      "in one critical section", i, shown(run->urls[i]));
    cr_assert_eq(server_accepted(server), (int)run->count, "%zu URLs took %d "
                 "connections: a URL was fetched twice (two workers read the "
                 "same index in one lock region and bumped it in the next; "
                 "read and bump it under one lock)", run->count,
                 server_accepted(server));
    for (size_t i = 0; i < run->count; i++)
        assert_fetched(run, i, 200, sizes[i]);
}

/* Threads made by fetch_all in this test (not the server's, not the
 * harness's): only those are held. */
static int creations_before_fetch;

static bool made_by_fetch_all(void)
{
    return harness_creation_number() >= creations_before_fetch;
}

EXERCISE_TEST(fetch, next_index_taken_and_bumped_under_one_lock, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(2);
    const char *paths[] = {"/ok/1", "/ok/2", "/ok/3", "/ok/4"};
    for (int i = 0; i < 4; i++)
        add_path(run, server, paths[i]);
    /* Both workers are held right after their first unlock.  A worker that
     * read the index in one lock region and bumps it in the next has only
     * read it: both read 0, both bump, and URL 1 is never taken. */
    creations_before_fetch = harness_pthread_create_calls();
    harness_hold_unlocks(NULL, 2, made_by_fetch_all, 5.0);
    static struct async_call call;
    async_start(&call, call_fetch_all, run);
    harness_wait_until_held(2, 1.0);
    harness_release_held();
    bool returned = async_wait(&call, 8.0);
    cr_assert(returned, "fetch_all never returned");
    async_finish(&call);
    assert_each_fetched_once(run, server, (const size_t[]){1, 2, 3, 4});
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, in_flight_checked_and_counted_under_one_lock, 15,
              "fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    server_hold_until(server, 3, 2.0);
    struct fetch_run *run = new_run(2);
    for (int i = 0; i < 6; i++)
        add_path(run, server, "/hold/10");
    /* Every thread fetch_all makes is held right after its first unlock.
     * A thread that checked "fewer than K in flight" in one lock region and
     * counts itself in the next has only checked: all of them pass the
     * check before any counts. */
    creations_before_fetch = harness_pthread_create_calls();
    harness_hold_unlocks(NULL, 6, made_by_fetch_all, 5.0);
    static struct async_call call;
    async_start(&call, call_fetch_all, run);
    harness_wait_until_held(6, 1.0);  /* K workers: 2 held, then 1 s */
    harness_release_held();
    bool returned = async_wait(&call, 8.0);
    cr_assert(returned, "fetch_all never returned");
    async_finish(&call);
    int peak = server_peak(server);
    cr_assert(peak <= 2, "the server saw more than 2 connections open at "
              "once with max_in_flight 2: threads checked the number in flight in one "
              "lock region and counted themselves in the next, so all passed "
              "the check before any counted. Check and count under one lock "
              "(or start only max_in_flight workers)");
    assert_each_fetched_once(run, server,
                             (const size_t[]){10, 10, 10, 10, 10, 10});
    server_stop(server);
    free(run);
}

/* ---- contract edges ----------------------------------------------------------- */

EXERCISE_TEST(fetch, null_urls_or_results_are_einval, 10,
              "fetch_all never returned")
{
    const char *url = "http://127.0.0.1:1/ok/1";
    struct fetch_result result = {-1, -1, 0};
    /* Shown if the calls below crash. */
    harness_note("fetch_all crashed when called with urls or results NULL "
                 "and count 1: fetch.h promises EINVAL then; check both "
                 "pointers before using them");
    int error = fetch_all(NULL, 1, 2, TIMEOUT_MS, &result);
    cr_assert_eq(error, EINVAL, "fetch_all(NULL, 1, ...) returned %d, "
                 "expected EINVAL (%d): fetch.h promises EINVAL when a "
                 "pointer is NULL while count > 0", error, EINVAL);
    error = fetch_all(&url, 1, 2, TIMEOUT_MS, NULL);
    cr_assert_eq(error, EINVAL, "fetch_all(urls, 1, 2, timeout, NULL) "
                 "returned %d, expected EINVAL (%d): fetch.h promises EINVAL "
                 "when a pointer is NULL while count > 0", error, EINVAL);
}

EXERCISE_TEST(fetch, no_worker_started_is_an_error, 15,
              "after every pthread_create failed, fetch_all never returned")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(3);
    for (int i = 0; i < 4; i++)
        add_path(run, server, "/ok/5");
    harness_fail_pthread_create_after(0);
    static struct async_call call;
    async_start(&call, call_fetch_all, run);
    bool returned = async_wait(&call, 8.0);
    harness_fail_pthread_create_after(-1);
    cr_assert(returned, "fetch_all never returned when its first "
              "pthread_create failed");
    async_finish(&call);
    cr_assert_eq(run->error, EAGAIN, "fetch_all returned %d when its first "
                 "pthread_create failed with EAGAIN and no worker ran: "
                 "fetch.h says it then returns pthread_create's error (%d), "
                 "not success", run->error, EAGAIN);
    server_stop(server);
    free(run);
}

EXERCISE_TEST(fetch, a_timeout_of_more_than_a_second_is_kept, 15,
              "fetch_all with a 1500 ms timeout never returned from a "
              "server that never answers")
{
    struct test_server *server = server_start();
    cr_assert(server, "the test server did not start");
    struct fetch_run *run = new_run(1);
    run->timeout_ms = 1500;
    add_path(run, server, "/stall/5");
    double start = now_seconds();
    fetch_within(run, 4.0, "with timeout_ms 1500 the call still waited for a "
                 "server that never answers: a struct timeval takes whole "
                 "seconds in tv_sec and only the rest in tv_usec (at most "
                 "999999); {0, 1500000} is refused by setsockopt (EDOM), "
                 "so check what setsockopt returns");
    double took = now_seconds() - start;
    assert_error(run, 0, ETIMEDOUT, "the server sent nothing for timeout_ms");
    cr_assert(took >= 1.2, "a 1500 ms timeout ended after %.2f s: split "
              "timeout_ms into tv_sec = ms / 1000 and tv_usec = ms %% 1000 * "
              "1000", took);
    server_stop(server);
    free(run);
}

/* A listening socket that never accepts, its accept queue filled by
 * connections of its own: a new connect then gets no answer at all. */
static int full_listener(int *port, int fillers[], int count)
{
    int listener = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(listener >= 0, "socket failed");
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    cr_assert(bind(listener, (struct sockaddr *)&address, sizeof address) == 0 &&
              listen(listener, 0) == 0 &&
              getsockname(listener, (struct sockaddr *)&address, &length) == 0,
              "the test could not listen on 127.0.0.1");
    for (int i = 0; i < count; i++) {
        fillers[i] = socket(AF_INET, SOCK_STREAM, 0);
        cr_assert(fillers[i] >= 0, "socket failed");
        fcntl(fillers[i], F_SETFL, O_NONBLOCK);
        connect(fillers[i], (struct sockaddr *)&address, sizeof address);
    }
    sleep_seconds(0.05);  /* the handshakes that can complete, complete */
    *port = ntohs(address.sin_port);
    return listener;
}

EXERCISE_TEST(fetch, connect_to_a_full_accept_queue_times_out, 15,
              "fetch_all never returned from a server whose accept queue "
              "is full: does connect have a time-out (SO_SNDTIMEO)?")
{
    enum { FILLERS = 4 };
    int port, fillers[FILLERS];
    int listener = full_listener(&port, fillers, FILLERS);
    struct fetch_run *run = new_run(1);
    run->timeout_ms = 300;
    char url[URL_MAX];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/ok/1", port);
    add_url(run, url);
    fetch_within(run, 3.0, "a server whose accept queue is full never "
                 "answers connect, and connect waits on its own for about "
                 "two minutes: bound it with a send time-out (setsockopt "
                 "SO_SNDTIMEO) of timeout_ms, set before connect");
    assert_error(run, 0, ETIMEDOUT, "connect got no answer for timeout_ms: "
                 "a timed-out connect fails with EINPROGRESS, which stands "
                 "for ETIMEDOUT");
    for (int i = 0; i < FILLERS; i++)
        close(fillers[i]);
    close(listener);
    free(run);
}
