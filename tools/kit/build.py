"""Builds one check's binary of one exercise variant.

The command is written from the registry (flags) and the manifest (files,
libraries): the student's files, then the kit's tests or workload and the
harness.  Headers, tests and flags always come from the kit itself.  A
binary is rebuilt when an input is newer or when the command changed (a
different CC, other flags), which `<binary>.cmd` records.
"""
import dataclasses
import functools
import os
import re
import shlex

from . import processes, registry
from .paths import KIT_ROOT
from .results import COMPILE_ERROR

BUILD_TIMEOUT = 180
HARNESS = KIT_ROOT / "tests" / "harness"
# The workload's own main and helpers; the rest of the harness is for tests.
WORKLOAD_HARNESS = ("workload.c", "clock.c")


@dataclasses.dataclass
class Built:
    ok: bool
    binary: str
    log: str
    cause: str = COMPILE_ERROR

    def reason(self):
        """The compiler's first error, as a student would want to see it."""
        for line in self.log.splitlines():
            if re.search(r"\berror\b", line):
                return "does not compile: " + _short_paths(line.strip())
        last = self.log.strip().splitlines()[-1:] or ["(no output)"]
        return "does not build: " + _short_paths(last[0])


def _short_paths(text):
    return re.sub(r"(?:[\w.+-]*/)+([\w.+-]+\.[ch]\b)", r"\1", text)


def compiler():
    return os.environ.get("CC", "gcc")


@functools.lru_cache(maxsize=None)
def _criterion_flags():
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
                   if os.path.basename(p) not in ("workload.c",)]
        return _sorted(tests.glob("test_*.c")) + support + harness
    return [str(tests / "workload.c")] + support + \
        [str(HARNESS / name) for name in WORKLOAD_HARNESS]


def headers(exercise):
    return _sorted([*exercise.exercise_dir.glob("*.h"), *HARNESS.glob("*.h"),
                    *exercise.tests_dir.glob("*.h")])


def include_flags(exercise):
    return ["-I", str(exercise.exercise_dir), "-I", str(HARNESS)]


def compile_flags(exercise, check):
    return [*registry.STRICT_FLAGS, *check.flags, *include_flags(exercise)]


def command(exercise, check, student_sources, binary):
    link = list(exercise.libs)
    if check.runs_tests:
        link = [f"-Wl,--wrap={name}" for name in registry.WRAPPED] + \
            list(_criterion_flags()) + link
    return [compiler(), *compile_flags(exercise, check), "-o", binary,
            *student_sources, *kit_sources(exercise, check), *link]


def _up_to_date(binary, inputs, recorded):
    try:
        built = os.path.getmtime(binary)
        with open(binary + ".cmd", encoding="utf-8") as handle:
            if handle.read() != recorded:
                return False
        return all(os.path.getmtime(path) <= built for path in inputs)
    except OSError:
        return False


def build(exercise, check, source_dir, out_dir):
    """Builds `check`'s binary (a registry.Check) into out_dir."""
    binary = os.path.join(out_dir, check.name)
    student_sources = [os.path.join(source_dir, name) for name in exercise.edit]
    argv = command(exercise, check, student_sources, binary)
    recorded = shlex.join(argv) + "\n"
    inputs = student_sources + kit_sources(exercise, check) + headers(exercise)
    if _up_to_date(binary, inputs, recorded):
        return Built(True, binary, "")
    os.makedirs(out_dir, exist_ok=True)
    for stale in (binary, binary + ".cmd"):
        if os.path.exists(stale):
            os.remove(stale)
    done = processes.run(argv, timeout=BUILD_TIMEOUT)
    log = done.stdout + done.stderr
    if done.timed_out:
        log += f"\nthe build took longer than {BUILD_TIMEOUT} s"
    ok = done.returncode == 0 and os.path.exists(binary)
    if ok:
        with open(binary + ".cmd", "w", encoding="utf-8") as handle:
            handle.write(recorded)
    return Built(ok, binary, log)
