"""Does the tree agree with the manifest?  Each problem is one line."""
import re

from . import mutants, registry
from .manifest import load
from .paths import KIT_ROOT


def _exercise_problems(exercise):
    problems = []
    need = [exercise.exercise_dir / "README.md", exercise.tests_dir]
    need += [exercise.exercise_dir / f for f in exercise.edit]
    need += [exercise.solution_dir / f for f in exercise.edit]
    if any(not registry.get(c).runs_tests for c in exercise.checks):
        need.append(exercise.tests_dir / "workload.c")
    problems += [f"missing {p.relative_to(KIT_ROOT)}" for p in need if not p.exists()]
    if not list(exercise.exercise_dir.glob("*.h")):
        problems.append("no header in the exercise directory")
    if not list(exercise.tests_dir.glob("test_*.c")):
        problems.append("no tests/NN/test_*.c")
    for test_file in exercise.tests_dir.glob("test_*.c"):
        if re.search(r"^\s*Test\s*\(", test_file.read_text(), re.M):
            problems.append(f"{test_file.name} uses Test(): use EXERCISE_TEST, "
                            "which adds the time limit and exit guards")
    if not exercise.hints or any("TODO" in hint for hint in exercise.hints):
        problems.append("hints missing in the manifest")
    if not exercise.mutant_paths():
        problems.append("no mutants")
    for path in exercise.mutant_paths():
        mutant = mutants.parse(path)
        if mutant.check not in exercise.checks:
            problems.append(f"mutant {mutant.name}: Check '{mutant.check}' is "
                            "not one of the exercise's checks")
        if not mutant.mistake:
            problems.append(f"mutant {mutant.name}: no Mistake description")
    return problems


def problems(exercises):
    """[(where, problem)] for every disagreement between manifest and tree."""
    found = []
    for exercise in exercises:
        found += [(exercise.name, p) for p in _exercise_problems(exercise)]
    # Every exercise of the manifest is known, not only the selected ones.
    known = {e.name for e in load()} | {"harness", "selftest", "bench"}
    for top in ("exercises", "solutions", "tests"):
        for directory in sorted((KIT_ROOT / top).iterdir()):
            if directory.is_dir() and directory.name not in known:
                found.append((f"{top}/{directory.name}",
                              "directory is not in exercises/manifest.toml"))
    return found
