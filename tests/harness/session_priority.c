/*
 * Lowers the scheduling priority of this test's session when the kit asks
 * (THREADLINGS_GROUP_NICE, set by `make test` for the checks after the
 * first one, whose answer the student reads first).
 *
 * Linux groups the processes of a session for the scheduler (autogroup,
 * on by default) and shares the CPU between groups first: a process's own
 * nice value only counts inside its group.  Criterion starts each test in
 * a session of its own, so the nice value the kit's thread passes down is
 * lost there; the group's nice value (/proc/self/autogroup) is what
 * counts.  Only a session leader sets it: it belongs to the whole session.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

__attribute__((constructor)) static void lower_session_priority(void)
{
    const char *nice = getenv("THREADLINGS_GROUP_NICE");
    if (nice == NULL || getsid(0) != getpid())
        return;
    FILE *group = fopen("/proc/self/autogroup", "w");
    if (group == NULL)
        return;             /* no autogroups here: nice values work alone */
    fprintf(group, "%d", atoi(nice));
    fclose(group);
}
