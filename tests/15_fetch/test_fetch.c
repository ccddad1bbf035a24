/* Tests for exercise 15: fetch_all fetches URLs, at most K at a time. */
#include "harness.h"
#include "fetch.h"
#include "support_server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { URL_MAX = 128, TIMEOUT_MS = 10000 };

/* ---- helpers ---------------------------------------------------------------- */

static int count_open_fds(void)
{
    DIR *fds = opendir("/proc/self/fd");
    if (!fds)
        return -1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(fds));)
        if (entry->d_name[0] != '.')
            count++;
    closedir(fds);
    return count;
}

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

static void fetch(struct fetch_run *run)
{
    fetch_within(run, 8.0, "is every thread joined, and does each fetch end "
                 "when the server closes the connection?");
}

static void assert_fetched(const struct fetch_run *run, size_t i, int status,
                           size_t size)
{
    const struct fetch_result *got = &run->results[i];
    cr_assert_neq(got->error, -1, "results[%zu] (%s) was never filled in: "
                  "every URL must get its result", i, run->urls[i]);
    cr_assert_eq(got->error, 0, "results[%zu] (%s) has error %d (%s), "
                 "expected 0", i, run->urls[i], got->error,
                 strerror(got->error));
    cr_assert(got->status == status && got->size == size, "results[%zu] (%s) "
              "is status %d with %zu bytes, expected status %d with %zu bytes: "
              "each URL's result goes to its own slot, results[i] for urls[i]",
              i, run->urls[i], got->status, got->size, status, size);
}

static void assert_error(const struct fetch_run *run, size_t i, int error,
                         const char *why)
{
    int got = run->results[i].error;
    cr_assert_neq(got, -1, "results[%zu] (%s) was never filled in: every URL "
                  "gets a result, whatever happened to the others", i,
                  run->urls[i]);
    cr_assert_eq(got, error, "results[%zu] (%s) has error %d (%s), expected "
                 "%s (%d): %s", i, run->urls[i], got,
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
    cr_assert_eq(server_peak(server), 3, "%d connections were open at once, "
                 "expected exactly max_in_flight (3)", server_peak(server));
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
    int before = count_open_fds();
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
    int after = count_open_fds();
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
