"""Runs the checks of one variant of one exercise: build, then run."""
import os
import time

from . import build, checks
from .results import CheckResult, skipped

BINARY_FOR = {"functional": "functional", "asan": "asan",
              "tsan": "tsan", "helgrind": "helgrind"}


def run_check(exercise, check, source_dir, out_dir):
    started = time.monotonic()
    result = _run_check(exercise, check, source_dir, out_dir)
    result.seconds = round(time.monotonic() - started, 2)
    return result


def _run_check(exercise, check, source_dir, out_dir):
    missing = checks.tool_missing(check)
    if missing:
        return skipped(check, missing)
    built = build.build(exercise, source_dir, out_dir, BINARY_FOR[check])
    if not built.ok:
        return CheckResult(check, "fail", built.reason(), report=built.log)
    student_files = set(exercise.edit)
    if check in ("functional", "asan"):
        scratch = os.path.join(out_dir, f"{check}-runs")
        return checks.run_criterion(check, built.binary, scratch, student_files)
    return checks.run_workload(check, built.binary, student_files)


def run_variant(exercise, source_dir, out_dir, wanted_checks):
    """{check: CheckResult} for the wanted checks that apply to `exercise`."""
    results = {}
    for check in exercise.checks:
        if check in wanted_checks:
            results[check] = run_check(exercise, check, source_dir, out_dir)
    return results
