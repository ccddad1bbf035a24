"""Inside the jail: `tools/grade _worker` runs the kit's checks on one
submission's scratch tree, one check at a time, and sends each check's
result as soon as it is known (so that a submission stopped at its time
limit keeps what was already graded) as one JSON line on --results-fd: a
file the grader opened, that graded code (the same uid) cannot reach.

    SCRATCH/exercises/NN/   the submitted files (only the manifest's `edit`)
    SCRATCH/build/NN/       the binaries and the checks' scratch files
    SCRATCH/limits.log      written by the grader when it killed a process
                            for using too much memory
"""
import argparse
import json
import os
import signal
import sys
import time

from .. import manifest, registry, runner
from ..paths import FILE_SIZE_LIMIT
from ..results import CRASH, FAIL, LIMIT, NO_REPORT, SKIP
from . import jail, procs

PR_SET_DUMPABLE = 4

LIMITS_LOG = "limits.log"
OUTPUT_KEPT = 2000              # characters of a test's output in its record


def parser():
    worker = argparse.ArgumentParser(prog="grade _worker")
    worker.add_argument("--scratch", required=True)
    worker.add_argument("--exercise", action="append", default=[])
    worker.add_argument("--check", action="append", default=[])
    worker.add_argument("--results-fd", type=int, required=True,
                        help="where the results go (a file of the grader's)")
    worker.add_argument("--workload-timeout", type=int, default=0,
                        help="seconds for one workload run (0: the registry's)")
    worker.add_argument("--full", action="store_true",
                        help="run every test of a check, not only up to "
                        "its first failure")
    worker.add_argument("--test-jobs", type=int, default=1,
                        help="tests of one check run at once")
    worker.add_argument("--fsize", type=int, default=FILE_SIZE_LIMIT,
                        help="the file-size limit the checks run under")
    return worker


def _limit_events(scratch):
    try:
        with open(os.path.join(scratch, LIMITS_LOG), encoding="utf-8") as log:
            return [line.strip() for line in log if line.strip()]
    except OSError:
        return []


def _files_at_the_limit(scratch, fsize):
    """Files that reached the file-size limit (the writer got SIGXFSZ);
    removed, so that they are reported once."""
    found = []
    for here, dirs, files in os.walk(scratch):
        for name in files:
            path = os.path.join(here, name)
            try:
                if os.lstat(path).st_size >= fsize:
                    found.append(os.path.relpath(path, scratch))
                    os.remove(path)
            except OSError:
                pass
    return found


def _kill_strays(timeout=10):
    """Kills what a check left running (Criterion runs each test in its own
    session, so the kit's process-group kill misses a test's children):
    every process below the jail but this one.  True if there were any."""
    deadline, found = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        strays = [p for p in procs.descendants(os.getppid(), list(procs.processes()))
                  if p.pid != os.getpid() and p.state != "Z"]
        if not strays:
            return found
        found = True
        for stray in strays:
            try:
                os.kill(stray.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.02)
    return found


def _run_check(exercise, check, scratch, fsize, options):
    seen = len(_limit_events(scratch))
    result = runner.run_check(exercise, check,
                              os.path.join(scratch, "exercises", exercise.name),
                              os.path.join(scratch, "build", exercise.name),
                              options)
    killed = _limit_events(scratch)[seen:]
    too_big = _files_at_the_limit(scratch, fsize)
    if too_big:
        killed.append(f"wrote a file as large as the limit ({fsize // 2**20} "
                      f"MiB) and was stopped: {too_big[0]}")
    if killed and result.status != SKIP:
        result.status, result.cause, result.reason = FAIL, LIMIT, killed[0]
        for test in result.tests:       # it died of the kill: no crash
            if test.status == FAIL and test.cause in (CRASH, NO_REPORT):
                test.cause, test.message = LIMIT, killed[0]
    left_running = _kill_strays()
    result.report = ""          # the tools' full reports stay out of grades
    for test in result.tests:
        # ... except the end of a run that left no report to read: what the
        # program printed as it died is all there is to explain it.
        test.output = test.output[-OUTPUT_KEPT:] if test.cause == NO_REPORT \
            else ""
    return result.to_json(), left_running


LEFT_RUNNING = "processes the submission left running were killed"


def _send(channel, message):
    data = (json.dumps(message) + "\n").encode("utf-8")
    while data:
        data = data[os.write(channel, data):]


def main(argv):
    args = parser().parse_args(argv)
    # Graded code runs as this uid too: it may not read this process's
    # memory or open its file descriptors (/proc/PID/fd), the channel.
    jail.prctl(PR_SET_DUMPABLE, 0)
    os.set_inheritable(args.results_fd, False)
    exercises = manifest.select(manifest.load(), args.exercise)
    options = runner.Options(
        timeouts=tuple((c.name, args.workload_timeout) for c in registry.CHECKS
                       if not c.runs_tests and args.workload_timeout),
        jobs=max(1, args.test_jobs), first_failure=not args.full,
        longest_first=True)
    for check in args.check:        # before any submitted code runs
        registry.get(check).missing()
    for exercise in exercises:
        for check in (c for c in exercise.checks if c in args.check):
            result, left_running = _run_check(exercise, check, args.scratch,
                                              args.fsize, options)
            _send(args.results_fd, {"exercise": exercise.name, "check": check,
                                    "result": result})
            if left_running:
                _send(args.results_fd, {"note": f"{LEFT_RUNNING} (after "
                                        f"{exercise.name} {check})"})
            print(f"{exercise.name} {check}: {result['status']}",
                  file=sys.stderr, flush=True)
    return 0
