"""Waits guarded by `if`: the places the harness woke without a signal.

The tests' harness wakes every thread's first condition wait at once, as
POSIX allows any wait to end (tests/harness/spurious_wakeups.c), and notes
each place in the code that got such a wake-up.  When a test then fails,
this module looks those places up (addr2line) and, where the wait in the
student's file sits under an `if` instead of a `while`, names both lines:
that is the mistake the lesson warns about, and the test's own message
only says what went wrong after it.
"""
import re
import subprocess

from .results import Place

NOTE = "woken-without-signal: "
GUARD = re.compile(r"^\s*(?:\}\s*)?(if|while|for|do)\b")
# How far above a wait its guard may be: `if (x)\n    wait(...)`, or the
# wait inside the braces of a one-statement `if`.
GUARD_DISTANCE = 3

MEANING = ("what it means: the kit ended this wait without a signal, as "
           "POSIX allows any wait to end; an `if` checks the condition only "
           "once, so the code went on as if it held: check it in a `while` "
           "loop, and wait again while it does not hold")


def noted(note_lines):
    """{(object file, offset)} from the notes file's lines."""
    places = set()
    for line in note_lines:
        if line.startswith(NOTE):
            parts = line[len(NOTE):].split()
            if len(parts) == 2 and re.fullmatch(r"0x[0-9a-f]+", parts[1]):
                places.add((parts[0], int(parts[1], 16)))
    return places


def _lines_of(binary, offsets):
    """[(file name, line)] of each call: its return address less one."""
    if not offsets:
        return []
    try:
        done = subprocess.run(
            ["addr2line", "-e", binary, *[hex(o - 1) for o in offsets]],
            capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return []
    found = []
    for line in done.stdout.splitlines():
        where = re.match(r"^(?:.*/)?([\w.+-]+\.c):(\d+)", line)
        if where:
            found.append((where.group(1), int(where.group(2))))
    return found


def _source(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read().splitlines()
    except OSError:
        return []


def _if_above(source, line):
    """The line number of the `if` whose statement is the wait at `line`
    (on its line, or just above with no statement between), or None: a
    loop, or an `if` that ended before the wait (`if (done) break;`)."""
    for number in range(line, max(0, line - GUARD_DISTANCE - 1), -1):
        text = source[number - 1] if number <= len(source) else ""
        guard = GUARD.match(text)
        if guard:
            ends_before = number != line and ";" in text
            return number if guard.group(1) == "if" and not ends_before \
                else None
        if number != line and (";" in text or "}" in text):
            return None
    return None


def if_guarded_waits(note_lines, binary, student_files):
    """(places, detail lines) for each woken wait in the student's files
    that an `if` guards; ([], []) when there is none."""
    # The harness and the student's code are linked into the test program
    # itself; a shared library's places are not theirs.
    offsets = sorted(o for path, o in noted(note_lines) if ".so" not in path)
    places, details = [], []
    for file, line in sorted(set(_lines_of(binary, offsets))):
        if file not in student_files:
            continue
        source = _source(student_files[file])
        guard = _if_above(source, line)
        if guard is None:
            continue
        if not details:
            details.append(MEANING)
        places.append(Place(file, line))
        details.append(f"{file}:{guard}: {source[guard - 1].strip()}")
        details.append("    the condition, checked once by an `if`")
        details.append(f"{file}:{line}: {source[line - 1].strip()}")
        details.append("    woken without a signal, and not waited again "
                       "<- put this wait in a while loop")
    return places, details
