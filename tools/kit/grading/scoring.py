"""Scores: a check earns its weight (from the manifest) only if it passed;
a skipped check (its tool cannot run on the grading machine) is left out of
the maximum, with its reason shown, so that a whole class does not lose
its points to the machine.  This module turns what the
checks found into one submission's record (see records.py)."""
from ..results import CAUSES, FAIL, NO_REPORT, PASS, PASSED, SKIP, STATUSES

MAX_TEXT = 1000
MAX_TESTS = 200


def _text(value):
    text = value if isinstance(value, str) else ""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


def _status(value):
    return value if value in STATUSES else FAIL


def _cause(value, status):
    if value in CAUSES:
        return value
    return PASSED if status == PASS else NO_REPORT


def _tests(raw):
    tests = raw if isinstance(raw, list) else []
    return [{"name": _text(t.get("name")), "status": _status(t.get("status")),
             "cause": _cause(t.get("cause"), _status(t.get("status"))),
             "message": _text(t.get("message"))}
            for t in tests[:MAX_TESTS] if isinstance(t, dict)]


def check_entry(weight, raw):
    """One check's result as graded; `raw` is the kit's CheckResult JSON."""
    if not isinstance(raw, dict):
        raw = {"status": FAIL, "reason": "the check gave no result"}
    status = _status(raw.get("status"))
    return {"status": status, "points": weight if status == PASS else 0,
            "max": 0 if status == SKIP else weight,
            "cause": _cause(raw.get("cause"), status),
            "reason": _text(raw.get("reason")),
            "tests": _tests(raw.get("tests"))}


def _zero(exercise, checks, reason):
    return {check: {"status": FAIL, "points": 0, "max": exercise.weights[check],
                    "cause": NO_REPORT, "reason": reason, "tests": []}
            for check in checks}


NOT_SUBMITTED, NOT_GRADED = "not submitted", "not graded"


def not_submitted(why=""):
    return NOT_SUBMITTED, NOT_SUBMITTED + (f": {why}" if why else "")


def not_graded(why):
    return NOT_GRADED, f"{NOT_GRADED}: {why}"


def exercise_entry(exercise, checks, taken_from, raw, not_done):
    """`raw`: the worker's results for the exercise, or None; `not_done`:
    (NOT_SUBMITTED or NOT_GRADED, why) for what has no result."""
    checks = [c for c in exercise.checks if c in checks]
    status, why_not = not_done
    if raw is None:
        graded = _zero(exercise, checks, why_not)
    else:
        status = "graded"
        found = raw.get("checks") if isinstance(raw.get("checks"), dict) else {}
        graded = {c: check_entry(exercise.weights[c], found[c]) if c in found
                  else _zero(exercise, [c], why_not)[c] for c in checks}
    return {"name": exercise.name, "status": status,
            "reason": "" if raw is not None else why_not,
            "score": sum(g["points"] for g in graded.values()),
            "max": sum(g["max"] for g in graded.values()),
            "files": dict(taken_from), "checks": graded}


def totals(entries):
    return sum(e["score"] for e in entries), sum(e["max"] for e in entries)
