/* Tests for exercise 14: process_map runs a function in child processes. */

/*
 * Concurrency matrix:
 *   process_map    vs its own children running at once: children_run_at_
 *                  the_same_time; vs process_map in another thread (its
 *                  children must not be reaped by the other): reaps_only_
 *                  its_own_children, workload (2 callers, tsan+helgrind)
 * Error paths (each: error returned, no descriptor open, no child left):
 *   pipe fails (descriptor limit)        a_failed_pipe_is_reported_after_
 *                                        cleaning_up
 *   pipe fails while a child is busy     a_failed_pipe_stops_the_children_
 *                                        started (kill, then reap)
 *   fork fails (2nd of 3)                a_failed_fork_is_reported_after_
 *                                        cleaning_up
 *   a child crashes / ends early (short results: EIO, reaped)
 *                                        a_crashed_child_fails_only_its_own_
 *                                        inputs, a_child_that_ends_early_
 *                                        fails_its_inputs
 *   a crash beside a child with a full pipe
 *                                        a_crash_beside_a_full_pipe_does_
 *                                        not_deadlock
 *   reads that return a few bytes        results_arrive_in_pieces
 * Contract edges: NULL pointers (rejects_null_arguments), nprocs 0 and count
 * 0 (rejects_bad_arguments_and_maps_zero_inputs), more children than inputs,
 * an uneven split (an_uneven_split_follows_the_header), blocks larger than
 * a pipe (children_with_more_than_a_pipe_full_finish), _exit in children.
 */

#define _GNU_SOURCE
#include "harness.h"
#include "process_pool.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* ---- functions to map --------------------------------------------------- */

static const uint64_t PRIME = 1000000007u;

/* n! mod a prime: the tutorial's factorials, exact in 64 bits. */
static uint64_t factorial_mod(uint64_t n)
{
    uint64_t result = 1;
    for (uint64_t i = 2; i <= n; i++)
        result = result * i % PRIME;
    return result;
}

static uint64_t triple_plus_one(uint64_t x) { return 3 * x + 1; }

static uint64_t child_pid(uint64_t unused)
{
    (void)unused;
    return (uint64_t)getpid();
}

/* ---- what a process has open or unreaped -------------------------------- */

/* harness_count_open_fds and harness_no_children_left (failures.h). */
#define no_children_left harness_no_children_left

/* ---- one call of process_map, bounded in time ----------------------------
 * The call runs in a harness thread, so that a process_map that never
 * returns fails the test after `seconds` with a reason instead of running
 * into the test's time limit.  A run is never freed if its call is stuck. */
struct map_run {
    pool_function function;
    size_t count;
    int nprocs;
    uint64_t *inputs, *outputs;
    int *statuses;
    int error;
};

static void *call_process_map(void *raw)
{
    struct map_run *run = raw;
    run->error = process_map(run->function, run->inputs, run->count,
                             run->outputs, run->statuses, run->nprocs);
    return NULL;
}

static struct map_run *map_run_within(pool_function function, size_t count,
                                      int nprocs, double seconds,
                                      const char *if_stuck)
{
    struct map_run *run = calloc(1, sizeof *run);
    cr_assert(run, "out of memory");
    *run = (struct map_run){function, count, nprocs,
                            calloc(count + 1, sizeof(uint64_t)),
                            calloc(count + 1, sizeof(uint64_t)),
                            malloc((count + 1) * sizeof(int)), -1};
    cr_assert(run->inputs && run->outputs && run->statuses, "out of memory");
    for (size_t i = 0; i < count; i++) {
        run->inputs[i] = i;
        run->statuses[i] = -1;
    }
    struct async_call call;
    async_start(&call, call_process_map, run);
    cr_assert(async_wait(&call, seconds), "process_map did not return "
              "within %g s: %s", seconds, if_stuck);
    async_finish(&call);
    return run;
}

static struct map_run *map_run(pool_function function, size_t count,
                               int nprocs)
{
    return map_run_within(function, count, nprocs, 5.0, "does the parent "
                          "read every child's whole block, and waitpid each "
                          "child only after that?");
}

