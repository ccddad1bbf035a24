"""Running a check's binary: each Criterion test alone, or the workload.

Each run becomes TestResults with a cause (results.CAUSES) and a message a
student can act on; the check's own entry in the registry says how to run
it, for how long, and how to read its tool's report.
"""
import concurrent.futures
import functools
import json
import os
import re
import secrets
import signal
import threading

from . import processes, reports, wakeups
from .results import (ASSERTION, CRASH, DEADLOCK, EARLY_EXIT, FAIL, NO_REPORT,
                      OUTPUT_FLOOD, PASS, PASSED, SANITIZER, SPIN, TIMEOUT,
                      WRONG_RESULT, TestResult, failed, from_tests, skipped)
from .paths import FILE_SIZE_LIMIT

LIST_TIMEOUT = 20
# What the hang watcher (hangs.py) saw, as a cause.
HANG_CAUSE = {"deadlock": DEADLOCK, "spin": SPIN}
HUNG = (DEADLOCK, SPIN, TIMEOUT)     # the causes that end a check (HangStop)
FLOODED = ("printed too much (its output reached the limit of "
           f"{FILE_SIZE_LIMIT // 2**20} MiB) and was stopped")


def list_tests(binary):
    """[(suite, test)] from Criterion's `-l` listing."""
    done = processes.run([binary, "-l"], timeout=LIST_TIMEOUT)
    tests, suite = [], None
    for line in done.stdout.splitlines():
        header = re.match(r"^(\S+): \d+ tests?$", line)
        if header:
            suite = header.group(1)
            continue
        entry = re.match(r"^[├└]── (\S+)", line)
        if entry and suite:
            tests.append((suite, entry.group(1)))
    return tests, done


HANG_HINT, EARLY_EXIT_NOTE = "if-it-hangs: ", "early-exit: "
# Written by Criterion's runner (tests/harness/assertion_notes.c).
FAILED_ASSERTION = "assertion-failed: "


