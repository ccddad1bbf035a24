/*
 * The test HTTP server of exercise 15 (see support_server.h).  A fixed set
 * of threads each accept and serve one connection at a time; a mutex and a
 * condition variable guard the counts of open connections.  An idle thread
 * sleeps in poll() with no timeout, on the listening socket and on a pipe
 * that server_stop closes: the kit's hang watcher then sees it blocked for
 * good while a fetch_all under test hangs, and names the hang in seconds
 * instead of waiting out the test's own limit.
 */
#include "support_server.h"

#include "clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

enum { SERVER_THREADS = 16, REQUEST_MAX = 4096 };
static const double STALL_SECONDS = 10.0;

struct test_server {
    int listen_fd;
    int stop_pipe[2];              /* server_stop closes [1]: polls wake up */
    int port;
    pthread_t threads[SERVER_THREADS];
    pthread_mutex_t mutex;
    pthread_cond_t changed_cond;   /* open, gave_up or stopping changed */
    int open, peak, accepted;
    int unclosed;                  /* accepted sockets not yet closed */
    int hold_target;
    double hold_give_up;           /* now_seconds() deadline */
    bool hold_reached;             /* hold_target were open at once */
    bool gave_up, stopping;
};

/* ---- counts -------------------------------------------------------------- */

static bool is_stopping(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    bool stopping = server->stopping;
    pthread_mutex_unlock(&server->mutex);
    return stopping;
}

static void connection_opened(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    server->accepted++;
    server->unclosed++;
    if (++server->open > server->peak)
        server->peak = server->open;
    if (server->hold_target > 0 && server->open >= server->hold_target)
        server->hold_reached = true;
    pthread_cond_broadcast(&server->changed_cond);
    pthread_mutex_unlock(&server->mutex);
}

static void connection_closed(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    server->open--;
    pthread_cond_broadcast(&server->changed_cond);
    pthread_mutex_unlock(&server->mutex);
}

/* After close(fd): the server's descriptor is gone too, so a test that
 * counts the process's descriptors once the server is idle sees only the
 * client's. */
static void descriptor_closed(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    server->unclosed--;
    pthread_cond_broadcast(&server->changed_cond);
    pthread_mutex_unlock(&server->mutex);
}

/* Waits on the condition for at most `seconds` (the caller re-checks). */
static void wait_a_while(struct test_server *server, double seconds)
{
    if (seconds <= 0)
        return;
    if (seconds > 0.05)
        seconds = 0.05;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    long nanoseconds = until.tv_nsec + (long)(seconds * 1e9);
    until.tv_sec += nanoseconds / 1000000000L;
    until.tv_nsec = nanoseconds % 1000000000L;
    pthread_cond_timedwait(&server->changed_cond, &server->mutex, &until);
}

/* /hold/: wait until hold_target connections have been open at once, or
 * give up.  Both are latched: the later /hold/ requests pass at once. */
static void hold(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    while (!server->hold_reached && !server->gave_up && !server->stopping) {
        double left = server->hold_give_up - now_seconds();
        if (left <= 0) {
            server->gave_up = true;
            pthread_cond_broadcast(&server->changed_cond);
            break;
        }
        wait_a_while(server, left);
    }
    pthread_mutex_unlock(&server->mutex);
}

/* ---- one connection ----------------------------------------------------- */

static void send_all(int fd, const char *data, size_t size)
{
    while (size > 0) {
        ssize_t sent = send(fd, data, size, MSG_NOSIGNAL);
        if (sent <= 0)
            return;  /* the client hung up: nothing more to do */
        data += sent;
        size -= (size_t)sent;
    }
}

static void send_reply(int fd, int status, const char *reason, size_t size)
{
    char header[128];
    int length = snprintf(header, sizeof header, "HTTP/1.0 %d %s\r\n"
                          "Content-Length: %zu\r\n\r\n", status, reason, size);
    send_all(fd, header, (size_t)length);
    char body[4096];
    memset(body, 'x', sizeof body);
    while (size > 0) {
        size_t chunk = size < sizeof body ? size : sizeof body;
        send_all(fd, body, chunk);
        size -= chunk;
    }
}

/* Reads until the blank line that ends the request; false on failure. */
static bool read_request(int fd, char *request, size_t size)
{
    size_t have = 0;
    while (have + 1 < size) {
        ssize_t n = recv(fd, request + have, size - 1 - have, 0);
        if (n <= 0)
            return false;
        have += (size_t)n;
        request[have] = '\0';
        if (strstr(request, "\r\n\r\n"))
            return true;
    }
    return false;
}

/* Waits until `fd` is readable (true) or the server stops or `timeout_ms`
 * pass (-1: no limit). */
static bool wait_readable(struct test_server *server, int fd, int timeout_ms)
{
    struct pollfd ready[2] = {{.fd = fd, .events = POLLIN},
                              {.fd = server->stop_pipe[0], .events = POLLIN}};
    return poll(ready, 2, timeout_ms) > 0 && ready[0].revents != 0 &&
           ready[1].revents == 0;
}

/* Until the client hangs up, the server stops or STALL_SECONDS pass. */
static void stall(struct test_server *server, int fd)
{
    double give_up = now_seconds() + STALL_SECONDS;
    char byte;
    for (double left; !is_stopping(server) &&
                      (left = give_up - now_seconds()) > 0;) {
        if (wait_readable(server, fd, (int)(left * 1000) + 1) &&
            recv(fd, &byte, 1, 0) <= 0)
            return;
    }
}