static void map_run_free(struct map_run *run)
{
    free(run->inputs);
    free(run->outputs);
    free(run->statuses);
    free(run);
}

static void assert_returned_0(const struct map_run *run)
{
    cr_assert_eq(run->error, 0, "process_map returned %d, expected 0",
                 run->error);
}

/* Every input in [first, end) got status 0 and function(input). */
static void assert_results(const struct map_run *run, size_t first,
                           size_t end)
{
    for (size_t i = first; i < end; i++) {
        cr_assert_eq(run->statuses[i], 0, "statuses[%zu] is %d, expected 0: "
                     "that input's child sent every result and exited with 0",
                     i, run->statuses[i]);
        uint64_t expected = run->function(run->inputs[i]);
        cr_assert_eq(run->outputs[i], expected, "outputs[%zu] is %" PRIu64
                     ", expected %" PRIu64 ": each result belongs at the "
                     "index of its input", i, run->outputs[i], expected);
    }
}

/* ---- results -------------------------------------------------------------- */

EXERCISE_TEST(process_pool, results_are_in_input_order, 10,
              "process_map never returned")
{
    struct map_run *run = map_run(factorial_mod, 20, 3);
    assert_returned_0(run);
    assert_results(run, 0, 20);
    map_run_free(run);
}

EXERCISE_TEST(process_pool, more_children_than_inputs_is_fine, 10,
              "process_map never returned with nprocs > count")
{
    struct map_run *run = map_run(factorial_mod, 2, 5);
    assert_returned_0(run);
    assert_results(run, 0, 2);
    map_run_free(run);
}

EXERCISE_TEST(process_pool, rejects_bad_arguments_and_maps_zero_inputs, 10,
              "process_map never returned")
{
    uint64_t input = 1, output = 0;
    int status = -1;
    int error = process_map(factorial_mod, &input, 1, &output, &status, 0);
    cr_assert_eq(error, EINVAL, "process_map(..., nprocs = 0) returned %d, "
                 "expected EINVAL (%d)", error, EINVAL);
    error = process_map(factorial_mod, NULL, 0, NULL, NULL, 2);
    cr_assert_eq(error, 0, "process_map with no inputs returned %d, "
                 "expected 0", error);
    cr_assert(no_children_left(), "process_map with no inputs left a child "
              "process behind: start no child when there is nothing to do");
}

/* ---- processes, not threads ----------------------------------------------- */

EXERCISE_TEST(process_pool, runs_each_block_in_its_own_child, 10,
              "process_map never returned")
{
    struct map_run *run = map_run(child_pid, 12, 3);
    assert_returned_0(run);
    uint64_t parent = (uint64_t)getpid();
    for (size_t i = 0; i < 12; i++) {
        cr_assert_eq(run->statuses[i], 0, "statuses[%zu] is %d, expected 0",
                     i, run->statuses[i]);
        cr_assert_neq(run->outputs[i], parent, "input %zu was computed in "
                      "the caller's own process: compute it in a child made "
                      "by fork()", i);
        size_t block_start = i / 4 * 4;
        cr_assert_eq(run->outputs[i], run->outputs[block_start], "inputs %zu "
                     "and %zu ran in different processes: with 12 inputs and "
                     "3 children, child k computes inputs 4k..4k+3 (see "
                     "process_pool.h)", block_start, i);
    }
    cr_assert(run->outputs[0] != run->outputs[4] &&
              run->outputs[4] != run->outputs[8] &&
              run->outputs[0] != run->outputs[8], "the three blocks of inputs "
              "did not run in three different processes: fork one child per "
              "block");
    map_run_free(run);
}

static int written_by_the_function;

static uint64_t write_a_global(uint64_t input)
{
    written_by_the_function += 1;
    return input + (uint64_t)written_by_the_function;
}

