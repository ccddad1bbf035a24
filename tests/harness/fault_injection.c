/*
 * pthread_create, wrapped for tests.
 *  - Fault injection: pthread_create can fail (EAGAIN when the system is
 *    out of threads).  A test arms one call to fail and checks that the code
 *    reports the error and leaves no thread behind.
 *  - Creation order: each thread learns the number of the pthread_create
 *    call that made it, so a test can hold exactly the first (or last)
 *    thread the code created and check that it is joined.
 *  - Held starts: new threads can be held before they run a single line of
 *    their start function until the creator has made n threads, so that
 *    code which passes every thread the address of its loop variable reads
 *    the variable after the loop moved on, on every run, not by luck.
 *    Or held until the creator calls pthread_join: code that wakes its
 *    threads once, before they wait (a start signal with no flag), loses
 *    that wake-up on every run, not only when a thread starts late.
 */
#define _GNU_SOURCE
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

void *__real_malloc(size_t size);
void __real_free(void *block);

/* What a failed pthread_create leaves in *thread: the address of this
 * object, which no real thread has. */
static const char never_created_marker;
static pthread_t never_created_thread(void)
{
    return (pthread_t)(uintptr_t)&never_created_marker;
}

/* The harness's own unlock: a test that holds threads after an unlock
 * (interleavings.h) must not hold a new thread here, before its start. */
int __real_pthread_mutex_unlock(pthread_mutex_t *mutex);
int __real_pthread_mutex_lock(pthread_mutex_t *mutex);
int __real_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument);

static atomic_int calls;
static atomic_int failing_call = -1;
static _Thread_local int creation_number = -1;

static pthread_mutex_t hold_mutex = PTHREAD_MUTEX_INITIALIZER;
static int hold_until_calls = -1;   /* -1: nobody is held */
static bool hold_until_join;
static atomic_bool join_called;
static double hold_give_up;        /* now_seconds() deadline */

static bool held(void)
{
    if (hold_until_join)
        return !atomic_load(&join_called);
    return hold_until_calls >= 0 && atomic_load(&calls) < hold_until_calls;
}

/* Polls: what it waits for changes outside any lock.  A held thread
 * sleeps, so the hang watcher never mistakes it for a deadlock. */
static void wait_while_held(void)
{
    __real_pthread_mutex_lock(&hold_mutex);
    while (held() && now_seconds() < hold_give_up) {
        __real_pthread_mutex_unlock(&hold_mutex);
        sleep_seconds(0.001);
        __real_pthread_mutex_lock(&hold_mutex);
    }
    __real_pthread_mutex_unlock(&hold_mutex);
}

struct numbered_start {
    void *(*start)(void *);
    void *argument;
    int number;
};

static void *start_numbered(void *raw)
{
    struct numbered_start numbered = *(struct numbered_start *)raw;
    __real_free(raw);
    creation_number = numbered.number;
    wait_while_held();
    return numbered.start(numbered.argument);
}

int __wrap_pthread_create(pthread_t *thread, const pthread_attr_t *attributes,
                          void *(*start)(void *), void *argument)
{
    int call = atomic_fetch_add(&calls, 1);
    if (call == atomic_load(&failing_call)) {
        /* Marked, so that a detach or join of it is caught (failures.h). */
        *thread = never_created_thread();
        return EAGAIN;
    }
    struct numbered_start *numbered = __real_malloc(sizeof *numbered);
    if (!numbered)
        return EAGAIN;
    *numbered = (struct numbered_start){start, argument, call};
    int error = __real_pthread_create(thread, attributes, start_numbered,
                                      numbered);
    if (error)
        __real_free(numbered);
    return error;
}

void harness_fail_pthread_create_after(int successes)
{
    atomic_store(&failing_call,
                 successes < 0 ? -1 : atomic_load(&calls) + successes);
}

int harness_pthread_create_calls(void) { return atomic_load(&calls); }

int harness_creation_number(void) { return creation_number; }

void harness_hold_new_threads(int created, double seconds)
{
    pthread_mutex_lock(&hold_mutex);
    hold_until_join = false;
    hold_until_calls = created < 0 ? -1 : atomic_load(&calls) + created;
    hold_give_up = now_seconds() + seconds;
    pthread_mutex_unlock(&hold_mutex);
}

void harness_hold_new_threads_until_joined(double seconds)
{
    pthread_mutex_lock(&hold_mutex);
    atomic_store(&join_called, false);
    hold_until_join = true;
    hold_give_up = now_seconds() + seconds;
    pthread_mutex_unlock(&hold_mutex);
}

/* ---- other calls that can fail (failures.h) ------------------------------ */

