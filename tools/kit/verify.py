"""`make verify`: the kit proves its own tests.

For every exercise: the reference solution passes every check; the stub
compiles and fails at least one check; every mutant compiles and fails the
check its description names.  The tree must also agree with the manifest.
"""
import concurrent.futures
import dataclasses
import sys
import time

from . import lint, mutants, policy, runner, table
from .paths import BUILD_ROOT, KIT_ROOT
from .results import COMPILE_ERROR, FAIL, PASS, REFUSED, SHOWN

# Stubs and mutants only have to fail: each check stops at its first failed
# test.  Tests run one at a time in listing order, so the failure shown is
# the one a full run would show first (results.from_tests), at a fraction
# of the time (most of a stub's tests run into their time limits).
UNTIL_FIRST_FAILURE = runner.Options(first_failure=True)


@dataclasses.dataclass
class Row:
    exercise: str
    variant: str
    expected: str
    got: str
    ok: bool
    details: list = dataclasses.field(default_factory=list)


def _failing(results):
    return {check: r for check, r in results.items() if r.status != PASS}


def _does_not_compile(result):
    """Not built at all: a compile error, or refused by the object policy
    (then no check ran, so nothing was caught)."""
    return result.cause in (COMPILE_ERROR, REFUSED)


def _solution_row(exercise, out_root):
    results = runner.run_variant(exercise, exercise.solution_dir,
                                 out_root / "solution", exercise.checks)
    bad = _failing(results)
    got = "all pass" if not bad else "not passed: " + ", ".join(
        f"{c} ({r.status})" for c, r in bad.items())
    return Row(exercise.name, "solution", "all pass", got, not bad,
               [f"{c}: {r.reason}" for c, r in bad.items()])


def _stub_row(exercise, out_root):
    """A stub earns nothing: it compiles and fails every check (a check
    that an untouched stub passes would give points for no work)."""
    results = runner.run_variant(exercise, exercise.exercise_dir,
                                 out_root / "stub", exercise.checks,
                                 UNTIL_FIRST_FAILURE)
    bad = _failing(results)
    compiles = not any(_does_not_compile(r) for r in bad.values())
    failed = [c for c, r in bad.items() if r.status == FAIL]
    passed = [c for c in exercise.checks if c not in failed]
    got = ("fails " + ", ".join(failed)) if failed else "passes every check"
    if failed and passed:
        got += "; " + ", ".join(f"{c} {SHOWN[results[c].status]}"
                                for c in passed)
    if not compiles:
        got = "does not compile"
    return Row(exercise.name, "stub", "compiles, fails every check", got,
               not passed and compiles,
               [f"{c}: {r.reason}" for c, r in bad.items()] +
               [f"{c}: the stub is not caught" for c in passed])


def _caught(mutant, result):
    return result.status == FAIL and not _does_not_compile(result) and \
        mutant.reason in result.reason


def _mutant_row(exercise, mutant, out_root, kind="mutant", repeat=1):
    """Every one of `repeat` runs of the named check must catch the mutant."""
    variant = f"{kind} {mutant.name}"
    expected = f"{mutant.check} fails"
    if mutant.reason:
        expected += f" ('{mutant.reason}')"
    source = out_root / f"{kind}-{mutant.name}" / "src"
    problem = mutants.materialise(exercise, mutant, source)
    if problem:
        return Row(exercise.name, variant, expected, problem, False)
    runs = [runner.run_check(exercise, mutant.check, source, source.parent,
                             UNTIL_FIRST_FAILURE) for _ in range(repeat)]
    missed = [r for r in runs if not _caught(mutant, r)]
    result = missed[0] if missed else runs[0]
    got = f"{mutant.check} {SHOWN[result.status]}"
    if result.status == FAIL and mutant.reason not in result.reason:
        got += " for another reason"
    if _does_not_compile(result):
        got = f"not built: {result.reason}"
    if repeat > 1:
        got += f" (caught in {repeat - len(missed)} of {repeat} runs)"
    return Row(exercise.name, variant, expected, got, not missed,
               [f"{mutant.check}: {result.reason}" if result.reason else
                f"{mutant.check} passed: the mutant ({mutant.mistake}) was not caught"])


