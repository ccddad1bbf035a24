"""`tools/grade selftest` (`make grade-selftest`): the grader's own test.

Grades the deliberately bad submissions of tests/selftest/grading/ (exercise 01
only, so that it stays fast) together with the solution and the stub in
one class, and checks every grade, status and reason that
tests/selftest/grading/expected.toml states; then that no process and no file of
a grading uid is left behind, and that no submission reached the network.
"""
import concurrent.futures
import os
import shutil
import tempfile
import tomllib

from .. import manifest, table
from ..manifest import ALL_CHECKS
from ..paths import KIT_ROOT
from ..grading import batch, procs, records, sandbox
from . import classroom, selfchecks
from .cases import SELFTEST, Listener, materialise


def _problems(case, record):
    """What differs from the expectation (an empty list if nothing)."""
    if record is None:
        return ["no record was written"]
    (exercise,) = record["exercises"]
    problems = []
    if "total" in case and record["total"] != case["total"]:
        # With why: a total that is off once in many runs must be readable
        # from the log of that run (the scratch trees are gone by then).
        why = "; ".join(f"{check} {result['status']}: {result['reason'][:300]}"
                        for check, result in exercise["checks"].items()
                        if result["status"] != "pass")
        problems.append(f"total {record['total']}, expected {case['total']}"
                        + (f" ({why})" if why else ""))
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
    return problems


def _got(record):
    if record is None:
        return "no record"
    (exercise,) = record["exercises"]
    statuses = " ".join(f"{c[:4]}:{e['status']}" for c, e in exercise["checks"].items())
    return f"{record['total']}/{record['max']} {statuses}"


def _group_key(case, defaults):
    return (case.get("submission_timeout", defaults["submission_timeout"]),
            case.get("memory_mib", defaults["memory_mib"]),
            case.get("exercise", defaults["exercise"]))


def _grade_group(key, names, cases, root, substitutions, jobs):
    timeout, memory, exercise_name = key
    (exercise,) = manifest.select(manifest.load(), [exercise_name])
    group = os.path.join(root, f"t{timeout}-m{memory}-{exercise.number}")
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


cases_skipped_note = "needs root: it would kill the grader's own processes"


def run(jobs, only=None, keep=False, class_size=0):
    with open(SELFTEST / "expected.toml", "rb") as handle:
        expected = tomllib.load(handle)
    defaults, cases = expected["defaults"], expected["case"]
    all_cases = cases
    if not sandbox.is_root():     # graded as our own uid, it would kill us
        all_cases = {n: c for n, c in cases.items() if not c.get("needs_root")}
    unsafe = sorted(n for n in set(cases) - set(all_cases) if not only or n in only)
    cases = all_cases
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
        # Without root, a batch finds what a submission left running among
        # this process's descendants: batches running side by side would
        # kill each other's processes, so they take turns.  With root, as
        # many batches as cores: each slot already runs an exercise's four
        # checks side by side, three tests each, and every group at once
        # (8 batches) overloaded 2 cores until correct code ran out of time.
        workers = min(len(groups) + 2, os.cpu_count() or 1) \
            if sandbox.is_root() else 1
        with concurrent.futures.ThreadPoolExecutor(workers) as pool:
            futures = [pool.submit(_grade_group, key, names, cases,
                                   root, substitutions, jobs)
                       for key, names in sorted(groups.items())]
            extras = [] if only or class_size else [
                pool.submit(selfchecks.gradescope_row, exercise, root),
                pool.submit(selfchecks.restart_row, cases, exercise, root, substitutions)]
            if class_size:
                extras.append(pool.submit(classroom.run, class_size, jobs, all_cases,
                                          materialise, substitutions, root))
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
    isolated_here = any(isolated for _, isolated in got.values())
    for name in sorted(cases):
        record, isolated = got[name]
        if cases[name].get("requires") == "network isolation" and not isolated:
            rows.append([name, cases[name].get("total", "?"), _got(record),
                         "skip: no network isolation here"])
            continue
        problems = _problems(cases[name], record)
        failed += bool(problems)
        rows.append([name, cases[name].get("total", "?"), _got(record),
                     "ok" if not problems else "WRONG: " + "; ".join(problems)])
    rows += extra_rows
    rows += [[name, cases_skipped_note, "not graded", "skip"] for name in unsafe]
    failed += sum(1 for row in extra_rows if row[-1] != "ok")
    left = _leftovers() if sandbox.is_root() else []
    if left:
        failed += 1
        rows.append(["(nothing left behind)", "", "; ".join(left[:5]), "WRONG"])
    if listener.connections:
        # Where `unshare --net` does not work, the grader says so in every
        # record, and a submission can reach the network: not proven here.
        failed += isolated_here
        rows.append(["(no network)", "0 connections",
                     f"{listener.connections} connections",
                     "WRONG" if isolated_here else "skip: no network isolation here"])
    print(table.render(["case", "expected", "got", "ok"], rows))
    skipped = sum(1 for row in rows if row[-1].startswith("skip"))
    note = f", {skipped} skipped" if skipped else ""
    print(f"\n{len(rows) - failed - skipped} passed, {failed} failed{note}")
    return 1 if failed else 2 if skipped else 0
