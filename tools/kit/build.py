"""Builds one check's binary of one exercise variant.

The commands are written from the registry (flags) and the manifest
(files, libraries).  Each C file becomes an object, then the objects are
linked:
  - the student's files, compiled into the variant's own build folder;
  - the kit's tests or workload and the harness, which are the same for
    every variant: compiled once into a shared cache (build/objects, or
    $THREADLINGS_OBJECTS) and reused by every variant and every submission.
Headers, tests and flags always come from the kit itself.  A cached object
is rebuilt when an input is newer or when its command changed (a different
CC, other flags): `<file>.cmd` beside it records the command.

The student's objects and the binaries are made afresh every time, never
reused: code under test runs with write access to its build folder, and a
file it left there (a planted object, or a binary that prints what the
checks want) must never stand in for a build of the submitted source.
"""
import dataclasses
import functools
import os
import re
import shlex
import threading

from . import policy, processes, registry
from .paths import BUILD_ROOT, KIT_ROOT
from .results import COMPILE_ERROR, REFUSED

BUILD_TIMEOUT = 180
HARNESS = KIT_ROOT / "tests" / "harness"
# The workload's own main and helpers; the rest of the harness is for tests.
WORKLOAD_HARNESS = ("workload.c", "clock.c", "interleavings.c")


@dataclasses.dataclass
class Built:
    ok: bool
    binary: str
    log: str
    cause: str = COMPILE_ERROR
    objects: dict = dataclasses.field(default_factory=dict)  # student file -> .o

    def reason(self):
        """The compiler's first error, as a student would want to see it;
        or the object policy's refusal."""
        if self.cause == REFUSED:
            return self.log
        for line in self.log.splitlines():
            if re.search(r"\berror\b", line):
                return "does not compile: " + _short_paths(line.strip())
        last = self.log.strip().splitlines()[-1:] or ["(no output)"]
        return "does not build: " + _short_paths(last[0])


def _short_paths(text):
    return re.sub(r"(?:[\w.+-]*/)+([\w.+-]+\.[ch]\b)", r"\1", text)


def compiler():
    return os.environ.get("CC", "gcc")


def linker():
    """The grader's CC (grading/cc_guard.py) checks what a submitted C file
    includes; a link preprocesses nothing, so it skips the guard and the
    Python start it costs (a third of the guard's runs)."""
    return policy.real_compiler(default="gcc")


def object_cache():
    return os.environ.get("THREADLINGS_OBJECTS") or str(BUILD_ROOT / "objects")


@functools.lru_cache(maxsize=None)
def criterion_flags():
    done = processes.run(["pkg-config", "--cflags", "--libs", "criterion"],
                         timeout=20)
    return tuple(done.stdout.split()) if done.returncode == 0 else ("-lcriterion",)


def _sorted(paths):
    return sorted(str(p) for p in paths)


def kit_sources(exercise, check):
    """The kit's C files in `check`'s binary of `exercise`."""
    tests = exercise.tests_dir
    support = _sorted(tests.glob("support_*.c"))
    if check.runs_tests:
        harness = [p for p in _sorted(HARNESS.glob("*.c"))
                   if os.path.basename(p) != "workload.c"]
        return _sorted(tests.glob("test_*.c")) + support + harness
    return [str(tests / "workload.c")] + support + \
        [str(HARNESS / name) for name in WORKLOAD_HARNESS]


def headers(exercise):
    return _sorted([*exercise.exercise_dir.glob("*.h"), *HARNESS.glob("*.h"),
                    *exercise.tests_dir.glob("*.h")])


def _in_harness(source):
    return os.path.dirname(source) == str(HARNESS)


def compile_flags(exercise, check, source, flags=None):
    """The harness never includes an exercise's header: its objects are
    the same for every exercise."""
    exercise_dir = [] if _in_harness(source) else ["-I", str(exercise.exercise_dir)]
    return [*registry.STRICT_FLAGS, *(check.flags if flags is None else flags),
            *exercise_dir, "-I", str(HARNESS)]


def compile_command(exercise, check, source, obj, flags=None):
    return [compiler(), *compile_flags(exercise, check, source, flags), "-c",
            "-o", obj, source]


def link_command(exercise, check, objects, binary):
    link = list(exercise.libs)
    if check.runs_tests:
        link = [f"-Wl,--wrap={name}" for name in registry.WRAPPED] + \
            list(criterion_flags()) + link
    else:
        link = [f"-Wl,--wrap={name}" for name in registry.WORKLOAD_WRAPPED] + link
    return [linker(), *registry.STRICT_FLAGS, *check.flags, "-o", binary,
            *objects, *link]


def _current(target, inputs, recorded):
    """Whether `target` was made by `recorded` from inputs no newer."""
    try:
        made = os.path.getmtime(target)
        with open(target + ".cmd", encoding="utf-8") as handle:
            if handle.read() != recorded:
                return False
        return all(os.path.getmtime(path) <= made for path in inputs)
    except OSError:
        return False


