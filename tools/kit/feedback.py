"""make bench-feedback: how fast a student hears about a hang.

For every exercise the kit keeps three wrong versions written the way
students write them (tests/bench/feedback/NN_name/): one that deadlocks,
one that spins, one that loses a wake-up.  Each is a patch against the
reference solution, in the mutants' format (tools/kit/mutants.py), whose
`Reason:` is text the first failure's reason must contain: for a deadlock,
the student's file and line.

This runs `make test EX=NN` on each (the same command a student types,
through `tools/threadlings test` on a scratch copy of the exercise folder)
and prints, per wrong version, when the first failure's reason appeared,
when a reason first named the mistake (its `Reason:` text: the checks run
side by side, so another check's reason may come first), and when the
whole run ended, against the targets of issue 12: the first reason within
5 s, the mistake named, and the whole run within 30 s on 2 cores.

It is a benchmark, not a check: its times depend on the machine and on what
else runs on it (the load is printed with the table), so nothing in
`make verify` or CI reads them.
"""
import dataclasses
import os
import re
import subprocess
import sys
import tempfile
import time

from . import manifest, mutants, table
from .paths import BUILD_ROOT, KIT_ROOT

FEEDBACK_ROOT = KIT_ROOT / "tests" / "bench" / "feedback"
KINDS = ("deadlock", "spin", "lost_wakeup")
FIRST_REASON_TARGET = 5.0
WHOLE_RUN_TARGET = 30.0
# Past this a wrong version's run is abandoned (the kit's own limits should
# have ended it long before).
ABANDON_AFTER = 600


@dataclasses.dataclass
class Measured:
    exercise: str
    kind: str
    name: str
    first_reason_s: float | None = None
    named_s: float | None = None     # when a reason first held `expected`
    whole_run_s: float = 0.0
    reason: str = ""
    expected: str = ""
    problem: str = ""

    @property
    def names_expected(self):
        return self.named_s is not None

    @property
    def ok(self):
        return not self.problem and self.names_expected and \
            self.first_reason_s is not None and \
            self.first_reason_s <= FIRST_REASON_TARGET and \
            self.whole_run_s <= WHOLE_RUN_TARGET


def wrong_versions(exercise):
    """(kind, Mutant) for each wrong version kept for this exercise."""
    folder = FEEDBACK_ROOT / exercise.name
    for path in sorted(folder.glob("*.patch")):
        kind = next((k for k in KINDS if path.name.startswith(k)), None)
        if kind is None:
            raise manifest.ManifestError(
                f"{path}: the name must start with one of {', '.join(KINDS)}")
        yield kind, mutants.parse(path)


def _progress_line(exercise):
    # tools/kit/cli.py's progress lines: "  NN_name check: STATUS (S s): reason"
    # when a check ends, "  NN_name check: failing: test: reason" when its
    # first test fails
    return re.compile(rf"^\s+{re.escape(exercise.name)} (\w+): (\w+)"
                      rf"(?: \([\d.]+ s\))?(?:: (.*))?$")


def measure(exercise, kind, wrong):
    """Runs `tools/threadlings test` on the wrong version as a student would
    and times its output."""
    found = Measured(exercise.name, kind, wrong.name, expected=wrong.reason)
    with tempfile.TemporaryDirectory(dir=BUILD_ROOT) as scratch:
        source_root = os.path.join(scratch, "exercises")
        problem = mutants.materialise(
            exercise, wrong, os.path.join(source_root, exercise.name))
        if problem:
            found.problem = problem
            return found
        command = [sys.executable, str(KIT_ROOT / "tools" / "threadlings"),
                   "test", "--exercise", exercise.name,
                   "--source-root", source_root,
                   "--build-root", os.path.join(scratch, "build"),
                   "--json", os.path.join(scratch, "results.json")]
        pattern = _progress_line(exercise)
        started = time.monotonic()
        run = subprocess.Popen(command, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, text=True)
        try:
            for line in run.stderr:
                progress = pattern.match(line.rstrip("\n"))
                if not (progress and progress.group(3)):
                    continue
                # The checks run side by side: the first reason can come
                # from any of them, and the one that names the mistake
                # (for a deadlock, the student's line) may come next.
                now = time.monotonic() - started
                if found.first_reason_s is None:
                    found.first_reason_s, found.reason = now, progress.group(3)
                if found.named_s is None and wrong.reason in progress.group(3):
                    found.named_s, found.reason = now, progress.group(3)
            run.wait(timeout=ABANDON_AFTER)
        except subprocess.TimeoutExpired:
            run.kill()
            run.wait()
            found.problem = f"still running after {ABANDON_AFTER} s"
        found.whole_run_s = time.monotonic() - started
        if found.first_reason_s is None and not found.problem:
            found.problem = "every check passed: this is not a wrong version"
    return found


def _load():
    with open("/proc/loadavg") as handle:
        return " ".join(handle.read().split()[:3])


def _first(m):
    return "-" if m.first_reason_s is None else f"{m.first_reason_s:.1f}"


def _row(m):
    first = _first(m)
    named = "-" if m.named_s is None else f"{m.named_s:.1f}"
    got = m.problem or m.reason
    if not m.problem and not m.names_expected:
        got = f"does not name `{m.expected}`: {got}"
    if len(got) > 110:
        got = got[:107] + "..."
    return [m.exercise, m.kind, first, named, f"{m.whole_run_s:.1f}",
            "ok" if m.ok else "SLOW" if not m.problem and m.names_expected
            else "WRONG", got]


def bench_feedback(exercises):
    # The kit's own objects are compiled once for every later run; a student
    # pays that once too, so it is not part of any measured run.
    subprocess.run([sys.executable, str(KIT_ROOT / "tools" / "threadlings"),
                    "prebuild", *sum((["-e", e.name] for e in exercises), [])],
                   check=False)
    BUILD_ROOT.mkdir(exist_ok=True)
    measured = []
    for exercise in exercises:
        versions = list(wrong_versions(exercise))
        missing = [k for k in KINDS if k not in {kind for kind, _ in versions}]
        for kind in missing:
            measured.append(Measured(exercise.name, kind, "-",
                                     problem="no wrong version of this kind yet"))
        for kind, wrong in versions:
            m = measure(exercise, kind, wrong)
            measured.append(m)
            print(f"{m.exercise} {m.kind} {m.name}: first reason {_first(m)} s, "
                  f"whole run {m.whole_run_s:.1f} s", file=sys.stderr, flush=True)
    print(f"make test on wrong versions (targets: first reason <= "
          f"{FIRST_REASON_TARGET:.0f} s, whole run <= {WHOLE_RUN_TARGET:.0f} s; "
          f"{os.cpu_count()} cores, load {_load()})\n")
    print(table.render(["exercise", "kind", "first s", "named s", "whole s",
                        "ok", "the reason that names it (else the first)"],
                       [_row(m) for m in measured]))
    late = [m for m in measured if not m.ok]
    print(f"\n{len(measured) - len(late)} within the targets, {len(late)} not")
    return 1 if late else 0
