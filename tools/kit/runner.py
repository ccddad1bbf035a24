"""Runs the checks of one variant of one exercise: build, then run."""
import hashlib
import os
import time

from . import build, checks, policy
from .results import FAIL, REFUSED, CheckResult, skipped

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
    refused = policy_refusal(exercise, check, source_dir, out_dir)
    if refused:
        return refused
    built = build.build(exercise, source_dir, out_dir, BINARY_FOR[check])
    if not built.ok:
        return CheckResult(check, "fail", built.reason(), report=built.log)
    student_files = set(exercise.edit)
    if check in ("functional", "asan"):
        scratch = os.path.join(out_dir, f"{check}-runs")
        return checks.run_criterion(check, built.binary, scratch, student_files)
    return checks.run_workload(check, built.binary, student_files)


_VERDICTS = {}


def _policy_verdict(exercise, source_dir, out_dir):
    """policy.check_sources, once per content of the student's files (the
    four checks of a variant share it)."""
    digest = hashlib.sha256(exercise.name.encode())
    for name in exercise.edit:
        try:
            with open(os.path.join(source_dir, name), "rb") as handle:
                digest.update(name.encode() + b"\0" + handle.read() + b"\0")
        except OSError:
            return None                 # missing: the build says so
    key = (digest.hexdigest(), os.environ.get("CC", ""))
    if key not in _VERDICTS:
        _VERDICTS[key] = policy.check_sources(exercise, source_dir, out_dir)
    return _VERDICTS[key]


def policy_refusal(exercise, check, source_dir, out_dir):
    """A failed CheckResult (cause "refused") if the student's files, each
    compiled alone, contain what tools/kit/policy.py refuses; None if they
    may be linked, or do not compile (the build then says why).  Runs before
    anything of the variant is linked, for every check."""
    try:
        refused = _policy_verdict(exercise, source_dir, out_dir)
    except (OSError, RuntimeError, ValueError) as problem:
        return CheckResult(check, FAIL, "the kit could not check what your "
                           f"files contain ({problem}): nothing was run",
                           cause=REFUSED)
    if not refused:
        return None
    return CheckResult(check, FAIL, policy.summary(refused),
                       report="\n".join(r.message for r in refused),
                       cause=REFUSED)


def run_variant(exercise, source_dir, out_dir, wanted_checks):
    """{check: CheckResult} for the wanted checks that apply to `exercise`."""
    results = {}
    for check in exercise.checks:
        if check in wanted_checks:
            results[check] = run_check(exercise, check, source_dir, out_dir)
    return results
