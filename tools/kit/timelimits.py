"""Time limits from the reference solutions.

`make timings` runs every reference solution and keeps how long each test
and workload took (the slowest of a few runs) in exercises/timings.json.
A run's limit is then a generous multiple of that, with a floor, and never
more than the test's own limit: a wrong solution that spins is stopped in
seconds, not after the fixed limit written for the slowest machine.  Under
valgrind the figure was measured under valgrind, so it scales by itself.
"""
import functools
import json

from .files import write_atomically
from .paths import KIT_ROOT

TIMINGS = KIT_ROOT / "exercises" / "timings.json"
# A correct solution that is much slower than the reference must still pass,
# and a loaded machine runs everything slower: generous multiples, floors.
MULTIPLE = {True: 20, False: 10}     # tests, workloads
FLOOR = {True: 10.0, False: 30.0}    # seconds
USE_MEASURED = True                  # off while the figures are measured


@functools.lru_cache(maxsize=1)
def reference_times():
    if not USE_MEASURED:
        return {}
    try:
        with open(TIMINGS, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def reference(exercise, check, name):
    """Seconds the reference solution took for `name`, or None."""
    return reference_times().get(exercise.name, {}).get(check.name, {}).get(name)


def limit(exercise, check, name, default):
    """Seconds for one run of `name` (a test, or the check's workload)."""
    reference_seconds = reference(exercise, check, name)
    if reference_seconds is None:
        return default
    kind = check.runs_tests
    return min(default, max(FLOOR[kind], MULTIPLE[kind] * reference_seconds))


def measure(exercises, runs, run_solution):
    """Runs each reference solution `runs` times under the fixed limits and
    records the slowest time of each test and workload."""
    global USE_MEASURED
    USE_MEASURED = False
    reference_times.cache_clear()
    try:
        previous = _load_all()
        found = {e.name: [run_solution(e) for _ in range(runs)] for e in exercises}
    finally:
        USE_MEASURED = True
    return record(found, previous)


def _load_all():
    try:
        with open(TIMINGS, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def record(results_by_exercise, previous=None):
    """Writes the slowest seconds of each test in these runs of the
    reference solutions ({exercise: [{check: CheckResult}]})."""
    measured = dict(previous or {})
    for exercise in results_by_exercise:
        measured.pop(exercise, None)    # measured again: the old figures go
    for exercise, runs in sorted(results_by_exercise.items()):
        for results in runs:
            for check, result in results.items():
                tests = measured.setdefault(exercise, {}).setdefault(check, {})
                for test in result.tests:
                    tests[test.name] = round(max(tests.get(test.name, 0.0),
                                                 test.seconds), 3)
    write_atomically(str(TIMINGS), json.dumps(measured, indent=1,
                                              sort_keys=True) + "\n")
    reference_times.cache_clear()
    return measured