EXERCISE_TEST(process_pool, a_childs_memory_is_its_own, 10,
              "process_map never returned")
{
    written_by_the_function = 0;
    struct map_run *run = map_run(write_a_global, 8, 2);
    cr_assert_eq(written_by_the_function, 0, "the function's writes to a "
                 "global variable are visible in the caller (it is %d, "
                 "expected 0): the function ran in the caller's process, or "
                 "in a thread (threads share memory); a forked child writes "
                 "only to its own copy", written_by_the_function);
    assert_returned_0(run);
    for (size_t i = 0; i < 8; i++) {
        /* Each child's copy of the global starts at 0: +1..+4 per block. */
        uint64_t expected = run->inputs[i] + i % 4 + 1;
        cr_assert_eq(run->outputs[i], expected, "outputs[%zu] is %" PRIu64
                     ", expected %" PRIu64 " (each child starts from its own "
                     "copy of the caller's memory)", i, run->outputs[i],
                     expected);
    }
    map_run_free(run);
}

/* ---- overlap, proven without a clock ----------------------------------------
 * Each child writes a byte to `arrived` and waits for a byte on `go`.  A
 * helper thread in the test writes 'g' for everyone once all three children
 * have arrived, or 'x' for everyone if they have not after 3 s.  Children
 * that run one after another never all arrive together. */
static int arrived[2], go[2];

static uint64_t meet_the_others(uint64_t unused)
{
    (void)unused;
    char byte = 'a';
    if (write(arrived[1], &byte, 1) != 1)
        return 0;
    struct pollfd wait_for_go = {.fd = go[0], .events = POLLIN};
    if (poll(&wait_for_go, 1, 10000) != 1 || read(go[0], &byte, 1) != 1)
        return 0;
    return byte == 'g';
}

static void *release_when_all_arrived(void *wanted_raw)
{
    int wanted = *(int *)wanted_raw, seen = 0;
    double give_up = now_seconds() + 3.0;
    char byte, verdict = 'g';
    while (seen < wanted) {
        int left_ms = (int)((give_up - now_seconds()) * 1000);
        struct pollfd wait = {.fd = arrived[0], .events = POLLIN};
        if (left_ms <= 0 || poll(&wait, 1, left_ms) != 1 ||
            read(arrived[0], &byte, 1) != 1) {
            verdict = 'x';
            break;
        }
        seen++;
    }
    for (int i = 0; i < wanted; i++)
        if (write(go[1], &verdict, 1) != 1)
            break;
    return NULL;
}

EXERCISE_TEST(process_pool, children_run_at_the_same_time, 15,
              "process_map never returned")
{
    cr_assert(pipe(arrived) == 0 && pipe(go) == 0, "pipe() failed");
    int wanted = 3;
    struct async_call helper;
    async_start(&helper, release_when_all_arrived, &wanted);
    struct map_run *run = map_run_within(meet_the_others, 3, 3, 10.0,
                                         "are the children started before "
                                         "any is read from or waited for?");
    cr_assert(async_wait(&helper, 5.0), "the test's helper never finished");
    async_finish(&helper);
    for (int i = 0; i < 2; i++) {
        close(arrived[i]);
        close(go[i]);
    }
    assert_returned_0(run);
    for (size_t i = 0; i < 3; i++)
        cr_assert_eq(run->outputs[i], 1, "the 3 children were never all "
                     "running at the same time (the child of input %zu was "
                     "not released within 3 s): start every child before "
                     "reading from or waiting for any", i);
    map_run_free(run);
}

/* ---- pipes that fill up ------------------------------------------------------ */

EXERCISE_TEST(process_pool, children_with_more_than_a_pipe_full_finish, 10,
              "process_map never returned")
{
    size_t count = 3 * 10000; /* 80 000 bytes of results per child */
    struct map_run *run = map_run_within(
        triple_plus_one, count, 3, 5.0, "each child has 80 000 bytes of "
        "results, more than a pipe holds (64 KiB): does the parent waitpid a "
        "child before reading its pipe? The child blocks in write() until "
        "someone reads, and never exits");
    assert_returned_0(run);
    for (size_t i = 0; i < count; i += 10000)
        cr_assert_eq(run->statuses[i], 0, "the block of input %zu (80 000 "
                     "bytes, sent in full) has status %d, expected 0: a pipe "
                     "holds at most 64 KiB, so one read() cannot return the "
                     "whole block; read in a loop until every byte arrived",
                     i, run->statuses[i]);
    assert_results(run, 0, count);
    map_run_free(run);
}

