/*
 * Exercise 10, solved: a logger that appends a flushed line every period
 * and, when stopped, joins its worker before closing the file.
 */
#include "logger.h"

#include <errno.h>

/* Runs on the worker thread, which alone touches the file until stop. */
static void write_line(void *raw)
{
    struct logger *logger = raw;
    if (logger->error != 0)
        return;
    long number = logger->lines + 1;
    /* fflush: the whole line reaches the file now, not when stdio's buffer
     * happens to fill up (or never, if the program is cut off). */
    if (fprintf(logger->file, "%s %ld\n", logger->message, number) < 0 ||
        fflush(logger->file) != 0) {
        logger->error = errno != 0 ? errno : EIO;
        return;
    }
    logger->lines = number;
}

int logger_start(struct logger *logger, const char *path, const char *message,
                 double period_seconds)
{
    logger->message = message;
    logger->lines = 0;
    logger->error = 0;
    logger->file = fopen(path, "a");
    if (logger->file == NULL)
        return errno;
    int error = worker_start(&logger->worker, period_seconds, write_line,
                             logger);
    if (error != 0)
        fclose(logger->file);
    return error;
}

int logger_stop(struct logger *logger, long *lines_written)
{
    /* Join first: the worker may be writing a line right now. */
    int error = worker_stop(&logger->worker);
    if (fclose(logger->file) != 0 && error == 0)
        error = errno;
    if (logger->error != 0)
        error = logger->error;
    if (lines_written != NULL)
        *lines_written = logger->lines;
    return error;
}
