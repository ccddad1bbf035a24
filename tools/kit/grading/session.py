"""Grades one submission: its edited files into a scratch tree, the kit's
checks on them inside the jail, then its record (see records.py)."""
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time

from .. import criterion_files
from ..paths import FILE_SIZE_LIMIT as KIT_FILE_SIZE_LIMIT
from . import jail, sandbox, scoring, submissions, watchdog

RESULTS_CAP = 16 * 1024 * 1024


@dataclasses.dataclass
class Settings:
    kit_root: str            # the kit's snapshot (tools, tests, headers)
    work_dir: str            # scratch trees and logs (root only)
    exercises: list          # the exercises graded (kit files present)
    left_out: list           # [(exercise name, why)] not graded at all
    checks: list
    limits: sandbox.Limits
    network_prefix: list
    containment: list        # what is in force, for the summary
    python: str = "python3"   # the interpreter the graded uid runs
    fingerprint: str = ""
    keep_scratch: bool = False
    full: bool = False       # every test of a failing check (feedback)
    # Tests of one check run at once in a slot: a correct submission's time
    # is mostly tests waiting out a "not yet" window, not CPU.  One correct
    # submission of the 20 exercises, graded alone, idle machine: the
    # functional check 66 s at 1, 39 s at 2, 34 s at 3; asan 87, 53, 45 s;
    # the CPU time the same (18 and 39 s).  The record stays the same from
    # run to run: a failing check keeps the tests up to its first failure
    # in listing order (checks.run_tests), as one at a time would.
    test_jobs: int = 3
    # Checks of one exercise run at once in a slot, each with its test_jobs
    # (see worker.py): one correct submission of the 20 exercises, graded
    # alone on the idle 2-core machine, took 118 s with one check at a
    # time and 55 s with the four side by side, for the same CPU time.
    check_jobs: int = 4
    slowest: str = "unknown"     # the batch's slowest exercise, once graded

    @property
    def grade_script(self):
        return os.path.join(self.kit_root, "tools", "grade")


def _write_sources(scratch, collected, submitted):
    for exercise in submitted:
        folder = os.path.join(scratch, "exercises", exercise.name)
        os.makedirs(folder)
        for name, data in collected.files[exercise.name].items():
            with open(os.path.join(folder, name), "wb") as handle:
                handle.write(data)
    os.makedirs(os.path.join(scratch, "tmp"))


def _prepare_scratch(settings, slot, submission, collected, submitted):
    owner = "self" if slot.uid is None else str(slot.uid)
    scratch = os.path.join(settings.work_dir, "slots", owner, submission.id)
    shutil.rmtree(scratch, ignore_errors=True)
    os.makedirs(os.path.dirname(scratch), mode=0o711, exist_ok=True)
    os.mkdir(scratch, 0o700)
    _write_sources(scratch, collected, submitted)
    if slot.uid is not None:
        for here, dirs, files in os.walk(scratch):
            for path in [here, *(os.path.join(here, f) for f in files)]:
                os.chown(path, slot.uid, slot.gid)
    os.chmod(scratch, 0o700)
    return scratch


def _run_jail(settings, slot, scratch, submitted, log_path, channel_path):
    channel = os.open(channel_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    worker = [settings.python, "-I", "-B", settings.grade_script, "_worker",
              f"--scratch={scratch}", f"--results-fd={channel}"]
    worker += [f"--exercise={e.name}" for e in submitted]
    worker += [f"--check={c}" for c in settings.checks]
    worker.append(f"--fsize={min(settings.limits.fsize, KIT_FILE_SIZE_LIMIT)}")
    worker.append(f"--workload-timeout={settings.limits.workload_seconds}")
    worker.append(f"--test-jobs={settings.test_jobs}")
    worker.append(f"--check-jobs={settings.check_jobs}")
    if settings.full:
        worker.append("--full")
    # Another user's leftovers would make this uid's runners abort.
    criterion_files.sweep()
    command = sandbox.jail_command(slot, settings.limits, settings.network_prefix,
                                   settings.grade_script, worker, channel)
    deadline = time.monotonic() + settings.limits.submission_seconds
    with open(log_path, "wb") as log:
        try:
            process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                cwd=scratch, env=sandbox.clean_environment(scratch, settings.kit_root),
                start_new_session=True, pass_fds=(channel,))
        finally:
            os.close(channel)
    sandbox.started(process.pid)
    try:
        outcome = watchdog.watch(process, slot, settings.limits, scratch, deadline)
        # What the worker sends while it is being killed at a limit (a check
        # whose program the kill ended first) is not a result: read the
        # channel only up to this point.
        outcome.results_end = os.path.getsize(channel_path) \
            if outcome.timed_out or outcome.stopped else None
        leftovers = [p for p in sandbox.slot_processes(slot)
                     if p.state != "Z" and p.pid != process.pid]
        sandbox.kill_all(slot)
        process.wait()
    finally:
        sandbox.finished(process.pid)
    sandbox.remove_files_of(slot)
    leftovers = leftovers or jail.LEFT_RUNNING in _log_text(log_path)
    return outcome, leftovers and not (outcome.timed_out or outcome.stopped)