/* ---- children that fail ---------------------------------------------------------
 * The failing functions fail only in a child: run in the test's own process
 * they would take the test down with them, so there they record that and
 * return instead. */
static pid_t test_process;
static bool failing_function_ran_in_caller;

static bool in_test_process(void)
{
    if (getpid() != test_process)
        return false;
    failing_function_ran_in_caller = true;
    return true;
}

static uint64_t abort_on_5(uint64_t input)
{
    if (input == 5 && !in_test_process())
        abort();
    return factorial_mod(input);
}

static uint64_t quit_on_6(uint64_t input)
{
    if (input == 6 && !in_test_process())
        _exit(0);
    return factorial_mod(input);
}

/* 12 inputs, 3 children: the middle child (inputs 4..7) fails. */
static struct map_run *map_failing(pool_function function, const char *how)
{
    test_process = getpid();
    failing_function_ran_in_caller = false;
    char if_stuck[200];
    snprintf(if_stuck, sizeof if_stuck, "after a child %s, does the parent "
             "still hold the write end of its pipe (close it right after "
             "fork), so that read() never sees end-of-file?", how);
    struct map_run *run = map_run_within(function, 12, 3, 3.0, if_stuck);
    cr_assert_not(failing_function_ran_in_caller, "the function ran in the "
                  "caller's own process, where a crash would take the caller "
                  "down too: run it in children made by fork()");
    cr_assert_eq(run->error, 0, "process_map returned %d when a child %s, "
                 "expected 0 (statuses report it)", run->error, how);
    cr_assert(no_children_left(), "after a child %s (and sent only part of "
              "its results), process_map returned and left it unreaped (a "
              "zombie): waitpid every child, also one whose results were "
              "short", how);
    return run;
}

static void assert_block_failed(const struct map_run *run, const char *why)
{
    for (size_t i = 4; i < 8; i++)
        cr_assert_eq(run->statuses[i], EIO, "statuses[%zu] is %d, expected "
                     "EIO (%d): %s", i, run->statuses[i], EIO, why);
}

static void assert_other_blocks_fine(const struct map_run *run)
{
    for (size_t i = 0; i < 12; i++)
        if (i < 4 || i >= 8)
            cr_assert_eq(run->statuses[i], 0, "statuses[%zu] is %d, expected "
                         "0: only the failed child's inputs (4..7) are errors, "
                         "the other children's results are good", i,
                         run->statuses[i]);
    assert_results(run, 0, 4);
    assert_results(run, 8, 12);
}

EXERCISE_TEST(process_pool, a_crashed_child_fails_only_its_own_inputs, 10,
              "process_map never returned after a child crashed")
{
    struct map_run *run = map_failing(abort_on_5, "crashed");
    assert_block_failed(run, "the child of inputs 4..7 was killed by abort() "
                        "at input 5, so every input of that child is an error");
    assert_other_blocks_fine(run);
    map_run_free(run);
}

EXERCISE_TEST(process_pool, a_child_that_ends_early_fails_its_inputs, 10,
              "process_map never returned after a child ended early")
{
    struct map_run *run = map_failing(quit_on_6, "ended early");
    assert_block_failed(run, "the child of inputs 4..7 exited with status 0 "
                        "at input 6, before sending all its results: count "
                        "the bytes that arrived, a status of 0 is not enough");
    assert_other_blocks_fine(run);
    map_run_free(run);
}

/* ---- nothing left behind ----------------------------------------------------- */

