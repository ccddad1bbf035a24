"""Scores: a check earns its weight (from the manifest) only if it passed;
a skipped check earns nothing and says why.  This module turns what the
checks found into one submission's record (see records.py)."""
from ..results import FAIL, PASS, SKIP

STATUSES = (PASS, FAIL, SKIP)
MAX_TEXT = 1000
MAX_TESTS = 200


def _text(value):
    text = value if isinstance(value, str) else ""
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT] + " [...]"


def _status(value):
    return value if value in STATUSES else FAIL


def _tests(raw):
    tests = raw if isinstance(raw, list) else []
    return [{"name": _text(t.get("name")), "status": _status(t.get("status")),
             "message": _text(t.get("message"))}
            for t in tests[:MAX_TESTS] if isinstance(t, dict)]


def check_entry(weight, raw):
    """One check's result as graded; `raw` is the kit's CheckResult JSON."""
    if not isinstance(raw, dict):
        raw = {"status": FAIL, "reason": "the check gave no result"}
    status = _status(raw.get("status"))
    entry = {"status": status, "points": weight if status == PASS else 0,
             "max": weight, "reason": _text(raw.get("reason")),
             "tests": _tests(raw.get("tests"))}
    if raw.get("cause") == "refused":     # tools/kit/policy.py refused it
        entry["cause"] = "refused"
    return entry


def _zero(exercise, checks, reason):
    return {check: {"status": FAIL, "points": 0, "max": exercise.weights[check],
                    "reason": reason, "tests": []}
            for check in checks}


def exercise_entry(exercise, checks, taken_from, raw, why_not):
    """`raw`: the worker's results for the exercise, or None (then
    `why_not` says why it was not graded)."""
    checks = [c for c in exercise.checks if c in checks]
    if raw is None:
        status = "not submitted" if why_not.startswith("not submitted") \
            else "not graded"
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
