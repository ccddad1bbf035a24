"""The four checks: functional and asan run Criterion tests one at a time;
tsan and helgrind run the exercise's workload program.

Each check returns a CheckResult whose `reason` is the first useful line of
why it failed, in words a student can act on.
"""
import functools
import json
import os
import re
import secrets
import shutil
import tempfile

from . import processes, reports
from .manifest import KIT_ROOT
from .results import FAIL, PASS, CheckResult, TestResult, failed

LIST_TIMEOUT = 20
# Criterion's own .timeout ends a stuck test; this outer limit is for what
# it cannot end (a runner that hangs, helgrind that never returns).
TEST_OUTER_TIMEOUT = 90
TSAN_TIMEOUT = 60
HELGRIND_TIMEOUT = 180

SANITIZER_ENV = {
    "ASAN_OPTIONS": "detect_leaks=0:detect_stack_use_after_return=1:"
                    "halt_on_error=1:abort_on_error=0",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1",
    # history_size=4: the stack of an access made long before the race was
    # seen is still there to name (2, the default, lost it in 1 run of 10).
    "TSAN_OPTIONS": "exitcode=66:halt_on_error=0:second_deadlock_stack=1:"
                    "history_size=4",
}
TSAN_EXIT = 66
HELGRIND_EXIT = 77
HELGRIND_SUPPRESSIONS = KIT_ROOT / "tests" / "harness" / "helgrind.supp"


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