def _make(target, command_for, inputs, reuse=True):
    """Makes `target` with the command `command_for(output)` unless `reuse`
    and it is current: (ok, log).  The output is written under a name of its own,
    then renamed, with its record: two builds of one cached object at once
    never leave a half-written file."""
    recorded = shlex.join(command_for(target)) + "\n"
    if reuse and _current(target, inputs, recorded):
        return True, ""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    temporary = f"{target}.{os.getpid()}.{threading.get_ident()}.tmp"
    done = processes.run(command_for(temporary), timeout=BUILD_TIMEOUT)
    log = (done.stdout + done.stderr).replace(temporary, target)
    if done.timed_out:
        log += f"\nthe build took longer than {BUILD_TIMEOUT} s"
    ok = done.returncode == 0 and os.path.exists(temporary)
    if ok:
        with open(temporary + ".cmd", "w", encoding="utf-8") as handle:
            handle.write(recorded)
        os.replace(temporary, target)
        os.replace(temporary + ".cmd", target + ".cmd")
    elif os.path.exists(temporary):
        os.remove(temporary)
    return ok, log


def _kit_object(exercise, check, source, fallback_dir):
    """The cached object of one of the kit's files (built if need be); where
    the cache cannot be written (graded code, when the grader did not fill
    it), one made afresh in `fallback_dir`, a folder the code under test
    can write to and so never reused."""
    name = os.path.basename(source)[:-2] + ".o"
    shared = "harness" if _in_harness(source) else exercise.name
    inputs = [source, *headers(exercise)]
    cache = os.path.join(object_cache(), os.path.basename(compiler()))
    for folder in (os.path.join(cache, check.name, shared),
                   fallback_dir):
        if folder is None:
            continue
        obj = os.path.join(folder, name)
        cached = folder != fallback_dir
        command_for = functools.partial(compile_command, exercise, check, source)
        if cached and _current(obj, inputs, shlex.join(command_for(obj)) + "\n"):
            return obj, True, ""
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:
            continue
        if os.access(folder, os.W_OK):
            ok, log = _make(obj, command_for, inputs, reuse=cached)
            return obj, ok, log
    return None, False, f"cannot write an object for {source}"


def _compile_student(exercise, check, source, obj, flags=None):
    return _make(obj, functools.partial(compile_command, exercise, check,
                                        source, flags=flags),
                 [source, *headers(exercise)], reuse=False)


def _refusal(exercise, check, source_dir, objects_dir, student):
    """Why the object policy refuses the student's objects, or None."""
    checked = dict(student)
    if check.sanitizer_macros:
        for name in exercise.edit:
            checked[name] = os.path.join(objects_dir, name[:-2] + ".policy.o")
            ok, log = _compile_student(exercise, check,
                                       os.path.join(source_dir, name),
                                       checked[name], check.policy_flags())
            if not ok:
                return log.strip() or "the policy's copy does not compile"
    refused = policy.refusals_cached(exercise, checked)
    return policy.summary(refused) if refused else None


def build(exercise, check, source_dir, out_dir):
    """Builds `check`'s binary (a registry.Check) into out_dir.  The
    student's objects must keep the object policy (tools/kit/policy.py)
    before anything is linked with them."""
    binary = os.path.join(out_dir, check.name)
    objects_dir = os.path.join(out_dir, f"{check.name}-objects")
    student = {}
    for name in exercise.edit:
        source, obj = os.path.join(source_dir, name), \
            os.path.join(objects_dir, name[:-2] + ".o")
        ok, log = _compile_student(exercise, check, source, obj)
        if not ok:
            return Built(False, binary, log)
        student[name] = obj
    try:
        refused = _refusal(exercise, check, source_dir, objects_dir, student)
    except (OSError, RuntimeError, ValueError) as problem:
        refused = f"the kit could not check what your files contain ({problem})"
    if refused:
        return Built(False, binary, refused + ": nothing was run", REFUSED,
                     student)
    kit = []
    for source in kit_sources(exercise, check):
        obj, ok, log = _kit_object(exercise, check, source,
                                   os.path.join(objects_dir, "kit"))
        if not ok:
            return Built(False, binary, log)
        kit.append(obj)
    objects = [*student.values(), *kit]
    ok, log = _make(binary, functools.partial(link_command, exercise, check,
                                              objects), objects, reuse=False)
    return Built(ok, binary, log, objects=student)


def compile_database(exercises):
    """clangd's compile_commands.json entries: every C file of the kit and
    of the stubs, with the flags of the first check that builds it."""
    entries, seen = [], set()
    for exercise in exercises:
        for check in (registry.get(c) for c in exercise.checks):
            sources = [str(exercise.exercise_dir / n) for n in exercise.edit]
            sources += [str(exercise.solution_dir / n) for n in exercise.edit
                        if (exercise.solution_dir / n).exists()]
            for source in sources + kit_sources(exercise, check):
                if source in seen:
                    continue
                seen.add(source)
                entries.append({"directory": str(KIT_ROOT), "file": source,
                                "arguments": compile_command(
                                    exercise, check, source,
                                    os.devnull)})
    return entries


def prebuild(exercise, check):
    """Builds the kit's objects of `check` for `exercise` into the cache;
    the problems, if any (a grader fills the cache before grading)."""
    problems = []
    for source in kit_sources(exercise, check):
        obj, ok, log = _kit_object(exercise, check, source, None)
        if not ok:
            problems.append(f"{exercise.name} {check.name}: {log.strip()}")
    return problems

