"""`tools/grade selftest --class N`: a class of N submissions mixed from
the reference solutions, the stubs and the bad submissions of
tests/selftest/grading/ (each bad one: the solutions, with exercise 01 replaced by
the bad case), in every form a class hands in (folder, whole repository,
.zip, .tar.gz).  It is graded like any class, with all checks of every
exercise the kit has files for, and each total must be what the mix
predicts: a solution full marks, a stub nothing (every stub fails every
check, the race checks included), a bad one full marks elsewhere and the
case's own total for exercise 01."""
import os
import shutil
import time

from .. import manifest
from ..grading import batch, kitcopy, records, sandbox

FORMS = ("folder", "repository", "zip", "tar.gz")
# Every other submission is a bad one; the others, two solutions to a stub.
KINDS = ("bad", "solution", "bad", "solution", "bad", "stub")


def _available():
    return [e for e in manifest.load() if not kitcopy.missing_files(e, manifest.KIT_ROOT)
            and all((e.solution_dir / f).exists() for f in e.edit)]


def _write(folder, exercise, source_dir, form):
    for name in exercise.edit:
        where = (os.path.join(folder, "exercises", exercise.name) if form == "repository"
                 else os.path.join(folder, exercise.name))
        os.makedirs(where, exist_ok=True)
        shutil.copy(os.path.join(source_dir, name), where)


def _bad_cases(cases):
    """The bad cases that do not need settings of their own."""
    return [n for n, c in sorted(cases.items())
            if n not in ("solution", "stub") and "requires" not in c and
            "submission_timeout" not in c and "garbage" not in c and
            "exercise" not in c and
            not c.get("symlinks") and not c.get("archive")]


def make(directory, size, cases, materialise, substitutions):
    """Writes `size` submissions into `directory`; returns
    {student: (kind, expected total)}."""
    exercises = _available()
    first = exercises[0]
    bad = _bad_cases(cases)
    expected = {}
    for index in range(size):
        kind = KINDS[index % len(KINDS)]
        form = FORMS[index % len(FORMS)]
        student = f"student{index + 1:02d}"
        folder = os.path.join(directory, student)
        os.makedirs(folder)
        rest = exercises
        total = sum(sum(e.weights.values()) for e in exercises)
        if kind == "bad":
            case = bad[(index // 2) % len(bad)]
            scratch = os.path.join(directory, ".case")
            materialise(case, cases[case], first, scratch, substitutions)
            shutil.copytree(os.path.join(scratch, case), os.path.join(folder, first.name))
            shutil.rmtree(scratch)
            rest = exercises[1:]
            kind = f"bad:{case}"
            total = cases[case]["total"] if cases[case].get("ends_grading") else \
                total - sum(first.weights.values()) + cases[case]["total"]
        elif kind == "stub":
            total = 0
        for exercise in rest:
            source = exercise.solution_dir if kind != "stub" else exercise.exercise_dir
            _write(folder, exercise, source, form)
        if form in ("zip", "tar.gz"):
            shutil.make_archive(folder, "zip" if form == "zip" else "gztar",
                                directory, student)
            shutil.rmtree(folder)
        expected[student] = (kind, total)
    return expected, exercises


def run(size, jobs, cases, materialise, substitutions, root):
    """Grades the class; returns table rows and the number that are wrong."""
    classroom, out = os.path.join(root, "class"), os.path.join(root, "class-grades")
    os.makedirs(classroom)
    expected, exercises = make(classroom, size, cases, materialise, substitutions)
    # The kit's default limits, as a course grades: the cases' 512 MiB is
    # for exercise 01 alone (an exercise's four checks side by side peaked
    # at 470 MiB in a class of 6).
    settings = batch.prepare(out, [e.name for e in exercises],
                             list(manifest.ALL_CHECKS), sandbox.Limits())
    started = time.monotonic()
    batch.run(classroom, out, settings, jobs)
    minutes = (time.monotonic() - started) / 60
    rows, wrong = [], 0
    for student, (kind, total) in sorted(expected.items()):
        record = records.load(out, student)
        got = record["total"] if record else None
        ok = got is not None and got == total
        wrong += not ok
        rows.append([f"class {student}", f"{kind} {total}", str(got), "ok" if ok else "WRONG"])
    rows.append([f"class of {size}", f"{len(exercises)} exercises, -j {jobs}",
                 f"{size / minutes:.2f} submissions per minute ({minutes:.1f} "
                 f"min); slowest exercise {settings.slowest}", "ok"])
    return rows, wrong

