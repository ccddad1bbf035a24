"""Runs the checks of one variant of one exercise: build, then run."""
import os
import time

from . import build, checks, registry
from .results import failed, skipped


def run_check(exercise, check_name, source_dir, out_dir, timeouts=None):
    """One check's result.  `timeouts` ({check: seconds}) overrides the
    registry's time limit per run (the grader's --workload-timeout)."""
    check = registry.get(check_name)
    timeout = (timeouts or {}).get(check_name, check.timeout)
    started = time.monotonic()
    result = _run_check(exercise, check, source_dir, out_dir, timeout)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _run_check(exercise, check, source_dir, out_dir, timeout):
    missing = check.missing()
    if missing:
        return skipped(check.name, missing)
    built = build.build(exercise, check, source_dir, out_dir)
    if not built.ok:
        return failed(check.name, built.cause, built.reason(), built.log)
    student_files = set(exercise.edit)
    if check.runs_tests:
        scratch = os.path.join(out_dir, f"{check.name}-runs")
        return checks.run_tests(check, built.binary, scratch, student_files,
                                timeout)
    return checks.run_workload(check, built.binary, student_files, timeout)


def run_variant(exercise, source_dir, out_dir, wanted_checks, timeouts=None):
    """{check: CheckResult} for the wanted checks that apply to `exercise`."""
    return {check: run_check(exercise, check, source_dir, out_dir, timeouts)
            for check in exercise.checks if check in wanted_checks}
