/* See support_freeze.h.  The handler uses only async-signal-safe calls. */
#define _GNU_SOURCE
#include "support_freeze.h"

#include "clock.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#define FREEZE_SIGNAL SIGUSR2

static int frozen_pipe[2] = {-1, -1}; /* the handler reports "frozen" */
static int thaw_pipe[2] = {-1, -1};   /* the test lets one thread go */

static void hold_until_thawed(int signal_number)
{
    (void)signal_number;
    int saved_errno = errno;
    char token = 'f';
    while (write(frozen_pipe[1], &token, 1) < 0 && errno == EINTR) {
    }
    while (read(thaw_pipe[0], &token, 1) < 0 && errno == EINTR) {
    }
    errno = saved_errno;
}

static bool set_up(void)
{
    if (frozen_pipe[0] >= 0)
        return true;
    if (pipe(frozen_pipe) != 0 || pipe(thaw_pipe) != 0)
        return false;
    struct sigaction action = {.sa_handler = hold_until_thawed,
                               .sa_flags = SA_RESTART};
    sigemptyset(&action.sa_mask);
    return sigaction(FREEZE_SIGNAL, &action, NULL) == 0;
}

bool freeze_threads(const pthread_t *threads, int count, double seconds)
{
    if (!set_up())
        return false;
    for (int i = 0; i < count; i++)
        if (pthread_kill(threads[i], FREEZE_SIGNAL) != 0)
            return false;
    double give_up = now_seconds() + seconds;
    for (int frozen = 0; frozen < count;) {
        int left_ms = (int)((give_up - now_seconds()) * 1000);
        if (left_ms <= 0)
            return false;
        struct pollfd report = {.fd = frozen_pipe[0], .events = POLLIN};
        char token;
        if (poll(&report, 1, left_ms) > 0 && read(frozen_pipe[0], &token, 1) == 1)
            frozen++;
    }
    return true;
}

void thaw_threads(int count)
{
    for (int i = 0; i < count; i++) {
        char token = 't';
        while (write(thaw_pipe[1], &token, 1) < 0 && errno == EINTR) {
        }
    }
}
