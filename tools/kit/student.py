"""The student's loop: `make status`, `make next`, `make watch`, `make reset`.

Every `make test` leaves each exercise's last results in
build/status/NN.json, with a digest of the files the student edits, so
that `make status` is instant and can tell a result that is out of date
(the file changed since) from a fresh one.
"""
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time

from . import manifest, processes, registry, table
from .files import write_atomically
from .paths import BUILD_ROOT, KIT_ROOT
from .results import PASS

STATUS_DIR = BUILD_ROOT / "status"
# In a student's copy, the stubs as handed out (for `make reset`).
PRISTINE = KIT_ROOT / "tools" / "stubs"
HINTS_DIR = BUILD_ROOT / "hints"


def _digest(exercise, source_root):
    digest = hashlib.sha256()
    for name in exercise.edit:
        try:
            with open(os.path.join(source_root, exercise.name, name), "rb") as handle:
                digest.update(handle.read())
        except OSError:
            digest.update(b"missing")
    return digest.hexdigest()[:16]


def save(exercise, results, source_root):
    """Keeps these results (merged with earlier ones of other checks) while
    the student's files stay as they were."""
    path = STATUS_DIR / f"{exercise.name}.json"
    digest = _digest(exercise, source_root)
    known = _load(exercise)
    checks = known["checks"] if known and known["files"] == digest else {}
    checks.update({c: {"status": r.status, "cause": r.cause, "reason": r.reason}
                   for c, r in results.items()})
    write_atomically(str(path), json.dumps({"files": digest, "checks": checks}) + "\n")


