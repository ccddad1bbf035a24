/*
 * Exercise 15, solved: at most K worker threads fetch the URLs, each taking
 * the next index from a counter shared under a mutex.
 */
#include "fetch.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

enum { PATH_MAX_LENGTH = 2000, HEADER_MAX = 4096 };

/* ---- one URL ------------------------------------------------------------ */

/* Splits http://A.B.C.D:PORT/path into an address and a path. */
static int parse_url(const char *url, struct sockaddr_in *address,
                     const char **path)
{
    static const char scheme[] = "http://";
    if (strncmp(url, scheme, sizeof scheme - 1) != 0)
        return EINVAL;
    const char *host = url + sizeof scheme - 1;
    const char *colon = strchr(host, ':');
    if (!colon || colon == host || colon - host >= INET_ADDRSTRLEN)
        return EINVAL;
    char host_text[INET_ADDRSTRLEN];
    memcpy(host_text, host, (size_t)(colon - host));
    host_text[colon - host] = '\0';
    memset(address, 0, sizeof *address);
    address->sin_family = AF_INET;
    if (inet_pton(AF_INET, host_text, &address->sin_addr) != 1)
        return EINVAL;

    const char *next = colon + 1;
    unsigned long port = 0;
    for (int digits = 0; isdigit((unsigned char)*next) && digits < 6; digits++)
        port = port * 10 + (unsigned long)(*next++ - '0');
    if (port < 1 || port > 65535 || *next != '/' ||
        strlen(next) > PATH_MAX_LENGTH)
        return EINVAL;
    for (const char *c = next; *c; c++)
        if (!isgraph((unsigned char)*c))
            return EINVAL;  /* no spaces or line breaks in the request line */
    address->sin_port = htons((uint16_t)port);
    *path = next;

    /* The kit may only ever talk to this machine. */
    if ((ntohl(address->sin_addr.s_addr) >> 24) != 127)
        return EPERM;
    return 0;
}

/* A socket call that ran out of time says EAGAIN (or EINPROGRESS for
 * connect); the caller wants to hear ETIMEDOUT. */
static int socket_error(int error)
{
    return error == EAGAIN || error == EWOULDBLOCK || error == EINPROGRESS
               ? ETIMEDOUT
               : error;
}

static int open_connection(const struct sockaddr_in *address, int timeout_ms,
                           int *fd_out)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return errno;
    /* Bounds every recv, and every send and connect, on this socket. */
    struct timeval limit = {.tv_sec = timeout_ms / 1000,
                            .tv_usec = (timeout_ms % 1000) * 1000};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit) != 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit) != 0 ||
        connect(fd, (const struct sockaddr *)address, sizeof *address) != 0) {
        int error = socket_error(errno);
        close(fd);
        return error;
    }
    *fd_out = fd;
    return 0;
}

static int send_request(int fd, const char *path)
{
    char request[PATH_MAX_LENGTH + 64];
    int length = snprintf(request, sizeof request,
                          "GET %s HTTP/1.0\r\n\r\n", path);
    for (int sent = 0; sent < length;) {
        /* MSG_NOSIGNAL: a server that hung up gives EPIPE, not SIGPIPE. */
        ssize_t n = send(fd, request + sent, (size_t)(length - sent),
                         MSG_NOSIGNAL);
        if (n < 0 && errno != EINTR)
            return socket_error(errno);
        if (n > 0)
            sent += (int)n;
    }
    return 0;
}

/* "HTTP/1.x NNN" followed by a space or the end of the line. */
static bool parse_status_line(const char *line, int *status)
{
    if (strncmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
        line[8] != ' ')
        return false;
    for (int i = 9; i < 12; i++)
        if (!isdigit((unsigned char)line[i]))
            return false;
    if (line[12] != ' ' && line[12] != '\r')
        return false;
    *status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
    return true;
}

/* Reads the headers into a buffer, then counts the body's bytes until the
 * server closes the connection (HTTP/1.0). */
static int read_response(int fd, struct fetch_result *result)
{
    char buffer[HEADER_MAX + 1];
    size_t have = 0;
    char *headers_end = NULL;
    while (!headers_end) {
        if (have == HEADER_MAX)
            return EPROTO;
        ssize_t n = recv(fd, buffer + have, HEADER_MAX - have, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return socket_error(errno);
        if (n == 0)
            return EPROTO;  /* closed before the end of the headers */
        have += (size_t)n;
        buffer[have] = '\0';
        headers_end = strstr(buffer, "\r\n\r\n");
    }
    if (!parse_status_line(buffer, &result->status))
        return EPROTO;
    size_t size = have - (size_t)(headers_end + 4 - buffer);
    for (;;) {
        ssize_t n = recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return socket_error(errno);
        if (n == 0)
            break;
        size += (size_t)n;
    }
    result->size = size;
    return 0;
}

static struct fetch_result fetch_one(const char *url, int timeout_ms)
{
    struct fetch_result result = {0, 0, 0};
    struct sockaddr_in address;
    const char *path;
    int fd = -1;
    result.error = parse_url(url, &address, &path);
    if (result.error == 0)
        result.error = open_connection(&address, timeout_ms, &fd);
    if (result.error != 0)
        return result;
    result.error = send_request(fd, path);
    if (result.error == 0)
        result.error = read_response(fd, &result);
    close(fd);
    return result;
}

/* ---- many URLs, at most K at a time ---------------------------------------- */

struct fetch_job {
    const char *const *urls;
    size_t count;
    int timeout_ms;
    struct fetch_result *results;
    pthread_mutex_t mutex;
    size_t next;            /* the next URL to take; guarded by mutex */
};

/* Each worker holds at most one connection, so K workers never have more
 * than K in flight. */
static void *fetch_worker(void *raw)
{
    struct fetch_job *job = raw;
    for (;;) {
        pthread_mutex_lock(&job->mutex);
        size_t i = job->next;
        if (i < job->count)
            job->next++;
        pthread_mutex_unlock(&job->mutex);
        if (i >= job->count)
            return NULL;
        /* Slot i is this worker's alone: no lock needed to fill it. */
        job->results[i] = fetch_one(job->urls[i], job->timeout_ms);
    }
}

int fetch_all(const char *const *urls, size_t count, int max_in_flight,
              int timeout_ms, struct fetch_result *results)
{
    if (max_in_flight < 1 || timeout_ms < 1 ||
        (count > 0 && (!urls || !results)))
        return EINVAL;
    size_t nworkers = count < (size_t)max_in_flight ? count
                                                    : (size_t)max_in_flight;
    if (nworkers == 0)
        return 0;
    pthread_t *workers = malloc(nworkers * sizeof *workers);
    if (!workers)
        return ENOMEM;
    struct fetch_job job = {urls, count, timeout_ms, results,
                            PTHREAD_MUTEX_INITIALIZER, 0};

    size_t started = 0;
    int error = 0;
    while (started < nworkers) {
        error = pthread_create(&workers[started], NULL, fetch_worker, &job);
        if (error != 0)
            break;
        started++;
    }
    /* Fewer workers than asked still take every URL, one after another. */
    for (size_t i = 0; i < started; i++)
        pthread_join(workers[i], NULL);
    free(workers);
    pthread_mutex_destroy(&job.mutex);
    return started > 0 ? 0 : error;
}