EXERCISE_TEST(process_pool, leaves_no_zombie_processes, 10,
              "process_map never returned")
{
    struct map_run *run = map_run(factorial_mod, 9, 3);
    cr_assert(no_children_left(), "after process_map returned, this process "
              "still has a child (running, or a zombie: exited but not "
              "reaped): waitpid every child you forked");
    assert_returned_0(run);
    map_run_free(run);
}

EXERCISE_TEST(process_pool, closes_every_descriptor_it_opens, 10,
              "process_map never returned")
{
    int before = harness_count_open_fds();
    struct map_run *run = map_run(factorial_mod, 9, 3);
    int after = harness_count_open_fds();
    cr_assert_eq(after, before, "%d descriptors were open before process_map "
                 "and %d after: close both ends of every pipe (the write end "
                 "right after fork, the read end once the results are read)",
                 before, after);
    assert_returned_0(run);
    map_run_free(run);
}

EXERCISE_TEST(process_pool, reaps_only_its_own_children, 10,
              "process_map never returned: does it wait for a child that is "
              "not its own?")
{
    pid_t other = fork();
    cr_assert(other >= 0, "fork() failed");
    if (other == 0)
        _exit(7);
    /* Wait until the other child has exited, without reaping it. */
    siginfo_t info;
    cr_assert(waitid(P_PID, (id_t)other, &info, WEXITED | WNOWAIT) == 0);

    /* Called on this thread, which forked `other`: a waitpid(-1) made here
     * finds `other` first (the oldest child of this thread) every time. */
    uint64_t inputs[6] = {1, 2, 3, 4, 5, 6}, outputs[6];
    int statuses[6];
    int error = process_map(factorial_mod, inputs, 6, outputs, statuses, 3);
    int status = 0;
    pid_t reaped = waitpid(other, &status, WNOHANG);
    cr_assert_eq(reaped, other, "the caller's own child (pid %d) was reaped "
                 "by process_map: wait for your children by their pid, not "
                 "with waitpid(-1, ...), which takes any child of the process",
                 (int)other);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
    cr_assert_eq(error, 0, "process_map returned %d, expected 0", error);
    for (size_t i = 0; i < 6; i++)
        cr_assert(statuses[i] == 0 && outputs[i] == factorial_mod(inputs[i]),
                  "input %zu: status %d, output %" PRIu64 ", expected 0 and "
                  "%" PRIu64, i, statuses[i], outputs[i],
                  factorial_mod(inputs[i]));
    cr_assert(no_children_left(), "a child of process_map was not reaped");
}

EXERCISE_TEST(process_pool, children_end_with_underscore_exit, 10,
              "process_map never returned")
{
    FILE *file = tmpfile();
    cr_assert(file, "tmpfile() failed");
    static char buffer[BUFSIZ];
    setvbuf(file, buffer, _IOFBF, sizeof buffer);
    fputs("written once|", file); /* stays in the FILE's buffer for now */

    struct map_run *run = map_run(factorial_mod, 6, 3);
    fflush(file);
    rewind(file);
    char text[256] = "";
    size_t length = fread(text, 1, sizeof text - 1, file);
    fclose(file);
    int copies = 0;
    for (const char *at = text; (at = strstr(at, "written once|")); at++)
        copies++;
    cr_assert_eq(copies, 1, "text the caller had buffered in a FILE was "
                 "written %d times (%zu bytes): each child flushed its copy "
                 "of the caller's stdio buffers when it ended with exit(). "
                 "End a child with _exit(), which ends the process at once",
                 copies, length);
    assert_returned_0(run);
    map_run_free(run);
}

/* ---- a failed pipe() ---------------------------------------------------------- */

/* The descriptor limit that leaves exactly `wanted` descriptors free. */
static int limit_leaving_free(int wanted)
{
    int fd = 0;
    for (int found = 0; found < wanted; fd++)
        if (fcntl(fd, F_GETFD) == -1 && errno == EBADF)
            found++;
    return fd;
}

