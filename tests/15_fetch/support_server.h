/*
 * A small HTTP/1.0 server on 127.0.0.1 for exercise 15's tests and workload.
 * Its threads are all started by server_start, so a test that injects a
 * pthread_create failure afterwards only ever hits the code under test.
 *
 * Paths it answers (N is the size of the body, in bytes):
 *   /ok/N       200 and N bytes, at once
 *   /slow/N     the same after 20 ms
 *   /hold/N     200 and N bytes, but only once server_hold_until's number of
 *               connections are open at the same time; if that has not
 *               happened when its give-up time comes, the server gives up
 *               and answers every /hold/ request from then on at once
 *   /missing/N  404 and N bytes
 *   /bad/N      a reply whose first line is not an HTTP status line
 *   /cut/N      half a status line, then it hangs up
 *   /stall/N    reads the request and never answers (until the client hangs
 *               up, the server stops, or 10 s pass)
 */
#ifndef SUPPORT_SERVER_H
#define SUPPORT_SERVER_H

#include <stdbool.h>
#include <stddef.h>

struct test_server;

/* Listens on 127.0.0.1 at a free port; NULL if it cannot. */
struct test_server *server_start(void);
/* Stops every server thread and closes every socket of the server. */
void server_stop(struct test_server *server);

/* "http://127.0.0.1:PORT" followed by `path`, written to url[size]. */
void server_url(const struct test_server *server, const char *path, char *url,
                size_t size);

/* /hold/ requests wait until `connections` are open at once (or until
 * `give_up_seconds` from now have passed). */
void server_hold_until(struct test_server *server, int connections,
                       double give_up_seconds);
bool server_gave_up(struct test_server *server);
/* The most connections that were open at the same time, and how many were
 * accepted in all, since the server started. */
int server_peak(struct test_server *server);
int server_accepted(struct test_server *server);
/* Waits until no connection is open and the server has closed every
 * socket it accepted. */
bool server_wait_idle(struct test_server *server, double seconds);

/* A port on 127.0.0.1 where nothing listens: bound once, then closed. */
int unused_port(void);

#endif
