"""Gradescope: `tools/grade gradescope-zip` builds the autograder zip,
`tools/grade gradescope-run` is what its run_autograder runs.

    autograder.zip   setup.sh, run_autograder (tools/gradescope/), and kit/:
                     the kit without solutions/ and build/
    /autograder/submission/        what the student uploaded
    /autograder/results/results.json
        {"score", "output", "output_format", "visibility",
         "stdout_visibility", "tests": [{"name", "number", "score",
         "max_score", "status", "output", "visibility"}]}
"""
import concurrent.futures
import json
import os
import shutil
import subprocess
import tempfile
import time
import traceback
import zipfile

from ..results import FAIL, SKIP

from .. import manifest
from ..paths import KIT_ROOT
from . import batch, feedback, kitcopy, records, scoring

TEMPLATES = KIT_ROOT / "tools" / "gradescope"
STUDENT = "submission"


def _add(archive, path, name):
    info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
    info.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    with open(path, "rb") as handle:
        archive.writestr(info, handle.read())


def build_zip(output, exercises=None):
    """Writes autograder.zip; returns its path."""
    options = " ".join(f"--exercise={e}" for e in exercises or [])
    with tempfile.TemporaryDirectory() as scratch:
        kit = kitcopy.snapshot(os.path.join(scratch, "kit"))
        script = (TEMPLATES / "run_autograder").read_text().replace("@OPTIONS@", options)
        with open(os.path.join(scratch, "run_autograder"), "w") as handle:
            handle.write(script)
        os.chmod(os.path.join(scratch, "run_autograder"), 0o755)
        shutil.copy2(TEMPLATES / "setup.sh", scratch)
        os.makedirs(os.path.dirname(os.path.abspath(output)), exist_ok=True)
        temporary = output + ".tmp"
        with zipfile.ZipFile(temporary, "w") as archive:
            for name in ("setup.sh", "run_autograder"):
                _add(archive, os.path.join(scratch, name), name)
            for here, dirs, files in sorted(os.walk(kit)):
                dirs.sort()
                for name in sorted(files):
                    if not name.endswith(".pyc"):
                        path = os.path.join(here, name)
                        _add(archive, path, os.path.relpath(path, scratch))
        os.replace(temporary, output)
    return output


def _test_output(entry):
    lines = [entry["reason"]] if entry["reason"] else []
    lines += feedback.other_failures(entry)
    return "\n".join(lines) or "passed"


def to_gradescope(record, checks):
    tests = []
    for number, exercise in enumerate(record["exercises"], 1):
        for index, (name, entry) in enumerate(exercise["checks"].items(), 1):
            tests.append({
                "name": f"{exercise['name']}: {name}",
                "number": f"{number}.{index}",
                "score": entry["points"], "max_score": entry["max"],
                "status": "failed" if entry["status"] == FAIL else "passed",
                "output": _test_output(entry) if entry["status"] != SKIP else
                "not counted: this check cannot run on the grading machine: "
                + entry["reason"], "visibility": "visible"})
    return {"score": record["total"], "output": feedback.render(record, checks),
            "output_format": "md", "visibility": "visible",
            "stdout_visibility": "hidden", "tests": tests}


def _failure(error):
    return {"score": 0, "output": "The autograder could not grade this "
            f"submission:\n\n{error}", "visibility": "visible", "tests": []}


PENDING = "the autograder ran out of time before this exercise"


def _pending_record(chosen, checks):
    entries = [scoring.exercise_entry(e, checks, {}, None,
                                      scoring.not_graded(PENDING))
               for e in chosen]
    return {"student": STUDENT, "notes": [], "exercises": entries}


def _merge(record, graded):
    """Puts the exercises `graded` (a batch's record) has into `record`."""
    done = {e["name"]: e for e in graded["exercises"]}
    record["exercises"] = [done.get(e["name"], e) for e in record["exercises"]]
    record["notes"] += [n for n in graded["notes"] if n not in record["notes"]]
    record["total"], record["max"] = scoring.totals(record["exercises"])


def _write(path, data):
    records.write_atomically(path, json.dumps(data, indent=2) + "\n")


def run(root, exercises, checks, limits):
    """Grades ROOT/submission one exercise at a time, and writes
    ROOT/results/results.json after each: a run that Gradescope stops at its
    time limit keeps what it graded (the rest shows as not graded)."""
    results = os.path.join(root, "results", "results.json")
    work = tempfile.mkdtemp(prefix="threadlings-gradescope-")
    record, data = None, _failure("it stopped before grading anything")
    try:
        classroom = os.path.join(work, "in")
        os.makedirs(classroom)
        os.symlink(os.path.abspath(os.path.join(root, "submission")),
                   os.path.join(classroom, STUDENT))
        chosen = manifest.select(manifest.load(), exercises)
        record = _pending_record(chosen, checks)
        _merge(record, {"exercises": [], "notes": []})
        _write(results, to_gradescope(record, checks))
        for exercise in chosen:
            out = os.path.join(work, "out", exercise.name)
            settings = batch.prepare(out, [exercise.name], checks, limits)
            batch.run(classroom, out, settings, jobs=1)
            _merge(record, records.load(out, STUDENT))
            data = to_gradescope(record, checks)
            _write(results, data)
    except (Exception, SystemExit) as error:
        traceback.print_exc()
        data = _failure(error)
        if record is not None:      # keep what was graded before the error
            data = dict(to_gradescope(record, checks), output=data["output"])
        _write(results, data)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"gradescope: score {data['score']}, results in {results}")
    return 0