static void serve(struct test_server *server, int fd)
{
    struct timeval limit = {.tv_sec = 5};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    char request[REQUEST_MAX], kind[16];
    size_t size = 0;
    if (!read_request(fd, request, sizeof request) ||
        sscanf(request, "GET /%15[a-z]/%zu ", kind, &size) != 2) {
        send_reply(fd, 400, "Bad Request", 0);
        return;
    }
    if (strcmp(kind, "ok") == 0) {
        send_reply(fd, 200, "OK", size);
    } else if (strcmp(kind, "slow") == 0) {
        sleep_seconds(0.02);
        send_reply(fd, 200, "OK", size);
    } else if (strcmp(kind, "hold") == 0) {
        hold(server);
        send_reply(fd, 200, "OK", size);
    } else if (strcmp(kind, "missing") == 0) {
        send_reply(fd, 404, "Not Found", size);
    } else if (strcmp(kind, "bad") == 0) {
        static const char bad[] = "HTPT/1.0 200 OK\r\n\r\nhello";
        send_all(fd, bad, sizeof bad - 1);
    } else if (strcmp(kind, "cut") == 0) {
        static const char cut[] = "HTTP/1.0 2";
        send_all(fd, cut, sizeof cut - 1);
    } else if (strcmp(kind, "stall") == 0) {
        stall(server, fd);
    } else {
        send_reply(fd, 404, "Not Found", 0);
    }
}

static void *server_thread(void *raw)
{
    struct test_server *server = raw;
    while (!is_stopping(server)) {
        if (!wait_readable(server, server->listen_fd, -1))
            continue;
        int fd = accept(server->listen_fd, NULL, NULL);
        if (fd < 0)
            continue;  /* another thread took it (the socket is non-blocking) */
        connection_opened(server);
        serve(server, fd);
        /* Counted as closed before the client can see the end of the reply
         * (and start its next fetch): the server's count of open
         * connections never runs ahead of the client's. */
        connection_closed(server);
        close(fd);
        descriptor_closed(server);
    }
    return NULL;
}

/* ---- the server ----------------------------------------------------------- */

static int listen_on_loopback(int *port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in address = {.sin_family = AF_INET};
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (bind(fd, (struct sockaddr *)&address, sizeof address) != 0 ||
        getsockname(fd, (struct sockaddr *)&address, &length) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(address.sin_port);
    return fd;
}

struct test_server *server_start(void)
{
    struct test_server *server = calloc(1, sizeof *server);
    if (!server)
        return NULL;
    server->listen_fd = listen_on_loopback(&server->port);
    if (server->listen_fd < 0 || listen(server->listen_fd, 128) != 0 ||
        fcntl(server->listen_fd, F_SETFL, O_NONBLOCK) != 0 ||
        pipe(server->stop_pipe) != 0) {
        if (server->listen_fd >= 0)
            close(server->listen_fd);
        free(server);
        return NULL;
    }
    pthread_mutex_init(&server->mutex, NULL);
    pthread_cond_init(&server->changed_cond, NULL);
    for (int i = 0; i < SERVER_THREADS; i++)
        if (pthread_create(&server->threads[i], NULL, server_thread,
                           server) != 0)
            abort();  /* a test cannot run without its server */
    return server;
}

void server_stop(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    server->stopping = true;
    pthread_cond_broadcast(&server->changed_cond);
    pthread_mutex_unlock(&server->mutex);
    close(server->stop_pipe[1]);   /* every poll on [0] returns now */
    for (int i = 0; i < SERVER_THREADS; i++)
        pthread_join(server->threads[i], NULL);
    close(server->stop_pipe[0]);
    close(server->listen_fd);
    pthread_cond_destroy(&server->changed_cond);
    pthread_mutex_destroy(&server->mutex);
    free(server);
}

void server_url(const struct test_server *server, const char *path, char *url,
                size_t size)
{
    snprintf(url, size, "http://127.0.0.1:%d%s", server->port, path);
}

void server_hold_until(struct test_server *server, int connections,
                       double give_up_seconds)
{
    pthread_mutex_lock(&server->mutex);
    server->hold_target = connections;
    server->hold_give_up = now_seconds() + give_up_seconds;
    server->hold_reached = server->open >= connections;
    server->gave_up = false;
    pthread_mutex_unlock(&server->mutex);
}

bool server_gave_up(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    bool gave_up = server->gave_up;
    pthread_mutex_unlock(&server->mutex);
    return gave_up;
}

int server_peak(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    int peak = server->peak;
    pthread_mutex_unlock(&server->mutex);
    return peak;
}

int server_accepted(struct test_server *server)
{
    pthread_mutex_lock(&server->mutex);
    int accepted = server->accepted;
    pthread_mutex_unlock(&server->mutex);
    return accepted;
}

bool server_wait_idle(struct test_server *server, double seconds)
{
    double give_up = now_seconds() + seconds;
    pthread_mutex_lock(&server->mutex);
    while (server->unclosed > 0 && now_seconds() < give_up)
        wait_a_while(server, give_up - now_seconds());
    bool idle = server->unclosed == 0;
    pthread_mutex_unlock(&server->mutex);
    return idle;
}

int unused_port(void)
{
    int port = -1;
    int fd = listen_on_loopback(&port);
    if (fd < 0)
        return -1;
    close(fd);  /* nothing listens there now: connecting is refused */
    return port;
}
