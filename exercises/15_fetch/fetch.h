/*
 * Exercise 15: fetch many URLs at once, with at most K in flight.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>

/* What became of one URL. */
struct fetch_result {
    /* 0 if a response arrived, else an error number:
     *   EINVAL        not of the form http://A.B.C.D:PORT/path (a numeric
     *                 IPv4 address, a port from 1 to 65535, a path of
     *                 printable characters without spaces)
     *   EPERM         the address is not a loopback address (127.0.0.0/8):
     *                 it is never contacted
     *   ECONNREFUSED  nothing listens on that port
     *   ETIMEDOUT     the server sent nothing for timeout_ms
     *   EPROTO        the reply does not start with a valid status line
     *                 ("HTTP/1.x NNN ...") and a blank line ending the headers
     *   or the errno of another failed socket call. */
    int error;
    int status;      /* the HTTP status code (200, 404, ...) if error == 0 */
    size_t size;     /* bytes of body received if error == 0 */
};

/*
 * Fetches urls[0..count) with HTTP/1.0 GET, with at most `max_in_flight`
 * connections open at the same time, and as many as that at once while
 * enough URLs are left.  results[i] describes urls[i].  A URL that fails
 * gets an error in its result; the others are fetched all the same.
 * Every socket operation waits at most `timeout_ms` milliseconds, so a
 * server that stops answering cannot hold the call forever.
 *
 * Returns when every URL has its result and every thread and socket the call
 * made is gone: 0, or EINVAL if max_in_flight < 1, timeout_ms < 1 or a
 * pointer is NULL while count > 0.  If a thread cannot be created, the
 * threads already running still fetch every URL; only if none could be
 * created is pthread_create's error returned (results then unspecified).
 */
int fetch_all(const char *const *urls, size_t count, int max_in_flight,
              int timeout_ms, struct fetch_result *results);

#endif
