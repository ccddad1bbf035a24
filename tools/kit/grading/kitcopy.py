"""The kit's own copy that submissions are graded against.

A batch takes a snapshot of the kit when it starts (Makefile, exercises/,
tests/, tools/; never solutions/ or build/), owned by root and read-only
for graded code: tests, headers, flags and tools always come from it.
"""
import compileall
import hashlib
import os
import shutil

from .. import registry
from ..paths import KIT_ROOT

COPIED = ("Makefile", "exercises", "tests", "tools")
NEVER = {"__pycache__", "build", ".git"}
# The kit's self-tests: what proves the kit, not what grades with it.
NEVER_PATHS = {os.path.join("tests", "selftest"),
               os.path.join("tools", "kit", "selftest")}
# Run as programs (an unzip may have lost their modes).
EXECUTABLE = {os.path.join("tools", "grade"), os.path.join("tools", "threadlings"),
              os.path.join("tools", "kit", "grading", "cc_guard.py")}


def _ignore(top):
    def ignore(directory, names):
        relative = os.path.relpath(directory, top)
        return {n for n in names if n in NEVER or n.endswith(".pyc") or
                os.path.normpath(os.path.join(relative, n)) in NEVER_PATHS}
    return ignore


def snapshot(target, source=KIT_ROOT):
    """Copies the kit into `target` (which must not exist) and returns it."""
    os.makedirs(target)
    for name in COPIED:
        origin = os.path.join(source, name)
        if os.path.isdir(origin):
            shutil.copytree(origin, os.path.join(target, name),
                            ignore=_ignore(source), symlinks=False)
        else:
            shutil.copy2(origin, os.path.join(target, name))
    compileall.compile_dir(os.path.join(target, "tools"), quiet=1)
    for here, dirs, files in os.walk(target):
        os.chmod(here, 0o755)
        for name in files:
            path = os.path.join(here, name)
            runs = os.access(path, os.X_OK) or \
                os.path.relpath(path, target) in EXECUTABLE
            os.chmod(path, 0o755 if runs else 0o644)
    return target


def missing_files(exercise, root):
    """Why the kit cannot grade `exercise` (files not written yet), or None."""
    exercise_dir = os.path.join(root, "exercises", exercise.name)
    tests_dir = os.path.join(root, "tests", exercise.name)
    listing = lambda d: os.listdir(d) if os.path.isdir(d) else []
    if not os.path.isdir(exercise_dir):
        return f"exercises/{exercise.name}/ does not exist yet"
    if not any(n.endswith(".h") for n in listing(exercise_dir)):
        return f"exercises/{exercise.name}/ has no header yet"
    programs = {registry.get(c).runs_tests for c in exercise.checks}
    if True in programs and not any(n.startswith("test_") and n.endswith(".c")
                                    for n in listing(tests_dir)):
        return f"tests/{exercise.name}/ has no test_*.c yet"
    if False in programs and "workload.c" not in listing(tests_dir):
        return f"tests/{exercise.name}/workload.c does not exist yet"
    return None


def _files_under(path):
    if os.path.isfile(path):
        yield path
        return
    for here, dirs, files in os.walk(path):
        dirs.sort()
        for name in sorted(files):
            if not name.endswith(".pyc"):
                yield os.path.join(here, name)


# The grader's modules that decide what a record holds (the others only
# schedule the work or present records: changing them regrades nothing).
RECORD_MAKERS = ("cc_guard.py", "jail.py", "procs.py", "sandbox.py", "scoring.py",
                 "session.py", "submissions.py", "watchdog.py", "worker.py")


def fingerprint(root, exercises, settings):
    """A digest of everything that decides a grade: the kit files that
    the graded exercises use, and the grading settings."""
    digest = hashlib.sha256(repr(sorted(settings.items())).encode())
    kit_tools = os.path.join(root, "tools", "kit")
    parts = ["Makefile", os.path.join("tests", "harness")]
    parts += [os.path.join("tools", "kit", n) for n in sorted(os.listdir(kit_tools))
              if n.endswith(".py")]
    parts += [os.path.join("tools", "kit", "grading", n) for n in RECORD_MAKERS]
    for exercise in exercises:
        digest.update(repr((exercise.name, exercise.edit, exercise.checks,
                            sorted(exercise.weights.items()),
                            exercise.libs)).encode())
        parts += [os.path.join("tests", exercise.name)]
        parts += [os.path.join("exercises", exercise.name, n) for n in
                  sorted(os.listdir(os.path.join(root, "exercises", exercise.name)))
                  if n.endswith(".h")]
    for part in parts:
        for path in _files_under(os.path.join(root, part)):
            digest.update(os.path.relpath(path, root).encode() + b"\0")
            with open(path, "rb") as handle:
                digest.update(hashlib.sha256(handle.read()).digest())
    return digest.hexdigest()[:16]