def _note_lines(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return [line.rstrip("\n") for line in handle]
    except FileNotFoundError:
        return []


def _read_notes(path):
    """(hang hint, notes, whether a note says the code exited early, failed
    assertions): the harness's notes file of one test run
    (tests/harness/notes.c)."""
    lines = _note_lines(path)
    hint = next((l[len(HANG_HINT):] for l in lines if l.startswith(HANG_HINT)), "")
    failed_assertions = [l[len(FAILED_ASSERTION):] for l in lines
                         if l.startswith(FAILED_ASSERTION)]
    notes = [l for l in lines if not l.startswith(
        (HANG_HINT, wakeups.NOTE, FAILED_ASSERTION))]
    exited = any(l.startswith(EARLY_EXIT_NOTE) for l in notes)
    return hint, [l.removeprefix(EARLY_EXIT_NOTE) for l in notes], exited, \
        failed_assertions


def _short(message):
    """'tests/01_x/test_x.c:23: text' -> 'text (test_x.c:23)'."""
    found = re.match(r"^(?:.*/)?([\w.+-]+\.c):(\d+): (.*)$", message, re.S)
    if found:
        return f"{found.group(3).strip()} ({found.group(1)}:{found.group(2)})"
    return message.strip()


MESSAGE_LINE = re.compile(r'^(\s*)"(.*)"(,?)$')


def _escape_messages(text):
    """Criterion 2.4.1 writes assertion messages into its JSON unescaped,
    one line per entry: a message with a quote or a backslash breaks the
    file.  Re-escape every line of every "messages" array."""
    lines, inside = [], False
    for line in text.splitlines():
        stripped = line.strip()
        if inside and stripped.startswith("]"):
            inside = False
        elif inside and MESSAGE_LINE.match(line):
            indent, message, comma = MESSAGE_LINE.match(line).groups()
            line = indent + json.dumps(message) + comma
        elif stripped == '"messages": [':
            inside = True
        lines.append(line)
    return "\n".join(lines)


def _load_criterion_json(json_path):
    with open(json_path, encoding="utf-8", errors="replace") as handle:
        text = handle.read()
    try:
        return json.loads(text)
    except ValueError:
        return json.loads(_escape_messages(text))


def _criterion_status(json_path, suite_name, test):
    try:
        report = _load_criterion_json(json_path)
        for suite in report.get("test_suites", []):
            if suite.get("name") != suite_name:
                continue
            for entry in suite.get("tests", []):
                if entry.get("name") == test:
                    return entry
    except (OSError, ValueError):
        pass
    return None


def read_reports(report):
    """What the tool wrote to `report`* (a sanitizer adds the pid)."""
    folder, stem = os.path.split(report)
    texts = []
    for name in sorted(os.listdir(folder)):
        if name.startswith(os.path.basename(stem)):
            with open(os.path.join(folder, name), encoding="utf-8",
                      errors="replace") as handle:
                texts.append(handle.read(processes.OUTPUT_KEPT))
    return "\n".join(texts)


def _clear_reports(report):
    folder, stem = os.path.split(report)
    os.makedirs(folder, exist_ok=True)
    for name in os.listdir(folder):
        if name.startswith(stem):
            os.remove(os.path.join(folder, name))


def _finding(check, report_text, student_files, stderr=""):
    if not check.read_report:
        return None
    return check.read_report(report_text, student_files) or \
        reports.undefined_behaviour(stderr, student_files)


# What Criterion's runner prints before it aborts (cr_panic, or an error
# logged just before abort()): the code under test runs in its child, so
# such a line is the tool's own failure, and the reason should say so.
# nanomsg, its message library, ends with "<error> [<errno>] (<file>:<line>)".
RUNNER_PANIC = re.compile(r"^(?:criterion: |\S*\[\S*ERR\S* *\] )?"
                          r"((?:Could not|Runner returned|waiting for the "
                          r"worker|finalizing the worker).*|"
                          r".* \[\d+\] \(\S+:\d+\))$", re.M)


def _runner_said(stderr):
    said = RUNNER_PANIC.search(stderr or "")
    return f"Criterion's runner stopped: {said.group(1).strip()}" \
        if said else ""


def _judge_test(check, entry, done, notes, found):
    """(status, cause, message, places) for one test run."""
    hint, notes, exited, failed_assertions = notes
    if done.hang:            # seen stuck for good, and stopped at once
        return FAIL, HANG_CAUSE[done.hang_kind], done.hang + \
            (f". {hint}" if hint else ""), []
    crash_places = found.places if found else []
    if done.timed_out:
        return FAIL, TIMEOUT, "did not finish even after its time limit" + \
            (f": {hint}" if hint else ""), []
    if entry is None:
        if found:
            return FAIL, SANITIZER, found.message, crash_places
        if done.output_cut:
            return FAIL, OUTPUT_FLOOD, FLOODED, []
        return FAIL, EARLY_EXIT if exited else NO_REPORT, \
            "the test run ended without a report (exit status " \
            f"{done.returncode}): " + (notes[0] if notes else
                                       _runner_said(done.stderr) or
                                       "did the code crash?"), []
    status, messages = entry.get("status"), entry.get("messages") or []
    if status == "PASSED":
        if done.returncode != 0:
            # The report is a file the code under test could have written;
            # the runner's own exit status it cannot fake so easily.
            return FAIL, EARLY_EXIT if exited else CRASH, \
                "the report says passed, but the test program ended with " \
                f"exit status {done.returncode}: " + \
                (notes[0] if notes else "did the code end it?"), []
        if entry.get("assertions", 0) == 0:
            return FAIL, EARLY_EXIT, "the test ended before its first check: " + \
                (notes[0] if notes else "did the code call exit()?"), []
        return PASS, PASSED, "", []
    if messages == ["The test timed out."]:
        return FAIL, TIMEOUT, "timed out" + (f": {hint}" if hint else ""), []
    if messages == ["The test crashed."] or not messages:
        if failed_assertions:
            # It failed first, then crashed (a thread the failed test left
            # running, say): the failed assertion is the reason.
            return FAIL, ASSERTION, "; ".join(
                _short(m) for m in failed_assertions[:2]), []
        if found:
            return FAIL, SANITIZER, found.message, crash_places
        if done.output_cut:
            return FAIL, OUTPUT_FLOOD, FLOODED, []
        if notes:
            return FAIL, EARLY_EXIT if exited else CRASH, notes[0], []
        return FAIL, CRASH, "the test crashed (a bad pointer, or abort()?)" if \
            messages else "the test failed without a message", []
    return FAIL, ASSERTION, "; ".join(_short(m) for m in messages[:2]), []


def _run_one_test(check, binary, scratch, student_files, limit_for, suite, test,
                  cancel=None):
    """The test's result, or None if `cancel()` stopped it."""
    result, returncode = _run_test_once(check, binary, scratch, student_files,
                                        limit_for, suite, test, cancel)
    if result is None:
        return None
    if result.cause == NO_REPORT and returncode == -signal.SIGABRT:
        # Criterion's runner (not the test: its crash is reported) died of
        # SIGABRT before writing a report.  The cause seen (a killed
        # runner's socket, left by another user for the pid this runner
        # got) is removed now (criterion_files.py); should any other
        # remain, it is the tool's failure, not a verdict: the code under
        # test runs in the runner's child.  So run the test once more; a
        # second run can only pass by passing the test.
        again, _ = _run_test_once(check, binary, scratch, student_files,
                                  limit_for, suite, test, cancel)
        if again is None:
            return None
        again.output = ("threadlings: the first run's Criterion runner "
                        f"aborted without a report ({result.message}); the "
                        "test ran again\n" + again.output)
        return again
    return result


def _run_test_once(check, binary, scratch, student_files, limit_for, suite,
                   test, cancel=None):
    stem = os.path.join(scratch, f"{suite}.{test}")
    report = stem + ".report"
    for leftover in (stem + ".json", stem + ".notes"):
        if os.path.exists(leftover):
            os.remove(leftover)
    _clear_reports(report)
    # The harness runs only the test named by THREADLINGS_TEST (Criterion's
    # own --filter costs a one-test run most of its time: test_selection.c).
    env = dict(check.environment(report), THREADLINGS_NOTES=stem + ".notes",
               THREADLINGS_TEST=f"{suite}/{test}")
    # Criterion's --timeout shortens a test's own .timeout to `limit`; the
    # outer limit is for what Criterion cannot end (a runner that hangs).
    limit, outer = limit_for(f"{suite}/{test}")
    done = processes.run(
        [*check.argv(binary, report), "-j1", f"--timeout={limit:g}",
         f"--json={stem}.json"], timeout=outer, env=env,
        watch=student_files, cancel=cancel)
    if done.hang_kind == processes.STOPPED:
        return None, None
    report_text = read_reports(report)
    found = _finding(check, report_text, student_files, done.stderr)
    status, cause, message, places = _judge_test(
        check, _criterion_status(stem + ".json", suite, test), done,
        _read_notes(stem + ".notes"), found)
    details = found.details if found and status != PASS else []
    if status != PASS and not details:
        woken, details = wakeups.if_guarded_waits(
            _note_lines(stem + ".notes"), binary, student_files)
        places = places or woken
    return TestResult(f"{suite}/{test}", status, cause, message, places,
                      report_text + done.stdout + done.stderr, details,
                      round(done.seconds, 3)), done.returncode


def _up_to_first_failure(ran):
    """The tests a run one at a time would have run: those before the first
    failure in listing order, and that one (run_tests runs all of them,
    whatever order they start in); the ones after it that had started
    beside it are dropped, so that a record does not depend on which
    finished first."""
    for index, test in enumerate(ran):
        if test.status != PASS:
            return ran[:index + 1]
    return ran


class HangStop:
    """`make test`: once a run of one of an exercise's checks deadlocks,
    spins or runs out of time, the check that hung starts no more tests
    (the others would most likely hang the same way, each costing
    seconds), and the exercise's other checks start no more runs and stop
    the ones in progress (a helgrind run of a spin lasts to its limit).
    The student fixes the first hang, then runs again."""

    def __init__(self):
        self.by = None               # the first check that hung
        self._lock = threading.Lock()

    def hung(self, check):
        with self._lock:
            self.by = self.by or check

    def stops(self, check):
        """Why a run of `check` in progress must stop now, or None."""
        by = self.by
        return by and by != check and f"not run to its end: the {by} check " \
            "hung first; fix that, then run again (FULL=1 runs every check)"

    def canceller(self, check):
        """For processes.run(cancel=...)."""
        return functools.partial(self.stops, check)

    def skipped(self, check):
        """The result of `check`, stopped or never started."""
        result = skipped(check, self.stops(check))
        result.stopped_by = self.by
        return result


def run_tests(check, binary, scratch, student_files, limit_for, jobs=1,
              first_failure=False, on_failure=None, stop=None,
              expected_seconds=None):
    """Runs each test of a Criterion binary in its own process, `jobs` at
    once, each result its own.  `limit_for(test name)` gives its (Criterion
    limit, outer limit) in seconds.  With `first_failure`, a test that
    comes after a failed one in listing order is not started (the check's
    result is the same: it fails with its first failure); with `stop` (a
    HangStop), no test is started once a run of this check or another
    hangs.  Tests start in listing order, or with `expected_seconds(test
    name)` (grading: the reference's times) the longest first, so that a
    long test does not start last and keep the check waiting for it alone;
    either way every test before the first failure in listing order runs,
    and the reason is the one a full run gives.  `on_failure(test_result)`
    is called once, with the first test to fail, as soon as it has (a
    student reads it while the others still run)."""
    tests, listing = list_tests(binary)
    if not tests:
        return failed(check.name, CRASH, "the test program lists no tests (it "
                      "crashed before its first test?)",
                      listing.stdout + listing.stderr)
    os.makedirs(scratch, exist_ok=True)
    place = {entry: index for index, entry in enumerate(tests)}
    results, told = {}, threading.Lock()
    first_failed = [len(tests)]      # the listing place of the first failure
    hang_cancel = stop and stop.canceller(check.name)

    def needless(entry):
        return first_failure and place[entry] > first_failed[0]

    def canceller(entry):
        """Ends a run whose result can no longer count: a test before it in
        listing order failed, or (HangStop) a run hung."""
        def cancel():
            if needless(entry):
                return "a test listed before it failed"
            return hang_cancel and hang_cancel()
        return cancel

    def run(entry):
        if needless(entry) or (stop and stop.by):
            return
        result = _run_one_test(check, binary, scratch, student_files,
                               limit_for, *entry, canceller(entry))
        if result is None:           # stopped: see canceller
            return
        results[entry] = result
        if stop and result.cause in HUNG:
            stop.hung(check.name)
        if result.status != PASS:
            with told:
                first = first_failed[0] == len(tests)
                first_failed[0] = min(first_failed[0], place[entry])
            if first and on_failure:
                on_failure(result)

    order = tests if expected_seconds is None else sorted(
        tests, key=lambda entry: -(expected_seconds('/'.join(entry)) or 0.0))
    with concurrent.futures.ThreadPoolExecutor(max(1, jobs)) as pool:
        list(pool.map(run, order))
    # In listing order, whatever order they finished in: the reason shown is
    # the same from run to run.
    ran = [results[t] for t in tests if t in results]
    if first_failure:
        ran = _up_to_first_failure(ran)
    result = from_tests(check.name, ran)
    left_out = len(tests) - len(results)
    if stop and stop.by and left_out:
        if result.status == PASS:
            result = stop.skipped(check.name)
        result.left_out, result.stopped_by = left_out, stop.by
    return result


def _workload_outcome(check, done, token, found, timeout):
    """(cause, reason, places); cause None if the workload passed."""
    finished = f"threadlings: workload finished {token}" in done.stdout
    own = re.search(r"^threadlings: workload: (.*)$", done.stderr, re.M)
    # A report on the student's own lines comes first (one printed before a
    # hang says more than the hang); the workload's own message beats a
    # report that names none of them (a thread leak seen in main, say).
    if found and (found.places or not own):
        return SANITIZER, found.message, found.places
    if done.hang:
        return HANG_CAUSE[done.hang_kind], done.hang, []
    if done.timed_out:
        return TIMEOUT, f"the workload did not finish within {timeout} s: a " \
            "deadlock, a lost wake-up or an endless loop?", []
    if own:
        return WRONG_RESULT, "wrong result under load: " + own.group(1), []
    if done.returncode != 0:
        signal_note = f" (signal {-done.returncode})" if done.returncode < 0 else ""
        return CRASH, f"the workload failed with exit status {done.returncode}" \
            f"{signal_note}", []
    if not finished:
        return EARLY_EXIT, "the workload stopped before its end with status " \
            "0: did the code call exit()?", []
    return None, "", []


def run_workload(check, binary, student_files, timeout, stop=None):
    """The workload, under the check's tool; `stop`: see HangStop."""
    # The token the workload prints at its end, in a pipe it reads only
    # then (tests/harness/workload.c): not in the environment, where the
    # code under test could read it and print the end line itself.
    token = secrets.token_hex(8)
    token_fd, token_writer = os.pipe()
    os.write(token_writer, token.encode())
    os.close(token_writer)
    report = os.path.join(os.path.dirname(binary), f"{check.name}-runs", "report")
    _clear_reports(report)
    env = dict(check.environment(report), THREADLINGS_TOKEN_FD=str(token_fd))
    try:
        done = processes.run(check.argv(binary, report), timeout=timeout,
                             env=env, pass_fds=(token_fd,), watch=student_files,
                             cancel=stop and stop.canceller(check.name))
    finally:
        os.close(token_fd)
    if done.hang_kind == processes.STOPPED:
        return stop.skipped(check.name)
    report_text = read_reports(report)
    found = _finding(check, report_text, student_files)
    cause, reason, places = _workload_outcome(check, done, token, found, timeout)
    if stop and cause in HUNG:
        stop.hung(check.name)
    status = FAIL if cause else PASS
    details = found.details if found and cause == SANITIZER else []
    test = TestResult(check.name, status, cause or PASSED, reason, places,
                      report_text + done.stderr + done.stdout, details,
                      round(done.seconds, 3))
    result = from_tests(check.name, [test])
    result.reason, result.report = reason, test.output
    return result
