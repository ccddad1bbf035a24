"""Inside the jail: `tools/grade _worker` runs the kit's checks on one
submission's scratch tree, exercise by exercise, up to --check-jobs checks
of an exercise side by side, and sends each check's result as soon as it is
known (so that a submission stopped at its time limit keeps what was
already graded) as one JSON line on --results-fd: a file the grader opened,
that graded code (the same uid) cannot reach.

Each check runs in a process of its own (a check runner), forked by the
worker and a child subreaper: whatever the check's programs leave running,
even a process that left its session, stays below its runner, which kills
it when the check ends without touching the checks beside it; and a
process the grader kills for its memory is told apart by its ancestry.

    SCRATCH/exercises/NN/   the submitted files (only the manifest's `edit`)
    SCRATCH/build/NN/       the binaries and the checks' scratch files
    SCRATCH/limits.log      written by the grader when it killed a process
                            for using too much memory: one JSON line each,
                            {"why": ..., "chain": [the pid and its ancestors]}
"""
import argparse
import dataclasses
import json
import os
import select
import signal
import sys
import time
import traceback

from .. import build, manifest, policy, registry, runner, timelimits
from ..paths import FILE_SIZE_LIMIT
from ..results import CRASH, FAIL, LIMIT, NO_REPORT, SKIP, failed
from . import jail, procs

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36

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
    worker.add_argument("--check-jobs", type=int, default=1,
                        help="checks of one exercise run at once")
    worker.add_argument("--fsize", type=int, default=FILE_SIZE_LIMIT,
                        help="the file-size limit the checks run under")
    return worker


def _limit_events(scratch):
    """[(why, chain)]: the grader's kills so far, in order."""
    events = []
    try:
        with open(os.path.join(scratch, LIMITS_LOG), encoding="utf-8") as log:
            for line in log:
                try:
                    event = json.loads(line)
                    events.append((str(event["why"]), list(event["chain"])))
                except (ValueError, KeyError, TypeError):
                    pass
    except OSError:
        pass
    return events


def _limit_events_below(scratch, seen, runner_pid):
    return [why for why, chain in _limit_events(scratch)[seen:]
            if runner_pid in chain]


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


def _kill(processes):
    for process in processes:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


def _kill_strays(timeout=10):
    """Kills what a check left running (Criterion runs each test in its own
    session, so the kit's process-group kill misses a test's children):
    every process below this check runner.  True if there were any."""
    deadline, found = time.monotonic() + timeout, False
    while time.monotonic() < deadline:
        strays = [p for p in procs.descendants(os.getpid(), list(procs.processes()))
                  if p.state != "Z"]
        if not strays:
            return found
        found = True
        _kill(strays)
        time.sleep(0.02)
    return found


def _run_check(exercise, check, scratch, fsize, options):
    seen = len(_limit_events(scratch))
    result = runner.run_check(exercise, check,
                              os.path.join(scratch, "exercises", exercise.name),
                              os.path.join(scratch, "build", exercise.name),
                              options)
    killed = _limit_events_below(scratch, seen, os.getpid())
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


@dataclasses.dataclass
class CheckRunner:
    check: str
    pid: int
    channel: int                # the read end of the runner's pipe
    data: bytearray = dataclasses.field(default_factory=bytearray)


def _runner_body(exercise, check, args, options, channel):
    jail.prctl(PR_SET_CHILD_SUBREAPER, 1)
    result, left_running = _run_check(exercise, check, args.scratch,
                                      args.fsize, options)
    _send(channel, {"result": result, "left_running": left_running})


def _start_runner(exercise, check, args, options):
    """Forks a check runner.  The worker itself starts no thread, so that
    forking it is safe; the runner's own threads start after the fork."""
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            os.close(read_end)
            os.close(args.results_fd)
            _runner_body(exercise, check, args, options, write_end)
            code = 0
        except BaseException:   # whatever happens, the child must not return
            traceback.print_exc()
        finally:
            os._exit(code)
    os.close(write_end)
    return CheckRunner(check, pid, read_end)


def _runner_outcome(check_runner, status, live):
    """(result, left_running) that the runner sent, or a failed check if it
    sent none (graded code, the same uid, can kill it); `live`: the pids of
    the runners still running."""
    try:
        sent = json.loads(bytes(check_runner.data))
        return sent["result"], bool(sent["left_running"])
    except (ValueError, KeyError, TypeError):
        ended = (f"was killed by signal {-os.waitstatus_to_exitcode(status)}"
                 if os.WIFSIGNALED(status) else
                 f"ended with status {os.waitstatus_to_exitcode(status)}")
        result = failed(check_runner.check, CRASH,
                        f"the kit's runner of this check {ended} before it "
                        "had a result (did the submission kill it?)")
        return result.to_json(), _kill_orphans(live)


def _kill_orphans(live):
    """Kills what a dead runner left (its processes went up to the jail):
    every process below the jail but this one and the live runners' own.
    True if there were any."""
    table = [p for p in procs.processes() if p.state != "Z"]
    spared = {os.getpid(), *live}
    spared.update(p.pid for pid in live for p in procs.descendants(pid, table))
    orphans = [p for p in procs.descendants(os.getppid(), table)
               if p.pid not in spared]
    _kill(orphans)
    return bool(orphans)


def _run_side_by_side(exercise, wanted, args, options):
    """Yields (check, result, left_running) for the wanted checks of
    `exercise` as they end, args.check_jobs at a time, started in the
    course's order."""
    todo, running = list(wanted), {}
    while todo or running:
        while todo and len(running) < max(1, args.check_jobs):
            started = _start_runner(exercise, todo.pop(0), args, options)
            running[started.channel] = started
        ready, _, _ = select.select(list(running), [], [])
        for channel in ready:
            chunk = os.read(channel, 1 << 16)
            if chunk:
                running[channel].data += chunk
                continue
            ended = running.pop(channel)
            os.close(channel)
            _, status = os.waitpid(ended.pid, 0)
            live = [r.pid for r in running.values()]
            yield (ended.check, *_runner_outcome(ended, status, live))


def _fill_caches():
    """What every check runner would otherwise work out again (each is a
    fork of this process, whose caches it inherits): the names the shared
    libraries export (nm on each: 8% of a graded submission's CPU when each
    runner ran it), Criterion's flags, the reference's times."""
    policy.provided_names()
    build.criterion_flags()
    timelimits.reference_times()


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
    _fill_caches()
    for exercise in exercises:
        started = time.monotonic()
        wanted = [c for c in exercise.checks if c in args.check]
        for check, result, left_running in _run_side_by_side(
                exercise, wanted, args, options):
            _send(args.results_fd, {"exercise": exercise.name, "check": check,
                                    "result": result})
            if left_running:
                _send(args.results_fd, {"note": f"{LEFT_RUNNING} (after "
                                        f"{exercise.name} {check})"})
            print(f"{exercise.name} {check}: {result['status']}",
                  file=sys.stderr, flush=True)
        print(f"{exercise.name}: {time.monotonic() - started:.1f} s",
              file=sys.stderr, flush=True)
    return 0
