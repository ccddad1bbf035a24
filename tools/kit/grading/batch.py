"""`tools/grade batch SUBMISSIONS OUT`: grades a class.

    OUT/grades.csv                 one row per submission
    OUT/results.json               every exercise x check x test, messages
    OUT/feedback/<student>.md      what failed and why
    OUT/submissions/<student>.json each submission's record (written once)

Each record is written atomically when its submission is done; a batch
that is killed and started again grades only the submissions without a
valid record (none, or one made with another kit, other settings or other
files), then rebuilds the summaries from all records.
"""
import concurrent.futures
import fcntl
import hashlib
import os
import queue
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback

from .. import manifest
from . import feedback, kitcopy, records, sandbox, session, submissions, summary

WORK_ROOT = "/tmp"


def _work_dir(out_dir):
    digest = hashlib.sha256(os.path.realpath(out_dir).encode()).hexdigest()[:12]
    return os.path.join(WORK_ROOT, f"threadlings-grade-{digest}")


def _lock(out_dir):
    os.makedirs(out_dir, exist_ok=True)
    handle = open(os.path.join(out_dir, ".lock"), "w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        raise SystemExit(f"grade: another batch is writing {out_dir}") from None
    return handle


def _containment(limits, network_note, subreaper):
    mib = lambda n: n // (1024 * 1024)
    notes = []
    if sandbox.is_root():
        notes.append(f"each submission runs as its own uid ({sandbox.FIRST_UID} "
                     f"and up, one per parallel slot), at most {limits.nproc} "
                     "processes and threads, and all of them are killed when "
                     "its grading ends")
    else:
        notes.append("not root: one submission at a time, as the grader's own "
                     f"user; at most {limits.nproc} more processes; its "
                     "process tree is killed when its grading ends")
    notes.append(network_note)
    notes.append(f"time: {limits.submission_seconds} s per submission, and "
                 "the kit's own limit per test")
    notes.append(f"memory: {mib(limits.memory)} MiB resident, all its "
                 f"processes together; disk: {mib(limits.disk)} MiB of "
                 f"scratch; {mib(limits.fsize)} MiB per file; output: the "
                 "kit keeps 64 KiB per run")
    if not subreaper:
        notes.append("the grader could not become a child subreaper: "
                     "orphaned processes may stay as zombies")
    return notes


def _prebuild(kit_root, exercises, checks):
    """Compiles the kit's own objects (tests, workloads, harness) once, into
    the snapshot, read-only for graded code: each submission then compiles
    only its own files.  Built with the compiler graded builds use (the
    guard), so that the recorded commands match and the objects are used."""
    if not exercises:
        return
    env = dict(os.environ, **sandbox.compiler_environment(kit_root))
    command = [sys.executable, os.path.join(kit_root, "tools", "threadlings"),
               "prebuild", *(f"--exercise={e.name}" for e in exercises),
               *(f"--check={c}" for c in checks)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode != 0:        # each submission then builds its own
        print(f"grade: the kit's objects were not all prebuilt:\n{done.stderr}",
              file=sys.stderr)


def prepare(out_dir, wanted, checks, limits, keep_scratch=False, full=False,
            test_jobs=session.Settings.test_jobs,
            check_jobs=session.Settings.check_jobs):
    """Settings for a batch writing into out_dir (takes its lock)."""
    work_dir = _work_dir(out_dir)
    lock = _lock(out_dir)
    subreaper = sandbox.become_subreaper()
    sandbox.reap_stale()
    shutil.rmtree(work_dir, ignore_errors=True)
    os.makedirs(os.path.join(work_dir, "logs"), mode=0o700)
    os.makedirs(os.path.join(work_dir, "slots"), mode=0o711)
    os.chmod(work_dir, 0o711)
    kit_root = kitcopy.snapshot(os.path.join(work_dir, "kit"))
    chosen = manifest.select(manifest.load(os.path.join(
        kit_root, "exercises", "manifest.toml")), wanted)
    exercises, left_out = [], []
    for exercise in chosen:
        why = kitcopy.missing_files(exercise, kit_root)
        (left_out.append((exercise.name, why)) if why else exercises.append(exercise))
    _prebuild(kit_root, exercises, checks)
    network_prefix, network_note = sandbox.network_isolation()
    settings = session.Settings(
        kit_root, work_dir, exercises, left_out, list(checks), limits,
        network_prefix, _containment(limits, network_note, subreaper),
        python=sandbox.worker_python(), keep_scratch=keep_scratch, full=full,
        test_jobs=test_jobs, check_jobs=check_jobs)
    settings.fingerprint = kitcopy.fingerprint(kit_root, exercises, {
        "checks": tuple(checks), "limits": repr(limits), "full": full})
    settings.lock = lock
    return settings


def _is_current(record, submission, settings):
    if not record or record.get("kit") != settings.fingerprint:
        return False
    collected = submissions.collect(submission, settings.exercises)
    return record.get("submission") == collected.fingerprint()


def _write_feedback(out_dir, record, checks):
    target = os.path.join(out_dir, "feedback", record["student"] + ".md")
    records.write_atomically(target, feedback.render(record, checks))


def _grade_all(todo, settings, out_dir, jobs):
    slots, stopping = queue.Queue(), threading.Event()
    held = [sandbox.acquire_slot() for _ in range(jobs)]
    for slot in held:
        slots.put(slot)

    def grade_one(submission):
        slot = slots.get()
        started = time.monotonic()
        try:
            record = session.grade(submission, settings, slot)
            if stopping.is_set():       # cut short: graded again next time
                return submission, None, 0
            records.save(out_dir, record)
            _write_feedback(out_dir, record, settings.checks)
            return submission, record, time.monotonic() - started
        except Exception:               # a bug of ours: the others go on
            traceback.print_exc()
            sandbox.kill_all(slot)
            return submission, None, time.monotonic() - started
        finally:
            slots.put(slot)

    pool = concurrent.futures.ThreadPoolExecutor(jobs)
    try:
        futures = [pool.submit(grade_one, s) for s in todo]
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            submission, record, seconds = future.result()
            score = (f"{record['total']}/{record['max']}" if record else
                     "NOT GRADED (grader error, see above; run again)")
            print(f"[{done}/{len(todo)}] {submission.id}: {score} "
                  f"({seconds:.0f} s)", file=sys.stderr, flush=True)
    except BaseException:
        stopping.set()
        pool.shutdown(wait=False, cancel_futures=True)
        for slot in held:
            sandbox.kill_all(slot, timeout=5)
        raise
    finally:
        pool.shutdown(wait=True)
        for slot in held:
            sandbox.release_slot(slot)


def _remove_stale(out_dir, students):
    for folder, suffix in ((records.FOLDER, ".json"), ("feedback", ".md")):
        path = os.path.join(out_dir, folder)
        for name in os.listdir(path) if os.path.isdir(path) else []:
            if name.endswith(suffix) and name[:-len(suffix)] not in students:
                os.remove(os.path.join(path, name))


def write_summaries(out_dir, found, settings):
    all_records = [records.load(out_dir, s.id) for s in found]
    all_records = [r for r in all_records if r]
    names = [e.name for e in settings.exercises]
    records.write_atomically(os.path.join(out_dir, "grades.csv"),
                             summary.grades_csv(all_records, names))
    records.write_atomically(os.path.join(out_dir, "results.json"), summary.results_json(
        all_records, summary.settings_summary(settings)))
    for record in all_records:
        _write_feedback(out_dir, record, settings.checks)
    _remove_stale(out_dir, {s.id for s in found})
    return all_records


def _others_can_read(directory):
    """Whether every user can reach `directory` (x on it and its parents)."""
    path = os.path.realpath(directory)
    while True:
        if not os.stat(path).st_mode & 0o001:
            return False
        if os.path.dirname(path) == path:
            return True
        path = os.path.dirname(path)


def run(submissions_dir, out_dir, settings, jobs):
    started = time.monotonic()
    os.makedirs(out_dir, exist_ok=True)
    records.remove_temporaries(out_dir)
    if not sandbox.is_root() and jobs > 1:
        print("grade: not root, so one submission at a time", file=sys.stderr)
        jobs = 1
    found = submissions.discover(submissions_dir, exclude=[out_dir])
    if sandbox.is_root() and _others_can_read(submissions_dir):
        print(f"grade: warning: {submissions_dir} is readable by every user, "
              "so graded code can read the other submissions: chmod 700 it",
              file=sys.stderr)
    todo = [s for s in found
            if not _is_current(records.load(out_dir, s.id), s, settings)]
    for name, why in settings.left_out:
        print(f"grade: {name} left out: {why}", file=sys.stderr)
    print(f"grade: {len(found)} submissions, {len(found) - len(todo)} already "
          f"graded, {len(todo)} to grade, {jobs} at a time; exercises: "
          f"{', '.join(e.name for e in settings.exercises) or 'none'}",
          file=sys.stderr, flush=True)
    if todo:
        _grade_all(todo, settings, out_dir, jobs)
    all_records = write_summaries(out_dir, found, settings)
    missing = len(found) - len(all_records)
    if missing:
        print(f"grade: {missing} submissions have no grade (grader errors): "
              "run the same command again", file=sys.stderr)
    elapsed = time.monotonic() - started
    if todo:
        print(f"grade: graded {len(todo)} submissions in {elapsed:.0f} s "
              f"({len(todo) * 60 / elapsed:.1f} per minute)", file=sys.stderr)
    if todo:
        settings.slowest = slowest_exercise(os.path.join(settings.work_dir,
                                                         "logs"))
        print(f"grade: the slowest exercise took {settings.slowest}",
              file=sys.stderr)
    if not settings.keep_scratch:
        shutil.rmtree(settings.work_dir, ignore_errors=True)
    print(f"grade: {len(all_records)} results in {out_dir}: grades.csv, "
          "results.json, feedback/", file=sys.stderr)
    return all_records, missing


def slowest_exercise(logs):
    """The longest time one exercise of one submission held its slot, from
    the workers' logs ("NN_name: 12.3 s")."""
    found = []
    try:
        names = os.listdir(logs)
    except OSError:
        names = []
    for name in names:
        if name.endswith(".log"):
            with open(os.path.join(logs, name), encoding="utf-8",
                      errors="replace") as log:
                found += [(float(m.group(2)), f"{m.group(1)} of {name[:-4]}")
                          for m in re.finditer(r"^(\d\d_\w+): ([\d.]+) s$",
                                               log.read(), re.M)]
    if not found:
        return "unknown"
    seconds, which = max(found)
    return f"{seconds:.0f} s ({which})"