def _read_results(channel_path, end=None):
    """({exercise: {"checks": {check: result}}}, [note]) from the worker's
    lines (a line cut short by a kill is left out)."""
    found, notes = {}, []
    try:
        with open(channel_path, "rb") as handle:
            size = RESULTS_CAP if end is None else min(end, RESULTS_CAP)
            lines = handle.read(size).decode("utf-8", "replace").splitlines()
    except OSError:
        return found, notes
    for line in lines:
        try:
            data = json.loads(line)
            if "note" in data:
                notes.append(str(data["note"])[:scoring.MAX_TEXT])
                continue
            exercise, check = str(data["exercise"]), str(data["check"])
            result = data["result"]
        except (ValueError, KeyError, TypeError):
            continue
        found.setdefault(exercise, {"checks": {}})["checks"][check] = result
    return found, notes


def _log_text(log_path, size=4000):
    try:
        with open(log_path, "rb") as handle:
            handle.seek(max(0, os.path.getsize(log_path) - size))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _log_tail(log_path):
    lines = [l for l in _log_text(log_path).strip().splitlines()
             if l != jail.LEFT_RUNNING]
    return lines[-1] if lines else "it ended without a word"


def _why_not_graded(settings, outcome):
    if outcome.timed_out:
        return scoring.not_graded("the submission's time limit "
                                  f"({settings.limits.submission_seconds} s) "
                                  "ran out first")
    if outcome.stopped:
        return scoring.not_graded(f"the submission was stopped: it {outcome.stopped}")
    return scoring.not_graded("the grading of this submission ended before "
                              "this check (its processes were killed, by "
                              "itself or the grader)")


def _incomplete(results, submitted, checks):
    return any(c not in results.get(e.name, {}).get("checks", {})
               for e in submitted for c in e.checks if c in checks)


def _submitted(settings, collected):
    submitted, missing = [], {}
    for exercise in settings.exercises:
        have = collected.files.get(exercise.name, {})
        absent = [n for n in exercise.edit if n not in have]
        if absent:
            missing[exercise.name] = scoring.not_submitted(
                f"{', '.join(absent)} is missing" if have else "")
        else:
            submitted.append(exercise)
    return submitted, missing


def grade(submission, settings, slot):
    """The record of one submission (a dict, see records.py)."""
    collected = submissions.collect(submission, settings.exercises)
    submitted, why_not = _submitted(settings, collected)
    notes = list(collected.notes)
    if collected.error:
        notes.append(collected.error)
        why_not = {e.name: scoring.not_submitted(collected.error)
                   for e in settings.exercises}
        submitted = []
    results = {}
    if submitted:
        scratch = _prepare_scratch(settings, slot, submission, collected, submitted)
        log_path = os.path.join(settings.work_dir, "logs", submission.id + ".log")
        channel_path = os.path.join(settings.work_dir, "logs", submission.id + ".results")
        outcome, leftovers = _run_jail(settings, slot, scratch, submitted,
                                       log_path, channel_path)
        results, worker_notes = _read_results(channel_path, outcome.results_end)
        notes += worker_notes
        for exercise in submitted:
            why_not[exercise.name] = _why_not_graded(settings, outcome)
        if _incomplete(results, submitted, settings.checks) and not \
                (outcome.timed_out or outcome.stopped):
            print(f"grade: {submission.id}: the worker ended early; its log "
                  f"ends: {_log_tail(log_path)}", file=sys.stderr)
        if outcome.timed_out:
            notes.append("grading was stopped at the submission's time limit "
                         f"({settings.limits.submission_seconds} s)")
        if outcome.stopped:
            notes.append(f"grading was stopped: the submission {outcome.stopped}")
        if leftovers:
            notes.append("processes the submission left running at its end "
                         "were killed")
        if not settings.keep_scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    entries = [scoring.exercise_entry(e, settings.checks,
                                      collected.taken_from.get(e.name, {}),
                                      results.get(e.name),
                                      why_not.get(e.name, scoring.not_graded("")))
               for e in settings.exercises]
    total, maximum = scoring.totals(entries)
    return {"student": submission.id, "source": submission.source,
            "kit": settings.fingerprint, "submission": collected.fingerprint(),
            "total": total, "max": maximum, "notes": notes, "exercises": entries}