int __real_pthread_detach(pthread_t thread);
int __real_pthread_join(pthread_t thread, void **result);
pid_t __real_fork(void);
int __real_pipe(int fds[2]);
void *__real_calloc(size_t count, size_t size);
void *__real_realloc(void *block, size_t size);
int __real_open(const char *path, int flags, ...);
FILE *__real_fopen(const char *path, const char *mode);
ssize_t __real_read(int fd, void *buffer, size_t size);

static atomic_int uncreated_uses;

/* Always a bug (undefined behaviour: with a garbage pthread_t it crashes
 * sometimes, not always), so the test ends here, every run, with a note
 * that says what happened. */
static int refuse_uncreated(const char *call)
{
    atomic_fetch_add(&uncreated_uses, 1);
    harness_note("%s was called on a thread that pthread_create failed to "
                 "create (it returned an error): there is no such thread. "
                 "Only a thread whose pthread_create returned 0 may be "
                 "joined or detached", call);
    abort();
    return ESRCH;
}

int __wrap_pthread_detach(pthread_t thread)
{
    if (pthread_equal(thread, never_created_thread()))
        return refuse_uncreated("pthread_detach");
    return __real_pthread_detach(thread);
}

int __wrap_pthread_join(pthread_t thread, void **result)
{
    if (pthread_equal(thread, never_created_thread()))
        return refuse_uncreated("pthread_join");
    atomic_store(&join_called, true);
    return __real_pthread_join(thread, result);
}

int harness_uses_of_uncreated_threads(void)
{
    return atomic_load(&uncreated_uses);
}

static atomic_int kind_calls[HARNESS_CALL_KINDS];
static atomic_int kind_failing_call[HARNESS_CALL_KINDS] = {-1, -1, -1, -1};
static atomic_int kind_error[HARNESS_CALL_KINDS];

void harness_fail_call_after(enum harness_call kind, int successes, int error)
{
    atomic_store(&kind_error[kind], error);
    atomic_store(&kind_failing_call[kind],
                 successes < 0 ? -1 : atomic_load(&kind_calls[kind]) +
                                          successes);
}

int harness_calls(enum harness_call kind)
{
    return atomic_load(&kind_calls[kind]);
}

/* Counts the call; true (with errno set) if this one is to fail. */
static bool call_fails(enum harness_call kind)
{
    int call = atomic_fetch_add(&kind_calls[kind], 1);
    if (call != atomic_load(&kind_failing_call[kind]))
        return false;
    errno = atomic_load(&kind_error[kind]);
    return true;
}

pid_t __wrap_fork(void)
{
    return call_fails(HARNESS_FORK) ? -1 : __real_fork();
}

int __wrap_pipe(int fds[2])
{
    return call_fails(HARNESS_PIPE) ? -1 : __real_pipe(fds);
}

int __wrap_open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (flags & O_CREAT) {
        va_list args;
        va_start(args, flags);
        mode = (mode_t)va_arg(args, int);
        va_end(args);
    }
    return call_fails(HARNESS_OPEN) ? -1 : __real_open(path, flags, mode);
}

FILE *__wrap_fopen(const char *path, const char *mode)
{
    return call_fails(HARNESS_OPEN) ? NULL : __real_fopen(path, mode);
}

static atomic_size_t read_limit;

void harness_short_reads(size_t most) { atomic_store(&read_limit, most); }

ssize_t __wrap_read(int fd, void *buffer, size_t size)
{
    size_t most = atomic_load(&read_limit);
    return __real_read(fd, buffer, most > 0 && size > most ? most : size);
}

/* ---- watched allocations --------------------------------------------------
 * A small table of the blocks allocated while watched; free() of any other
 * block only costs a look at `live`. */
enum { TRACKED_MOST = 4096 };
static pthread_mutex_t tracked_mutex = PTHREAD_MUTEX_INITIALIZER;
static void *tracked[TRACKED_MOST];
static atomic_long live;
static atomic_bool watching;

void harness_watch_allocations(bool on) { atomic_store(&watching, on); }

long harness_live_allocations(void) { return atomic_load(&live); }

static void track(void *block)
{
    pthread_mutex_lock(&tracked_mutex);
    for (int i = 0; i < TRACKED_MOST; i++)
        if (tracked[i] == NULL) {
            tracked[i] = block;
            atomic_fetch_add(&live, 1);
            break;
        }
    pthread_mutex_unlock(&tracked_mutex);
}

static void untrack(void *block)
{
    if (block == NULL || atomic_load(&live) == 0)
        return;
    pthread_mutex_lock(&tracked_mutex);
    for (int i = 0; i < TRACKED_MOST; i++)
        if (tracked[i] == block) {
            tracked[i] = NULL;
            atomic_fetch_sub(&live, 1);
            break;
        }
    pthread_mutex_unlock(&tracked_mutex);
}

