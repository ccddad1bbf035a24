/* Time and thread-count helpers for tests. */
#define _GNU_SOURCE
#include "clock.h"

#include <dirent.h>
#include <time.h>

double now_seconds(void)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)now.tv_sec + (double)now.tv_nsec / 1e9;
}

double thread_cpu_seconds(void)
{
    struct timespec used;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &used);
    return (double)used.tv_sec + (double)used.tv_nsec / 1e9;
}

void sleep_seconds(double seconds)
{
    struct timespec left = {.tv_sec = (time_t)seconds};
    left.tv_nsec = (long)((seconds - (double)left.tv_sec) * 1e9);
    while (nanosleep(&left, &left) != 0) {
        /* interrupted by a signal: sleep the rest */
    }
}

int count_process_threads(void)
{
    DIR *tasks = opendir("/proc/self/task");
    if (!tasks)
        return -1;
    int count = 0;
    for (struct dirent *entry; (entry = readdir(tasks));)
        if (entry->d_name[0] != '.')
            count++;
    closedir(tasks);
    return count;
}

bool wait_for_thread_count(int wanted, double seconds)
{
    double give_up = now_seconds() + seconds;
    while (count_process_threads() != wanted) {
        if (now_seconds() > give_up)
            return false;
        sleep_seconds(0.005);
    }
    return true;
}