def _read_notes(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            lines = [line.rstrip("\n") for line in handle]
    except FileNotFoundError:
        return "", []
    hint = next((l.split(": ", 1)[1] for l in lines
                 if l.startswith("if-it-hangs: ")), "")
    return hint, [l for l in lines if not l.startswith("if-it-hangs: ")]


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


def _judge_test(entry, done, hint, notes, student_files):
    """(status, message) for one test run."""
    crash = reports.sanitizer_reason(done.stderr, student_files)
    if done.timed_out:
        return FAIL, "did not finish even after its time limit" + \
            (f": {hint}" if hint else "")
    if entry is None:
        return FAIL, crash or "the test run ended without a report (" \
            f"exit status {done.returncode}): " + (notes[0] if notes else
                                                   "did the code crash?")
    status, messages = entry.get("status"), entry.get("messages") or []
    if status == "PASSED":
        if entry.get("assertions", 0) == 0:
            return FAIL, "the test ended before its first check: " + \
                (notes[0] if notes else "did the code call exit()?")
        return PASS, ""
    if messages == ["The test timed out."]:
        return FAIL, "timed out" + (f": {hint}" if hint else "")
    if messages == ["The test crashed."] or not messages:
        if crash:
            return FAIL, crash
        if notes:
            return FAIL, notes[0]
        return FAIL, "the test crashed (a bad pointer, or abort()?)" if \
            messages else "the test failed without a message"
    return FAIL, "; ".join(_short(m) for m in messages[:2])


def run_criterion(check, binary, scratch, student_files):
    """Runs each test of a Criterion binary in turn, in its own process."""
    tests, listing = list_tests(binary)
    if not tests:
        return failed(check, "the test program lists no tests (it crashed "
                      "before its first test?)", listing.stdout + listing.stderr)
    os.makedirs(scratch, exist_ok=True)
    results, log = [], []
    for suite, test in tests:
        stem = os.path.join(scratch, f"{suite}.{test}")
        for leftover in (stem + ".json", stem + ".notes"):
            if os.path.exists(leftover):
                os.remove(leftover)
        env = dict(SANITIZER_ENV, THREADLINGS_NOTES=stem + ".notes",
                   THREADLINGS_CHECK=check)
        done = processes.run(
            [binary, "--filter", f"{suite}/{test}", "-j1",
             f"--json={stem}.json"], timeout=TEST_OUTER_TIMEOUT, env=env)
        hint, notes = _read_notes(stem + ".notes")
        status, message = _judge_test(_criterion_status(stem + ".json", suite, test),
                                      done, hint, notes, student_files)
        results.append(TestResult(f"{suite}/{test}", status, message))
        log.append(f"### {suite}/{test}: {status}\n{done.stdout}{done.stderr}")
    failures = [t for t in results if t.status != PASS]
    reason = f"{failures[0].name.split('/')[-1]}: {failures[0].message}" \
        if failures else ""
    return CheckResult(check, FAIL if failures else PASS, reason, results,
                       "\n".join(log))


def _workload_reason(check, done, token, student_files, limit):
    finished = f"threadlings: workload finished {token}" in done.stdout
    own = re.search(r"^threadlings: workload: (.*)$", done.stderr, re.M)
    found = (reports.helgrind_reason if check == "helgrind"
             else reports.sanitizer_reason)(done.stderr, student_files)
    if found:  # a report printed before a hang says more than the hang
        return found
    if done.timed_out:
        return f"the workload did not finish within {limit} s: a deadlock, " \
            "a lost wake-up or an endless loop?"
    if own:
        return "wrong result under load: " + own.group(1)
    if done.returncode != 0:
        signal_note = f" (signal {-done.returncode})" if done.returncode < 0 else ""
        return f"the workload failed with exit status {done.returncode}" \
            f"{signal_note}"
    if not finished:
        return "the workload stopped before its end with status 0: did the " \
            "code call exit()?"
    return None


def run_workload(check, binary, student_files):
    """tsan: the instrumented workload; helgrind: the plain one in valgrind."""
    token = secrets.token_hex(8)
    env = dict(SANITIZER_ENV, THREADLINGS_CHECK=check, THREADLINGS_TOKEN=token)
    if check == "tsan":
        # Old TSan runtimes cannot map their shadow memory when the kernel
        # randomises mmap with 32 bits; without ASLR they always can.
        command, limit = ["setarch", os.uname().machine, "-R", binary], TSAN_TIMEOUT
    else:
        command = ["valgrind", "--tool=helgrind", "-q", "--fair-sched=yes",
                   f"--suppressions={HELGRIND_SUPPRESSIONS}",
                   f"--error-exitcode={HELGRIND_EXIT}", binary]
        # glibc reuses thread stacks under a lock helgrind cannot see; with
        # the cache off, a thread that creates threads while another joins
        # is not reported as racing inside glibc.
        env["GLIBC_TUNABLES"] = "glibc.pthread.stack_cache_size=0"
        limit = HELGRIND_TIMEOUT
    done = processes.run(command, timeout=limit, env=env)
    reason = _workload_reason(check, done, token, student_files, limit)
    report = done.stderr + done.stdout
    result = CheckResult(check, FAIL if reason else PASS, reason or "",
                         report=report)
    result.tests = [TestResult("workload", result.status, result.reason)]
    return result


@functools.lru_cache(maxsize=None)
def _sanitizer_works(flag):
    """Whether the compiler can build and run a program with -fsanitize=flag."""
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "probe.c")
        with open(source, "w") as handle:
            handle.write("int main(void) { return 0; }\n")
        binary = os.path.join(scratch, "probe")
        cc = os.environ.get("CC", "gcc")
        built = processes.run([cc, f"-fsanitize={flag}", "-o", binary, source],
                              timeout=60)
        if built.returncode != 0:
            return False
        command = [binary]
        if flag == "thread" and shutil.which("setarch"):
            command = ["setarch", os.uname().machine, "-R", binary]
        return processes.run(command, timeout=30).returncode == 0


def tool_missing(check):
    """Why `check` cannot run on this machine, or None if it can."""
    if check in ("functional", "asan"):
        if not (os.path.exists("/usr/include/criterion/criterion.h") or
                processes.run(["pkg-config", "--exists", "criterion"],
                              timeout=10).returncode == 0):
            return "Criterion is not installed (run `make deps`)"
    if check == "helgrind" and not shutil.which("valgrind"):
        return "valgrind is not installed (run `make deps`)"
    if check == "tsan" and not shutil.which("setarch"):
        return "setarch (util-linux) is not installed (run `make deps`)"
    if check == "tsan" and not _sanitizer_works("thread"):
        return "the compiler cannot build ThreadSanitizer programs here"
    if check == "asan" and not _sanitizer_works("address,undefined"):
        return "the compiler cannot build AddressSanitizer programs here"
    return None
