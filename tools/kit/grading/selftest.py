"""`tools/grade selftest` (`make grade-selftest`): the grader's own test.

Grades the deliberately bad submissions of tests/grading/ (exercise 01
only, so that it stays fast) together with the solution and the stub in
one class, and checks every grade, status and reason that
tests/grading/expected.toml states; then that no process and no file of
a grading uid is left behind, and that no submission reached the network.
"""
import concurrent.futures
import os
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
import tomllib
import zipfile

from .. import manifest, table
from ..manifest import ALL_CHECKS, KIT_ROOT
from . import batch, classroom, gradescope, procs, records, sandbox

SELFTEST = KIT_ROOT / "tests" / "grading"


class Listener:
    """A TCP port on the grader's 127.0.0.1 that counts who got through."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


def _kit_file(exercise, which):
    folder = exercise.solution_dir if which == "solution" else exercise.exercise_dir
    return folder / exercise.edit[0]


def _copy_case(source, target, substitutions):
    for here, dirs, files in os.walk(source):
        for name in files:
            origin = os.path.join(here, name)
            relative = os.path.relpath(origin, source)
            if name.endswith(".in"):
                text = open(origin, encoding="utf-8").read()
                for key, value in substitutions.items():
                    text = text.replace(f"@{key}@", str(value))
                destination = os.path.join(target, relative[:-3])
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                with open(destination, "w", encoding="utf-8") as handle:
                    handle.write(text)
            else:
                destination = os.path.join(target, relative)
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copy(origin, destination)


def _pack(folder, kind):
    name = os.path.basename(folder)
    archive = f"{folder}.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as out:
            for here, dirs, files in os.walk(folder):
                for file_name in files:
                    path = os.path.join(here, file_name)
                    out.write(path, os.path.join(name, os.path.relpath(path, folder)))
    else:
        with tarfile.open(archive, "w:gz") as out:
            out.add(folder, arcname=name)
    shutil.rmtree(folder)


def materialise(name, case, exercise, directory, substitutions):
    """Writes the case's submission into `directory`."""
    if case.get("garbage"):
        with open(os.path.join(directory, f"{name}.zip"), "wb") as handle:
            handle.write(b"PK\x03\x04 this is not really a zip archive" * 10)
        return
    folder = os.path.join(directory, name)
    os.makedirs(folder)
    if (SELFTEST / "cases" / name).is_dir():
        _copy_case(SELFTEST / "cases" / name, folder, substitutions)
    for relative, which in case.get("files", {}).items():
        os.makedirs(os.path.dirname(os.path.join(folder, relative)), exist_ok=True)
        shutil.copy(_kit_file(exercise, which), os.path.join(folder, relative))
    for relative, which in case.get("symlinks", {}).items():
        os.symlink(_kit_file(exercise, which), os.path.join(folder, relative))
    if case.get("archive"):
        _pack(folder, case["archive"])


def _problems(case, record, network_isolated):
    """What differs from the expectation (an empty list if nothing)."""
    if record is None:
        return ["no record was written"]
    (exercise,) = record["exercises"]
    problems = []
    if "total" in case and record["total"] != case["total"]:
        problems.append(f"total {record['total']}, expected {case['total']}")
    for check, status in case.get("status", {}).items():
        got = exercise["checks"][check]["status"]
        if got != status:
            problems.append(f"{check} {got}, expected {status}")
    for check, text in case.get("reason", {}).items():
        got = exercise["checks"][check]["reason"]
        if text.lower() not in got.lower():
            problems.append(f"{check} reason '{got}' lacks '{text}'")
    if case.get("exercise_reason", "") not in exercise["reason"]:
        problems.append(f"exercise reason '{exercise['reason']}' lacks "
                        f"'{case['exercise_reason']}'")
    for text in case.get("notes", []):
        if not any(text in note for note in record["notes"]):
            problems.append(f"no note says '{text}' (notes: {record['notes']})")
    if case.get("requires") == "network isolation" and not network_isolated:
        return []
    return problems


def _got(record):
    if record is None:
        return "no record"
    (exercise,) = record["exercises"]
    statuses = " ".join(f"{c[:4]}:{e['status']}" for c, e in exercise["checks"].items())
    return f"{record['total']}/{record['max']} {statuses}"


def _group_key(case, defaults):
    return (case.get("submission_timeout", defaults["submission_timeout"]),
            case.get("memory_mib", defaults["memory_mib"]))


def _grade_group(key, names, cases, exercise, root, substitutions, jobs):
    timeout, memory = key
    group = os.path.join(root, f"t{timeout}-m{memory}")
    submissions_dir, out_dir = os.path.join(group, "in"), os.path.join(group, "out")
    os.makedirs(submissions_dir)
    for name in names:
        materialise(name, cases[name], exercise, submissions_dir, substitutions)
    limits = sandbox.Limits(memory=memory * 2**20, submission_seconds=timeout)
    settings = batch.prepare(out_dir, [exercise.name], list(ALL_CHECKS), limits)
    batch.run(submissions_dir, out_dir, settings, jobs)
    isolated = any(n.startswith("network: none") for n in settings.containment)
    return {name: (records.load(out_dir, name), isolated) for name in names}


def _graded_uid(uid):
    return sandbox.FIRST_UID <= uid < sandbox.FIRST_UID + sandbox.SLOTS and \
        not sandbox.in_use(uid)