TEST_FIELDS = {"name": str, "score": (int, float), "max_score": (int, float),
               "status": str, "output": str, "visibility": str}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}


def problems(data):
    """What in a results.json Gradescope would not accept, or mistake."""
    found = []
    if not isinstance(data.get("score"), (int, float)):
        found.append("no numeric score")
    if data.get("visibility", "visible") not in VISIBILITIES:
        found.append(f"visibility {data.get('visibility')!r}")
    tests = data.get("tests")
    if not isinstance(tests, list):
        return found + ["no tests list"]
    for test in tests:
        for field, kind in TEST_FIELDS.items():
            if not isinstance(test.get(field), kind):
                found.append(f"test {test.get('name')!r}: bad {field}")
        if test.get("status") not in ("passed", "failed"):
            found.append(f"test {test.get('name')!r}: status {test.get('status')!r}")
        if test.get("visibility") not in VISIBILITIES:
            found.append(f"test {test.get('name')!r}: visibility")
        if isinstance(test.get("score"), (int, float)) and \
                isinstance(test.get("max_score"), (int, float)) and \
                not 0 <= test["score"] <= test["max_score"]:
            found.append(f"test {test.get('name')!r}: score out of range")
    if isinstance(data.get("score"), (int, float)) and tests and \
            data["score"] != sum(t.get("score", 0) for t in tests):
        found.append("score is not the sum of the tests' scores")
    return found


def local_run(files, exercises, root, run_setup=False, cpu=None):
    """Lays out `root` as Gradescope does (source/ from a fresh zip,
    submission/ with `files`, results/), runs run_autograder there (and
    setup.sh first if asked; on core `cpu` alone if given) and returns its
    results.json."""
    for folder in ("source", "submission", "results"):
        os.makedirs(os.path.join(root, folder))
    archive = build_zip(os.path.join(root, "autograder.zip"), exercises)
    with zipfile.ZipFile(archive) as unpacked:
        unpacked.extractall(os.path.join(root, "source"))
    for name in ("setup.sh", "run_autograder"):
        os.chmod(os.path.join(root, "source", name), 0o755)
    shutil.copy2(os.path.join(root, "source", "run_autograder"), root)
    for name, path in files.items():
        shutil.copy(path, os.path.join(root, "submission", name))
    environment = dict(os.environ, AUTOGRADER_ROOT=root)
    if run_setup:
        subprocess.run(["bash", os.path.join(root, "source", "setup.sh")],
                       env=environment, check=True)
    pin = None if cpu is None else lambda: os.sched_setaffinity(0, {cpu})
    subprocess.run([os.path.join(root, "run_autograder")], env=environment,
                   check=True, preexec_fn=pin)
    with open(os.path.join(root, "results", "results.json"), encoding="utf-8") as handle:
        return json.load(handle)


def _whole_submission(which):
    """Every file a student edits, from the solutions or the stubs."""
    files = {}
    for exercise in manifest.load():
        folder = exercise.solution_dir if which == "solution" else exercise.exercise_dir
        files.update({name: folder / name for name in exercise.edit})
    return files


def bench_one_core():
    """make bench-gradescope: how long Gradescope takes to grade a whole
    correct submission and a submission of untouched stubs, each on one core
    of its own (both at once, one per core: the course sets one time limit
    for both).  A benchmark: the figures go into the README by hand."""
    def timed(which, cpu):
        root = tempfile.mkdtemp(prefix=f"threadlings-gs-{which}-")
        started = time.monotonic()
        try:
            data = local_run(_whole_submission(which), None,
                             os.path.join(root, "autograder"), cpu=cpu)
        finally:
            shutil.rmtree(root, ignore_errors=True)
        return which, time.monotonic() - started, data

    cpus = sorted(os.sched_getaffinity(0))
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = [pool.submit(timed, which, cpus[i % len(cpus)])
                for i, which in enumerate(("solution", "stub"))]
        for run in runs:
            which, seconds, data = run.result()
            print(f"{which}: {seconds:.0f} s on one core, score "
                  f"{data.get('score')} of "
                  f"{sum(t['max_score'] for t in data.get('tests', []))}, "
                  f"{len(data.get('tests', []))} tests")
    return 0