EXERCISE_TEST(process_pool, a_failed_pipe_is_reported_after_cleaning_up, 10,
              "process_map never returned after pipe() failed")
{
    int before = harness_count_open_fds();
    uint64_t inputs[6] = {1, 2, 3, 4, 5, 6}, outputs[6];
    int statuses[6];

    struct rlimit saved, tight;
    cr_assert(getrlimit(RLIMIT_NOFILE, &saved) == 0);
    tight = saved;
    /* Room for one pipe: the first pipe() works, the second fails. */
    tight.rlim_cur = (rlim_t)limit_leaving_free(2);
    cr_assert(setrlimit(RLIMIT_NOFILE, &tight) == 0);
    int error = process_map(factorial_mod, inputs, 6, outputs, statuses, 3);
    setrlimit(RLIMIT_NOFILE, &saved);

    cr_assert_eq(error, EMFILE, "process_map returned %d when the second "
                 "pipe() failed with EMFILE (%d): return pipe's error",
                 error, EMFILE);
    cr_assert(no_children_left(), "after pipe() failed, a child that was "
              "already started is still there (running or a zombie): stop "
              "and reap the children already started before returning");
    int after = harness_count_open_fds();
    cr_assert_eq(after, before, "%d descriptors were open before process_map "
                 "and %d after it failed: close the pipes already made",
                 before, after);
}

/* ---- every failure path, and the header's edges ----------------------------- */

EXERCISE_TEST(process_pool, rejects_null_arguments, 10,
              "process_map never returned")
{
    uint64_t inputs[2] = {1, 2}, outputs[2];
    int statuses[2];
    /* One at a time, each checked before the next, so that a crash of a
     * later call cannot hide the first wrong answer. */
    const char *names[] = {"function", "inputs", "outputs", "statuses"};
    /* Shown only if a call crashes the test. */
    harness_note("process_map crashed when one of function, inputs, outputs "
                 "or statuses was NULL with count > 0: the header promises "
                 "EINVAL; check every pointer before using it or forking");
    for (int which = 0; which < 4; which++) {
        int error = process_map(which == 0 ? NULL : factorial_mod,
                                which == 1 ? NULL : inputs, 2,
                                which == 2 ? NULL : outputs,
                                which == 3 ? NULL : statuses, 2);
        cr_assert_eq(error, EINVAL, "process_map with a NULL %s and 2 inputs "
                     "returned %d, expected EINVAL (%d): check every pointer "
                     "before forking (the header promises EINVAL, not a "
                     "crash in a child or in the caller)", names[which],
                     error, EINVAL);
    }
    cr_assert(no_children_left(), "process_map rejected its arguments but "
              "left a child behind: check them before forking");
}

EXERCISE_TEST(process_pool, an_uneven_split_follows_the_header, 10,
              "process_map never returned")
{
    /* 10 inputs, 4 children: blocks [0,2) [2,5) [5,7) [7,10). */
    struct map_run *run = map_run(child_pid, 10, 4);
    assert_returned_0(run);
    static const size_t first_of_block[] = {0, 2, 5, 7, 10};
    for (size_t k = 0; k < 4; k++)
        for (size_t i = first_of_block[k]; i < first_of_block[k + 1]; i++)
            cr_assert(run->statuses[i] == 0 &&
                      run->outputs[i] == run->outputs[first_of_block[k]] &&
                      (k == 0 || run->outputs[i] !=
                                     run->outputs[first_of_block[k - 1]]),
                      "with 10 inputs and 4 children, child k computes the "
                      "inputs from k*10/4 up to (k+1)*10/4, that is "
                      "[0,2) [2,5) [5,7) [7,10) (process_pool.h), but input "
                      "%zu did not run with the rest of block [%zu,%zu): "
                      "split with k*count/p, not count/p with the remainder "
                      "for the last child", i, first_of_block[k],
                      first_of_block[k + 1]);
    map_run_free(run);
}