def _leftovers():
    """Processes and files of grading uids that no batch holds."""
    sandbox.reap_orphans()
    found = [f"process {p.pid} ({p.name}) of uid {p.uid}"
             for p in procs.processes() if p.state != "Z" and _graded_uid(p.uid)]
    for top in sandbox.CLEANED_DIRS:
        for name in os.listdir(top) if os.path.isdir(top) else []:
            try:
                uid = os.lstat(os.path.join(top, name)).st_uid
            except OSError:
                continue
            if _graded_uid(uid):
                found.append(f"file {os.path.join(top, name)} of uid {uid}")
    return found


def _gradescope_row(exercise, root):
    """Runs the autograder zip locally on the reference solution."""
    try:
        data = gradescope.local_run({exercise.edit[0]: _kit_file(exercise, "solution")},
                                    [exercise.name], os.path.join(root, "gradescope"))
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        return ["(gradescope run_autograder)", "9, valid", str(error), "WRONG"]
    wrong = gradescope.problems(data)
    if data.get("score") != 9:
        wrong.append(f"score {data.get('score')}")
    return ["(gradescope run_autograder)", "9, valid",
            f"{data.get('score')}, {len(data.get('tests', []))} tests",
            "ok" if not wrong else "WRONG: " + "; ".join(wrong)]


RESTART_CASES = ("solution", "crash", "not_compiling", "exit_from_thread",
                 "empty", "solution_zip", "includes_solution", "symlinked_solution")


def _outputs(out_dir):
    """Every file a batch wrote, by its path, for comparison."""
    found = {}
    for here, dirs, files in os.walk(out_dir):
        for name in files:
            path = os.path.join(here, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, out_dir)] = handle.read()
    return found


def _batch_command(submissions_dir, out_dir):
    return [sys.executable, str(KIT_ROOT / "tools" / "grade"), "batch",
            submissions_dir, out_dir, "-j", "2", "-e", "01", "--check", "functional"]


def _restart_row(cases, exercise, root, substitutions):
    """A batch killed with SIGKILL half-way, then run again, must write
    what an uninterrupted batch writes (functional only, to be quick)."""
    folder = os.path.join(root, "restart")
    classroom = os.path.join(folder, "in")
    os.makedirs(classroom)
    names = [n for n in RESTART_CASES if n in cases]
    for name in names:
        materialise(name, cases[name], exercise, classroom, substitutions)
    whole, broken = os.path.join(folder, "whole"), os.path.join(folder, "broken")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(_batch_command(classroom, whole), **quiet)
    killed = subprocess.Popen(_batch_command(classroom, broken), **quiet)
    records_dir = os.path.join(broken, records.FOLDER)
    while killed.poll() is None and len(os.listdir(records_dir) if
                                        os.path.isdir(records_dir) else []) < len(names) // 2:
        time.sleep(0.1)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    before = len(os.listdir(records_dir))
    subprocess.run(_batch_command(classroom, broken), **quiet)
    differ = sorted(k for k, v in _outputs(whole).items() if _outputs(broken).get(k) != v)
    differ += sorted(set(_outputs(broken)) - set(_outputs(whole)))
    return ["(kill -9 half-way, run again)", "same output",
            f"{before} of {len(names)} graded before the kill; " +
            ("same output" if not differ else f"differs: {', '.join(differ[:4])}"),
            "ok" if not differ and 0 < before < len(names) else "WRONG"]


def run(jobs, only=None, keep=False, class_size=0):
    with open(SELFTEST / "expected.toml", "rb") as handle:
        expected = tomllib.load(handle)
    defaults, cases = expected["defaults"], expected["case"]
    all_cases = cases
    if only or class_size:
        cases = {n: c for n, c in cases.items() if n in (only or [])}
    (exercise,) = manifest.select(manifest.load(), [defaults["exercise"]])
    listener = Listener()
    substitutions = {"KIT_ROOT": KIT_ROOT, "PORT": listener.port}
    groups = {}
    for name in sorted(cases):
        groups.setdefault(_group_key(cases[name], defaults), []).append(name)
    root = tempfile.mkdtemp(prefix="threadlings-selftest-")
    got, extra_rows = {}, []
    try:
        with concurrent.futures.ThreadPoolExecutor(len(groups) + 2) as pool:
            futures = [pool.submit(_grade_group, key, names, cases, exercise,
                                   root, substitutions, jobs)
                       for key, names in sorted(groups.items())]
            extras = [] if only or class_size else [
                pool.submit(_gradescope_row, exercise, root),
                pool.submit(_restart_row, cases, exercise, root, substitutions)]
            if class_size:
                extras.append(pool.submit(classroom.run, class_size, jobs, all_cases,
                                          materialise, substitutions, root, defaults))
            for future in futures:
                got.update(future.result())
            for future in extras:
                result = future.result()
                if isinstance(result, tuple):       # the class: rows, wrong
                    extra_rows += result[0]
                else:
                    extra_rows.append(result)
    finally:
        if keep:
            print(f"selftest: the classes and their grades are in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    rows, failed = [], 0
    for name in sorted(cases):
        record, isolated = got[name]
        problems = _problems(cases[name], record, isolated)
        failed += bool(problems)
        rows.append([name, cases[name].get("total", "?"), _got(record),
                     "ok" if not problems else "WRONG: " + "; ".join(problems)])
    rows += extra_rows
    failed += sum(1 for row in extra_rows if row[-1] != "ok")
    left = _leftovers() if sandbox.is_root() else []
    if left:
        failed += 1
        rows.append(["(nothing left behind)", "", "; ".join(left[:5]), "WRONG"])
    if listener.connections:
        failed += 1
        rows.append(["(no network)", "0 connections",
                     f"{listener.connections} connections", "WRONG"])
    print(table.render(["case", "expected", "got", "ok"], rows))
    print(f"\n{len(rows) - failed} passed, {failed} failed")
    return 1 if failed else 0