/* True if this allocation is watched and is to fail (errno set). */
static bool watched_allocation_fails(void)
{
    return atomic_load(&watching) && call_fails(HARNESS_ALLOC);
}

void *__wrap_malloc(size_t size)
{
    if (watched_allocation_fails())
        return NULL;
    void *block = __real_malloc(size);
    if (block != NULL && atomic_load(&watching))
        track(block);
    return block;
}

void *__wrap_calloc(size_t count, size_t size)
{
    if (watched_allocation_fails())
        return NULL;
    void *block = __real_calloc(count, size);
    if (block != NULL && atomic_load(&watching))
        track(block);
    return block;
}

void *__wrap_realloc(void *old, size_t size)
{
    if (watched_allocation_fails())
        return NULL;
    void *block = __real_realloc(old, size);
    if (block != NULL) {
        untrack(old);
        if (atomic_load(&watching))
            track(block);
    }
    return block;
}

void __wrap_free(void *block)
{
    untrack(block);
    __real_free(block);
}

/* ---- what the process holds ---------------------------------------------- */

/* Criterion's own messaging (nanomsg) holds event descriptors and a
 * unix-domain socket to the runner, and its sandbox (BoxFort) holds one or
 * two descriptors of a deleted /dev/shm/bxf_arena_<pid> file; both open and
 * close some of them while a test runs (15's closes_every_socket once
 * counted two more before fetch_all than after, and once the same number
 * although the code had leaked two sockets).  The code under test may
 * create none of these kinds (the object policy allows no eventfd, epoll,
 * socketpair or shared memory, and 15 makes internet sockets), so they are
 * not counted. */
static bool made_by_criterion(int directory, const char *name)
{
    char target[64];
    ssize_t length = readlinkat(directory, name, target, sizeof target - 1);
    if (length <= 0)
        return false;
    target[length] = '\0';
    if (strncmp(target, "anon_inode:", 11) == 0 ||
        strncmp(target, "/dev/shm/bxf_", 13) == 0)
        return true;
    int domain = 0;
    socklen_t size = sizeof domain;
    return strncmp(target, "socket:", 7) == 0 &&
           getsockopt(atoi(name), SOL_SOCKET, SO_DOMAIN, &domain, &size) == 0 &&
           domain == AF_UNIX;
}

int harness_count_open_fds(void)
{
    DIR *entries = opendir("/proc/self/fd");
    if (!entries)
        return -1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(entries));)
        if (entry->d_name[0] != '.' && !made_by_criterion(dirfd(entries),
                                                       entry->d_name))
            count++;
    closedir(entries);
    return count;
}

bool harness_no_children_left(void)
{
    errno = 0;
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* ---- clocks -------------------------------------------------------------- */

int __real_pthread_cond_timedwait(pthread_cond_t *cond, pthread_mutex_t *mutex,
                                  const struct timespec *deadline);

double harness_monotonic_wait_seconds(pthread_cond_t *cond,
                                      pthread_mutex_t *mutex, double seconds)
{
    struct timespec deadline;
    clock_gettime(CLOCK_MONOTONIC, &deadline);
    long nanoseconds = (long)(seconds * 1e9);
    deadline.tv_sec += nanoseconds / 1000000000L;
    deadline.tv_nsec += nanoseconds % 1000000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    double start = now_seconds();
    pthread_mutex_lock(mutex);
    /* A real spurious wake-up before the deadline just waits again. */
    while (__real_pthread_cond_timedwait(cond, mutex, &deadline) == 0 &&
           now_seconds() - start < seconds)
        continue;
    pthread_mutex_unlock(mutex);
    return now_seconds() - start;
}

/* ---- slow wake-ups -------------------------------------------------------- */

int __real_pthread_cond_broadcast(pthread_cond_t *cond);
int __real_pthread_cond_signal(pthread_cond_t *cond);

static _Atomic double pause_after_wakeup;

void harness_pause_after_wakeups(double seconds)
{
    atomic_store(&pause_after_wakeup, seconds);
}

/* After the wake-up the caller pauses, so that a woken thread takes the
 * mutex first whenever the caller does not hold it; if it does, it pauses
 * again after its next unlock, for the same reason. */
static int paused(int error)
{
    double seconds = atomic_load(&pause_after_wakeup);
    if (seconds > 0) {
        sleep_seconds(seconds);
        harness_pause_at_next_unlock(seconds);
    }
    return error;
}

int __wrap_pthread_cond_broadcast(pthread_cond_t *cond)
{
    return paused(__real_pthread_cond_broadcast(cond));
}

int __wrap_pthread_cond_signal(pthread_cond_t *cond)
{
    return paused(__real_pthread_cond_signal(cond));
}