/* fork() fails for the second child: the first is already running. */
EXERCISE_TEST(process_pool, a_failed_fork_is_reported_after_cleaning_up, 10,
              "process_map never returned after fork() failed")
{
    uint64_t inputs[6] = {1, 2, 3, 4, 5, 6}, outputs[6];
    int statuses[6];
    int before = harness_count_open_fds();
    harness_fail_call_after(HARNESS_FORK, 1, EAGAIN);
    int error = process_map(factorial_mod, inputs, 6, outputs, statuses, 3);
    harness_fail_call_after(HARNESS_FORK, -1, 0);
    bool reaped = no_children_left();
    int after = harness_count_open_fds();
    cr_assert_eq(error, EAGAIN, "process_map returned %d when the second "
                 "fork() failed with EAGAIN (%d): return fork's error",
                 error, EAGAIN);
    cr_assert_eq(after, before, "%d descriptors were open before process_map "
                 "and %d after the second fork() failed: close both ends of "
                 "the pipe made for the child that could not start, and the "
                 "pipes of the children already started", before, after);
    cr_assert(reaped, "after fork() failed, the child already started is "
              "still there (running or a zombie): stop it (kill) and reap it "
              "(waitpid) before returning");
}

/* A child that would run for a long time unless stopped. */
static uint64_t sleep_in_a_child(uint64_t input)
{
    if (!in_test_process())
        sleep_seconds(8.0);
    return input;
}

EXERCISE_TEST(process_pool, a_failed_pipe_stops_the_children_started, 10,
              "process_map never returned after pipe() failed")
{
    test_process = getpid();
    harness_fail_call_after(HARNESS_PIPE, 1, EMFILE);
    struct map_run *run = map_run_within(
        sleep_in_a_child, 6, 3, 3.0, "the second pipe() failed while the "
        "first child was busy for 8 s: process_map waited for that child "
        "instead of stopping it.  On an error, kill (SIGKILL) the children "
        "already started, then waitpid them");
    harness_fail_call_after(HARNESS_PIPE, -1, 0);
    cr_assert_eq(run->error, EMFILE, "process_map returned %d when the "
                 "second pipe() failed with EMFILE (%d): return pipe's error",
                 run->error, EMFILE);
    cr_assert(no_children_left(), "after pipe() failed, a child already "
              "started is still there: kill and reap it before returning");
    map_run_free(run);
}

/* Each read() returns at most 3 bytes: less than one result. */
EXERCISE_TEST(process_pool, results_arrive_in_pieces, 10,
              "process_map never returned")
{
    harness_short_reads(3);
    struct map_run *run = map_run(factorial_mod, 12, 3);
    harness_short_reads(0);
    assert_returned_0(run);
    assert_results(run, 0, 12);
    map_run_free(run);
}

/* The first child crashes; the second has more than a pipe holds.  If the
 * second child inherited the write end of the first child's pipe (the
 * parent closed the write ends only after the last fork), the parent never
 * sees end-of-file on the first pipe, the second child blocks in write(),
 * and both wait for ever. */
static uint64_t abort_on_5_of_many(uint64_t input)
{
    if (input == 5 && !in_test_process())
        abort();
    return triple_plus_one(input);
}

EXERCISE_TEST(process_pool, a_crash_beside_a_full_pipe_does_not_deadlock, 10,
              "process_map never returned")
{
    test_process = getpid();
    size_t count = 2 * 10000; /* 80 000 bytes of results per child */
    /* 7.5 s: the kit's hang watcher ignores waits that end within 5 s, so
     * a shorter wait would fail the test before the watcher could see the
     * parent and child 1 stuck and name their lines. */
    struct map_run *run = map_run_within(
        abort_on_5_of_many, count, 2, 7.5, "child 0 crashed and child 1 "
        "has more results than a pipe holds: the parent waits for "
        "end-of-file on child 0's pipe, which never comes while child 1 "
        "still holds a copy of its write end (inherited at fork) and blocks "
        "writing its own full pipe.  Close each write end in the parent "
        "right after its fork, before the next fork");
    assert_returned_0(run);
    cr_assert_eq(run->statuses[0], EIO, "statuses[0] is %d: child 0 crashed, "
                 "expected EIO (%d)", run->statuses[0], EIO);
    assert_results(run, 10000, count);
    map_run_free(run);
}
