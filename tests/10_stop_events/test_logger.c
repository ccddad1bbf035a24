/* Tests for exercise 10: the background logger writes whole, flushed lines
 * and loses none when stopped.  Its files live in a fresh temporary
 * directory, removed before the test's checks. */

/*
 * Concurrency matrix:
 *   logger_stop    vs the worker writing a line: loses_no_line_when_stopped,
 *                  workload; readers of the file while it writes:
 *                  each_line_reaches_the_file_at_once
 * Error paths (each: error returned, nothing left open or running):
 *   fopen fails (no directory: ENOENT)  reports_a_file_it_cannot_open
 *   fopen fails (injected EMFILE)       reports_an_fopen_failure
 *   pthread_create fails after fopen    a_failed_start_closes_its_file
 *   every write fails (/dev/full)       reports_a_write_error (ENOSPC, 0
 *                                       lines written)
 *   the file is closed by stop          stop_closes_the_file
 */

#include "harness.h"
#include "logger.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const double STOP_LIMIT = 1.5;
static const double GRACE = 2.0;

static struct logger logger;
static char directory[256];
static char path[300];

static void make_log_path(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(directory, sizeof directory, "%s/threadlings-log-XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    cr_assert_not_null(mkdtemp(directory), "could not make a temporary "
                       "directory (%s)", strerror(errno));
    snprintf(path, sizeof path, "%s/log.txt", directory);
}

static void remove_log(void)
{
    unlink(path);
    rmdir(directory);
}

/* The whole file, or "" if it does not exist. */
static char log_text[64 * 1024];

static const char *read_log(void)
{
    log_text[0] = '\0';
    FILE *file = fopen(path, "r");
    if (file) {
        size_t length = fread(log_text, 1, sizeof log_text - 1, file);
        log_text[length] = '\0';
        fclose(file);
    }
    return log_text;
}

static bool log_starts_with(const char *expected, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (strncmp(read_log(), expected, strlen(expected)) != 0) {
        if (now_seconds() > give_up)
            return false;
        sleep_seconds(0.005);
    }
    return true;
}

/* The harness's count (failures.h). */

static long lines_written = -1;
static int stop_error = -1;

static void *call_logger_stop(void *unused)
{
    (void)unused;
    stop_error = logger_stop(&logger, &lines_written);
    return NULL;
}

/* How long a test waits for a stop before giving up on it: long enough
 * for the kit's hang watcher, which ignores waits that end within 5 s and
 * needs 3 s to call a loop a spin, to see a stop that deadlocks or spins
 * and name its line (and within the 10 s limit of the shortest test).  Whether the stop was prompt is decided by the
 * time it took. */
static const double STOP_WAIT = 9.5;

/* Stops the logger; true if logger_stop returned within `limit`. */
static bool stop_logger_within(double limit)
{
    static struct async_call stop;
    async_start(&stop, call_logger_stop, NULL);
    double started = now_seconds();
    bool returned = async_wait(&stop, STOP_WAIT);
    double took = now_seconds() - started;
    async_finish(&stop);
    return returned && took <= limit;
}

static void start_logger(double period)
{
    make_log_path();
    int error = logger_start(&logger, path, "tick", period);
    if (error != 0)
        remove_log();
    cr_assert_eq(error, 0, "logger_start returned %d (%s), expected 0", error,
                 strerror(error));
}

/* `text` fit for a failure message: Criterion's JSON report does not
 * escape quotes or newlines, so they are replaced. */
static const char *printable(const char *text)
{
    static char shown[80];
    size_t i = 0;
    for (; text[i] && i < sizeof shown - 1; i++)
        shown[i] = text[i] == '\n' ? '/' : text[i] == '"' ? '\'' :
                   text[i] == '\\' ? '/' : text[i];
    shown[i] = '\0';
    return shown;
}

/* Counts the lines of log_text that are exactly "tick 1", "tick 2", ...
 * in order; -1 if some line is not (a broken or missing line). */
static long count_whole_lines(char *bad_line, size_t size)
{
    long count = 0;
    const char *line = log_text;
    while (*line) {
        const char *end = strchr(line, '\n');
        char expected[64];
        snprintf(expected, sizeof expected, "tick %ld", count + 1);
        size_t length = end ? (size_t)(end - line) : strlen(line);
        if (!end || length != strlen(expected) ||
            strncmp(line, expected, length) != 0) {
            int shown = (int)(length < 40 ? length : 40);
            snprintf(bad_line, size, "%.*s%s", shown, line,
                     end ? "" : " (no newline)");
            return -1;
        }
        count++;
        line = end + 1;
    }
    return count;
}

EXERCISE_TEST(logger, each_line_reaches_the_file_at_once, 20,
              "logger_stop never returned")
{
    start_logger(5.0);
    bool seen = log_starts_with("tick 1\n", GRACE);
    bool prompt = stop_logger_within(STOP_LIMIT);
    read_log();
    remove_log();
    cr_assert(seen, "%.0f s after logger_start the file still did not hold "
              "the line 'tick 1': the line waits in stdio's buffer; fflush "
              "the file after each line", GRACE);
    cr_assert(prompt, "logger_stop had not returned %.1f s after it was "
              "called, with a 5 s period: the worker must wake up when "
              "stopped (see worker_stop)", STOP_LIMIT);
    cr_assert_eq(stop_error, 0, "logger_stop returned %d, expected 0",
                 stop_error);
    cr_assert_eq(lines_written, 1, "logger_stop reported %ld lines, but with "
                 "a 5 s period only one was due: a wake-up that is neither a "
                 "stop nor the end of the period (they can be spurious) must "
                 "not start a run: wait in a `while` loop", lines_written);
    cr_assert_str_eq(log_text, "tick 1\n", "the file holds '%s' (/ marks a "
                     "newline), expected 'tick 1/'", printable(log_text));
}

