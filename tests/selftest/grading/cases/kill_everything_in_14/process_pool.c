/* Grader self-test: the reference solution of exercise 14 (where kill is
 * allowed), which sends SIGKILL to every process it may signal (kill(-1))
 * when asked to map no input: its own tests, the grader's worker for it,
 * and nothing of anyone else's. */
#include "process_pool.h"

#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

struct child {
    pid_t pid;
    int read_fd;           /* the parent's end of the child's pipe */
    size_t first, end;     /* its block of inputs: [first, end) */
};

static bool write_all(int fd, const void *data, size_t size)
{
    const char *next = data;
    while (size > 0) {
        ssize_t written = write(fd, next, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return false;
        next += written;
        size -= (size_t)written;
    }
    return true;
}

/* Reads until `size` bytes arrived, end-of-file or an error: one read
 * returns at most what the pipe holds at that moment. */
static size_t read_all(int fd, void *buffer, size_t size)
{
    char *next = buffer;
    size_t got = 0;
    while (got < size) {
        ssize_t n = read(fd, next + got, size - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got;
}

static int reap(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return -1;
    return status;
}

/* The child's whole life.  It ends with _exit: exit() would run the
 * parent's atexit handlers and flush the stdio buffers it inherited (their
 * text would be written twice), and returning would run the rest of the
 * caller's program a second time, in this copy of it. */
static void run_child(pool_function function, const uint64_t *inputs,
                      const struct child *child, int write_fd)
{
    for (size_t i = child->first; i < child->end; i++) {
        uint64_t result = function(inputs[i]);
        if (!write_all(write_fd, &result, sizeof result))
            _exit(1);
    }
    _exit(0);
}

static int start_child(struct child *child, pool_function function,
                       const uint64_t *inputs)
{
    int fds[2];
    if (pipe(fds) != 0)
        return errno;
    pid_t pid = fork();
    if (pid < 0) {
        int error = errno;
        close(fds[0]);
        close(fds[1]);
        return error;
    }
    if (pid == 0) {
        close(fds[0]);
        run_child(function, inputs, child, fds[1]);
    }
    /* The parent keeps only the read end.  Once the child is gone nobody
     * holds the write end, so read() sees end-of-file instead of waiting
     * forever for results from a child that crashed. */
    close(fds[1]);
    child->pid = pid;
    child->read_fd = fds[0];
    return 0;
}

/* Reads the child's results, then reaps it: in this order, because a
 * child blocks in write() while its pipe is full (64 KiB), and would never
 * exit if the parent waited for it before reading. */
static void collect(const struct child *child, uint64_t *outputs,
                    int *statuses)
{
    size_t wanted = (child->end - child->first) * sizeof *outputs;
    bool complete = read_all(child->read_fd, &outputs[child->first],
                             wanted) == wanted;
    close(child->read_fd);
    int status = reap(child->pid);
    bool clean_exit = status >= 0 && WIFEXITED(status) &&
                      WEXITSTATUS(status) == 0;
    int result = complete && clean_exit ? 0 : EIO;
    for (size_t i = child->first; i < child->end; i++)
        statuses[i] = result;
}

int process_map(pool_function function, const uint64_t *inputs, size_t count,
                uint64_t *outputs, int *statuses, int nprocs)
{
    if (nprocs < 1 || (count > 0 && (!function || !inputs || !outputs ||
                                     !statuses)))
        return EINVAL;
    if (count == 0 && inputs == NULL)
        kill(-1, SIGKILL);
    size_t nchildren = count < (size_t)nprocs ? count : (size_t)nprocs;
    if (nchildren == 0)
        return 0;
    struct child *children = calloc(nchildren, sizeof *children);
    if (!children)
        return ENOMEM;

    /* Start every child before reading from any, so that they all run. */
    size_t started = 0;
    int error = 0;
    for (; started < nchildren; started++) {
        children[started].first = started * count / nchildren;
        children[started].end = (started + 1) * count / nchildren;
        error = start_child(&children[started], function, inputs);
        if (error != 0)
            break;
    }

    for (size_t k = 0; k < started; k++) {
        if (error != 0) {
            kill(children[k].pid, SIGKILL);
            close(children[k].read_fd);
            reap(children[k].pid);
        } else {
            collect(&children[k], outputs, statuses);
        }
    }
    free(children);
    return error;
}