def _policy_row(exercise):
    """Every stub, solution and mutant keeps the object policy, so that no
    mutant is caught by the policy instead of by the check it names."""
    results = policy.check_all(exercise)
    mutant_count = sum(1 for label, _ in results if label.startswith("mutant"))
    bad_count = sum(1 for label, _ in results if label.startswith("bad-code"))
    expected = f"stub, solution and {mutant_count} mutants accepted"
    if bad_count:
        expected = f"stub, solution, {mutant_count} mutants and {bad_count} " \
            "bad-code patches accepted"
    wrong = [(label, refused) for label, refused in results if refused != []]
    details = []
    for label, refused in wrong:
        details += [f"{label}: does not compile"] if refused is None else \
            [f"{label}: {r.message}" for r in refused]
    refused = [label for label, r in wrong if r]
    broken = [label for label, r in wrong if r is None]
    got = "; ".join(([f"refused: {', '.join(refused)}"] if refused else []) +
                    ([f"does not compile: {', '.join(broken)}"] if broken else [])) \
        or expected
    return Row(exercise.name, "policy", expected, got, not wrong, details)


def _bad_code(exercises):
    """The harness's own proofs: patches in tests/selftest/harness/ that make a
    solution exit early, crash, hang or flood, each of which must fail."""
    by_name = {e.name: e for e in exercises}
    for path in sorted((KIT_ROOT / "tests" / "selftest" / "harness").glob("*.patch")):
        bad = mutants.parse(path)
        if bad.exercise in by_name:
            yield by_name[bad.exercise], bad


def _units(exercises, repeat):
    for exercise in exercises:
        out_root = BUILD_ROOT / "verify" / exercise.name
        yield lambda e=exercise, o=out_root: _solution_row(e, o)
        yield lambda e=exercise, o=out_root: _stub_row(e, o)
        yield lambda e=exercise: _policy_row(e)
        for path in exercise.mutant_paths():
            mutant = mutants.parse(path)
            yield lambda e=exercise, m=mutant, o=out_root: \
                _mutant_row(e, m, o, repeat=repeat)
    for exercise, bad in _bad_code(exercises):
        out_root = BUILD_ROOT / "verify" / exercise.name
        yield lambda e=exercise, m=bad, o=out_root: _mutant_row(e, m, o, "bad-code")


def _timed(unit):
    start = time.monotonic()
    row = unit()
    return row, time.monotonic() - start


def verify(exercises, jobs, repeat=1):
    units = list(_units(exercises, repeat))
    rows = [None] * len(units)
    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        futures = {pool.submit(_timed, unit): i for i, unit in enumerate(units)}
        for done, future in enumerate(concurrent.futures.as_completed(futures), 1):
            row, seconds = future.result()
            rows[futures[future]] = row
            print(f"[{done}/{len(units)}] {row.exercise} {row.variant}: "
                  f"{'ok' if row.ok else 'WRONG'} ({seconds:.0f} s)",
                  file=sys.stderr, flush=True)
    rows += [Row(where, "kit", "agrees with manifest", problem, False)
             for where, problem in lint.problems(exercises)]
    print(table.render(["exercise", "variant", "expected", "got", "ok"],
                       [[r.exercise, r.variant, r.expected, r.got,
                         "ok" if r.ok else "WRONG"] for r in rows]))
    wrong = [r for r in rows if not r.ok]
    if wrong:
        print("\nWhat is wrong:")
        for row in wrong:
            print(f"  {row.exercise} {row.variant}: {row.got}")
            for detail in row.details:
                print(f"      {detail}")
    print(f"\n{len(rows) - len(wrong)} passed, {len(wrong)} failed")
    return 1 if wrong else 0