def _load(exercise):
    try:
        with open(STATUS_DIR / f"{exercise.name}.json", encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def state(exercise, source_root):
    """{check: status} of the last run, "-" where never run, "?" where the
    student's files changed since."""
    known = _load(exercise)
    if not known:
        return {c: "-" for c in exercise.checks}
    changed = known["files"] != _digest(exercise, source_root)
    return {c: ("?" if changed else table.SHOWN[known["checks"][c]["status"]])
            if c in known["checks"] else "-" for c in exercise.checks}


def passes(exercise, source_root):
    return all(s == table.SHOWN[PASS] for s in state(exercise, source_root).values())


def next_exercise(exercises, source_root):
    return next((e for e in exercises if not passes(e, source_root)), None)


def status(exercises, source_root):
    names = registry.NAMES
    rows = []
    pending = next_exercise(exercises, source_root)
    for exercise in exercises:
        known = state(exercise, source_root)
        mark = "<- next" if exercise is pending else ""
        rows.append([exercise.name, *(known.get(c, "") for c in names), mark])
    done = sum(1 for e in exercises if passes(e, source_root))
    lines = [table.render(["exercise", *names, ""], rows), "",
             f"{done} of {len(exercises)} exercises pass every check.  "
             "-: not run yet; ?: your file changed since the last run."]
    if pending:
        lines.append(f"Next: exercises/{pending.name}/README.md, then "
                     f"`make watch EX={pending.number}`.")
    return "\n".join(lines)


def _mtimes(exercise, source_root):
    return [os.stat(os.path.join(source_root, exercise.name, n)).st_mtime_ns
            if os.path.exists(os.path.join(source_root, exercise.name, n)) else 0
            for n in exercise.edit]


def watch(exercise, exercises, source_root, run_test):
    """Runs the exercise's checks, then again each time one of its files is
    saved, until Ctrl-C.  Polls the files' times twice a second (nothing to
    install, and it works on every file system)."""
    print("watch: polling the files' modification times twice a second")

    def interrupted(signum, frame):
        processes.kill_running()        # runs in their own sessions
        raise KeyboardInterrupt
    signal.signal(signal.SIGINT, interrupted)
    seen = None
    try:
        while True:
            now = _mtimes(exercise, source_root)
            if now != seen:
                seen = now
                print("\033[H\033[2J", end="")      # clear the screen
                print(f"watch: {exercise.name} ({', '.join(exercise.edit)}); "
                      "Ctrl-C ends it\n", flush=True)
                run_test(exercise)
                if passes(exercise, source_root):
                    following = next_exercise(exercises, source_root)
                    print(f"\n{exercise.name} passes every check." +
                          (f"  Next: `make watch EX={following.number}`."
                           if following else "  That was the last one."))
                print("\nwatch: waiting for a change...", flush=True)
            time.sleep(0.5)
    except KeyboardInterrupt:
        print("\nwatch: stopped")
        return 0


def reset(exercise, force):
    """Puts the exercise's stub back (as git has it) and its hints."""
    files = [os.path.join("exercises", exercise.name, n) for n in exercise.edit]
    if not force:
        if not sys.stdin.isatty():
            print("reset: this overwrites " + ", ".join(files) +
                  "; run it with FORCE=1 to go ahead")
            return 2
        answer = input(f"Overwrite {', '.join(files)} with the stub? [y/N] ")
        if answer.strip().lower() not in ("y", "yes"):
            print("reset: nothing changed")
            return 1
    pristine = PRISTINE / exercise.name
    if pristine.is_dir():               # a student's copy: no git history
        for name in exercise.edit:
            shutil.copy(pristine / name, KIT_ROOT / "exercises" / exercise.name / name)
    else:
        done = subprocess.run(["git", "-C", str(KIT_ROOT), "checkout", "HEAD",
                               "--", *files], capture_output=True, text=True)
        if done.returncode != 0:
            print("reset: git could not restore the stub: " + done.stderr.strip())
            return 1
    for stale in (HINTS_DIR / exercise.name, STATUS_DIR / f"{exercise.name}.json"):
        if stale.exists():
            stale.unlink()
    print(f"reset: {', '.join(files)} is the stub again; hints start over")
    return 0


# What a student's copy takes from the top of the kit: a list of what to
# keep, not of what to leave out, so that nothing else lying there (a
# stray build of a solution once was) goes to students.
FOR_STUDENTS = ("exercises", "tests", "tools", "Makefile", "README.md",
                ".clang-format", ".gitignore")
# What it leaves out below those: the kit's own proofs.
NOT_FOR_STUDENTS = (os.path.join("tests", "selftest"),
                    os.path.join("tools", "kit", "selftest"))


def _stub(exercise, name):
    """The stub as git has it, not as it lies in the working tree: an
    instructor who solved an exercise in this checkout must not hand the
    answer out.  Without git (a copy of a copy), the file as it is."""
    path = f"exercises/{exercise.name}/{name}"
    shown = subprocess.run(["git", "-C", str(KIT_ROOT), "show", f"HEAD:{path}"],
                           capture_output=True)
    if shown.returncode == 0:
        current = (exercise.exercise_dir / name).read_bytes()
        if current != shown.stdout:
            print(f"student-copy: {path} differs from the stub in git; the "
                  "copy gets the stub")
        return shown.stdout
    return (exercise.exercise_dir / name).read_bytes()


def student_copy(destination):
    """The kit without solutions, mutants and self-tests: a folder and a
    .tar.gz beside it.  Its `make test` works; `make verify` says it needs
    the solutions."""
    destination = os.path.abspath(destination)
    if os.path.exists(destination):
        print(f"student-copy: {destination} exists already")
        return 2

    def ignore(directory, names):
        relative = os.path.relpath(directory, KIT_ROOT)
        if relative == ".":
            return {n for n in names if n not in FOR_STUDENTS}
        return {n for n in names if n == "__pycache__" or
                os.path.normpath(os.path.join(relative, n)) in NOT_FOR_STUDENTS}
    shutil.copytree(KIT_ROOT, destination, ignore=ignore)
    for exercise in manifest.load():
        kept = os.path.join(destination, "tools", "stubs", exercise.name)
        os.makedirs(kept)
        for name in exercise.edit:
            stub = _stub(exercise, name)
            for folder in (kept, os.path.join(destination, "exercises",
                                              exercise.name)):
                with open(os.path.join(folder, name), "wb") as handle:
                    handle.write(stub)
    archive = shutil.make_archive(destination, "gztar",
                                  os.path.dirname(destination),
                                  os.path.basename(destination))
    print(f"student-copy: {destination}/ and {archive}")
    return 0
