"""Runs the checks of one variant of one exercise: build, then run."""
import concurrent.futures
import dataclasses
import os
import threading
import time

from . import build, checks, registry, timelimits
from .results import failed, skipped

# Seconds past a test's limit before the runner itself ends it (Criterion
# ends it first unless Criterion itself hangs).
OUTER_MARGIN = 15


@dataclasses.dataclass(frozen=True)
class Options:
    """How to run checks: `timeouts` ({check: seconds}) overrides the
    registry's limit per run (the grader's --workload-timeout); `jobs`
    tests of one check run at once, and `check_jobs` checks of one
    exercise; `first_failure` stops a check at its
    first failed test (grading: the score is the same); `stop_after_hang`
    stops the checks of an exercise once one of its runs hangs (make test:
    a student fixes the hang first, and every other run would wait out its
    own; checks.HangStop)."""
    timeouts: tuple = ()
    jobs: int = 1
    check_jobs: int = 1
    first_failure: bool = False
    # grading: a check's tests start the longest first (the reference's
    # times), so that none starts last and keeps the check waiting for it
    longest_first: bool = False
    stop_after_hang: bool = False
    # make test: the checks after the first build and run at a lower
    # priority, so that on a busy machine they take the cores the first
    # check (functional, whose answer the student reads first) leaves idle.
    favour_first: bool = False
    progress: object = None      # called with (exercise, check, result)
    # called with (exercise, check, test result) for a check's first failed
    # test, before the check's other tests have finished
    first_failed_test: object = None


def run_check(exercise, check_name, source_dir, out_dir, options=Options(),
              stop=None):
    """One check's result; `stop`: a checks.HangStop shared by the
    exercise's checks (options.stop_after_hang)."""
    check = registry.get(check_name)
    timeout = dict(options.timeouts).get(check_name, check.timeout)
    started = time.monotonic()
    result = _run_check(exercise, check, source_dir, out_dir, timeout, options,
                        stop)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _run_check(exercise, check, source_dir, out_dir, timeout, options, stop):
    missing = check.missing()
    if missing:
        return skipped(check.name, missing)
    built = build.build(exercise, check, source_dir, out_dir)
    if not built.ok:
        return failed(check.name, built.cause, built.reason(), built.log)
    student_files = {name: os.path.join(source_dir, name) for name in exercise.edit}
    if check.runs_tests:
        scratch = os.path.join(out_dir, f"{check.name}-runs")

        def limit_for(test):
            # Criterion's .timeout is the test's own; ours only shortens it.
            limit = timelimits.limit(exercise, check, test, timeout)
            return limit, limit + OUTER_MARGIN
        on_failure = None
        if options.first_failed_test:
            def on_failure(test):
                options.first_failed_test(exercise, check.name, test)
        expected = None
        if options.longest_first:
            def expected(test):
                return timelimits.reference(exercise, check, test)
        return checks.run_tests(check, built.binary, scratch, student_files,
                                limit_for, options.jobs, options.first_failure,
                                on_failure, stop, expected)
    return checks.run_workload(check, built.binary, student_files,
                               timelimits.limit(exercise, check, check.name,
                                                timeout), stop)


LOWER_PRIORITY = 10             # a nice value: about a tenth of the CPU


def _lower_this_threads_priority():
    """Linux keeps a nice value per thread, and the processes this thread
    starts inherit it.  Only ever raised (an unprivileged user cannot lower
    it again), which is why it is set on the pool's threads, never on the
    caller's."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(),
                       LOWER_PRIORITY)
    except OSError:
        pass


def run_variant(exercise, source_dir, out_dir, wanted_checks, options=Options()):
    """{check: CheckResult} for the wanted checks that apply to `exercise`,
    `options.check_jobs` checks at once, started in the course's order (the
    functional check's answer comes first; a short workload, second, often
    names a hang in seconds: started after the longer asan check, 18's
    deadlocks were named 12 s later)."""
    wanted = [c for c in exercise.checks if c in wanted_checks]
    stop = checks.HangStop() if options.stop_after_hang else None

    def run(check):
        if options.favour_first and check != wanted[0]:
            _lower_this_threads_priority()
        if stop and stop.by:         # not started: it would most likely hang
            result = stop.skipped(check)
        else:
            result = run_check(exercise, check, source_dir, out_dir, options,
                               stop)
        if options.progress:
            options.progress(exercise, check, result)
        return result
    with concurrent.futures.ThreadPoolExecutor(
            max(1, options.check_jobs)) as pool:
        return dict(zip(wanted, pool.map(run, wanted)))
