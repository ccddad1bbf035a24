/*
 * Exercise 10: a background logger built on the worker of worker.h.
 */
#ifndef LOGGER_H
#define LOGGER_H

#include <stdio.h>

#include "worker.h"

struct logger {
    struct worker worker;
    FILE *file;
    const char *message;
    long lines;     /* lines written: by the worker thread, read after stop */
    int error;      /* the first write error, 0 if none */
};

/*
 * Opens `path` for appending (creating it if need be) and starts a worker
 * that appends the line "<message> <n>\n" at once and then every
 * `period_seconds`, with n = 1, 2, 3, ...  Each line is flushed as soon as
 * it is written: a reader of the file sees it while the logger runs.
 * `message` must stay valid until logger_stop.
 * Returns 0, the error number of fopen (ENOENT, EACCES, ...) or of
 * worker_start; on error nothing is left open or running.
 */
int logger_start(struct logger *logger, const char *path, const char *message,
                 double period_seconds);

/*
 * Stops the logger promptly, waits for its thread, and closes the file, so
 * that every line written is complete and in the file.  If `lines_written`
 * is not NULL, *lines_written is the number of lines written.  Returns 0,
 * or the first error of writing or closing the file.
 */
int logger_stop(struct logger *logger, long *lines_written);

#endif