EXERCISE_TEST(logger, loses_no_line_when_stopped, 20,
              "logger_stop never returned")
{
    start_logger(0.01);
    sleep_seconds(0.3);
    bool returned = stop_logger_within(STOP_LIMIT);
    read_log();
    remove_log();
    cr_assert(returned, "logger_stop had not returned %.1f s after it was "
              "called, with a 0.01 s period", STOP_LIMIT);
    cr_assert_eq(stop_error, 0, "logger_stop returned %d, expected 0",
                 stop_error);
    cr_assert_geq(lines_written, 1, "the logger wrote no line in 0.3 s: write "
                  "the first line at once");
    char bad_line[64] = "";
    long whole = count_whole_lines(bad_line, sizeof bad_line);
    cr_assert_geq(whole, 0, "the file holds a broken line '%s': every line "
                  "must be 'tick <n>', whole, numbered from 1",
                  printable(bad_line));
    cr_assert_eq(whole, lines_written, "after logger_stop the file holds %ld "
                 "lines, but the logger wrote %ld: lines still in stdio's "
                 "buffer are lost unless the file is flushed or closed "
                 "(close it in logger_stop, after the worker has stopped)",
                 whole, lines_written);
}

EXERCISE_TEST(logger, stop_closes_the_file, 20, "logger_stop never returned")
{
    int before = harness_count_open_fds();
    start_logger(0.05);
    bool returned = stop_logger_within(STOP_LIMIT + GRACE);
    int after = harness_count_open_fds();
    remove_log();
    cr_assert(returned, "logger_stop never returned");
    cr_assert_eq(after, before, "logger_stop left %d more file descriptor(s) "
                 "open than before logger_start: fclose the file (it also "
                 "flushes what is still buffered)", after - before);
}

EXERCISE_TEST(logger, reports_a_file_it_cannot_open, 10,
              "logger_start never returned for a path it cannot open")
{
    make_log_path();
    char missing[400];
    snprintf(missing, sizeof missing, "%s/no-such-directory/log.txt",
             directory);
    int threads = count_process_threads();
    int error = logger_start(&logger, missing, "tick", 1.0);
    int threads_after = count_process_threads();
    remove_log();
    cr_assert_eq(error, ENOENT, "logger_start returned %d for a path in a "
                 "directory that does not exist, expected ENOENT (%d): "
                 "return the errno of fopen", error, ENOENT);
    cr_assert_eq(threads_after, threads, "logger_start failed but left a "
                 "thread running: start the worker only once the file is "
                 "open");
}

EXERCISE_TEST(logger, a_failed_start_closes_its_file, 10,
              "logger_start never returned when pthread_create failed")
{
    make_log_path();
    int before = harness_count_open_fds();
    harness_fail_pthread_create_after(0);
    int error = logger_start(&logger, path, "tick", 1.0);
    harness_fail_pthread_create_after(-1);
    int after = harness_count_open_fds();
    remove_log();
    cr_assert_eq(error, EAGAIN, "logger_start returned %d when "
                 "pthread_create failed with EAGAIN (%d): return the error "
                 "of worker_start", error, EAGAIN);
    cr_assert_eq(after, before, "logger_start failed (its thread could not "
                 "start) but left %d more descriptor(s) open than before: "
                 "on error nothing may stay open, fclose the file it "
                 "opened", after - before);
}

/* /dev/full accepts the open and fails every write with ENOSPC. */
EXERCISE_TEST(logger, reports_a_write_error, 10,
              "logger_stop never returned after writes failed")
{
    int error = logger_start(&logger, "/dev/full", "tick", 0.02);
    cr_assert_eq(error, 0, "logger_start(\"/dev/full\") returned %d, "
                 "expected 0 (the file opens; only writes fail)", error);
    sleep_seconds(0.1);
    lines_written = -1;
    bool returned = stop_logger_within(STOP_LIMIT + GRACE);
    cr_assert(returned, "logger_stop never returned");
    cr_assert_eq(stop_error, ENOSPC, "every write to /dev/full failed with "
                 "ENOSPC (%d), and logger_stop returned %d: return the first "
                 "error of writing (fprintf or fflush return it in errno) or "
                 "of fclose", ENOSPC, stop_error);
    cr_assert_eq(lines_written, 0, "no line reached /dev/full but "
                 "logger_stop reported %ld lines written: count a line only "
                 "once fprintf and fflush succeeded", lines_written);
}

EXERCISE_TEST(logger, reports_an_fopen_failure, 10,
              "logger_start never returned when fopen failed")
{
    make_log_path();
    int threads = count_process_threads();
    harness_fail_call_after(HARNESS_OPEN, 0, EMFILE);
    int error = logger_start(&logger, path, "tick", 1.0);
    harness_fail_call_after(HARNESS_OPEN, -1, 0);
    int threads_after = count_process_threads();
    remove_log();
    cr_assert_eq(error, EMFILE, "fopen failed with EMFILE (%d: too many "
                 "open files) and logger_start returned %d: return fopen's "
                 "errno", EMFILE, error);
    cr_assert_eq(threads_after, threads, "logger_start failed but left a "
                 "thread running: start the worker only once the file is "
                 "open");
}
