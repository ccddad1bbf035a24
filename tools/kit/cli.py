"""The command line behind the Makefile: test, verify, hint, list."""
import argparse
import concurrent.futures
import os
import sys

from . import (build, hints, manifest, mutants, output, registry, runner, table,
               verify)
from .paths import BUILD_ROOT, KIT_ROOT
from .results import FAIL, PASS, SKIP

ALL_CHECKS = registry.NAMES
RESULTS_JSON = BUILD_ROOT / "results.json"


def _parser():
    parser = argparse.ArgumentParser(prog="threadlings")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("test", "verify"):
        command = commands.add_parser(name)
        command.add_argument("--exercise", "-e", action="append",
                             help="number or name; may repeat")
        # verify's rows mostly wait (stubs and mutants run into time
        # limits): two rows per core keep the machine busy, one does not.
        cores = os.cpu_count() or 2
        command.add_argument("--jobs", "-j", type=int,
                             default=cores if name == "test" else 2 * cores)
        if name == "test":
            command.add_argument("--check", choices=ALL_CHECKS, action="append")
            command.add_argument("--json", default=str(RESULTS_JSON))
            command.add_argument("--junit")
            command.add_argument("--source-root", default=str(KIT_ROOT / "exercises"),
                                 help="where the students' exercise folders are")
            command.add_argument("--build-root", default=str(BUILD_ROOT / "work"))
        else:
            command.add_argument("--junit", help=argparse.SUPPRESS)
            command.add_argument("--repeat", type=int, default=1,
                                 help="run each mutant's check this many "
                                 "times; every run must catch it")
    hint = commands.add_parser("hint")
    hint.add_argument("exercise", nargs="?")
    commands.add_parser("list")
    checks = commands.add_parser("checks", help="the checks' names (the "
                                 "registry's), one a line")
    checks.add_argument("--describe", action="store_true")
    prebuild = commands.add_parser(
        "prebuild", help="compile the kit's own objects of these exercises "
        "and checks into the object cache (the grader does, before grading)")
    prebuild.add_argument("--exercise", "-e", action="append")
    prebuild.add_argument("--check", choices=ALL_CHECKS, action="append")
    mutant = commands.add_parser(
        "mutant", help="write solutions/NN/mutants/NAME.patch from an "
        "edited copy of the solution file")
    mutant.add_argument("exercise")
    mutant.add_argument("name")
    mutant.add_argument("edited_copy")
    mutant.add_argument("--check", required=True, choices=ALL_CHECKS)
    mutant.add_argument("--mistake", required=True)
    mutant.add_argument("--reason", default="")
    return parser


def _explain_failures(exercises, results, detailed):
    lines = []
    for exercise in exercises:
        for check, result in results[exercise.name].items():
            if result.status == PASS:
                continue
            lines.append(f"  {exercise.name} {check}: {result.reason}")
            if detailed:
                lines += [f"      {t.short_name}: {t.message}"
                          for t in result.failed_tests()[1:]]
    return lines


def _next_step(exercises, results):
    for exercise in exercises:
        if any(r.status != PASS for r in results[exercise.name].values()):
            return (f"Next: read exercises/{exercise.name}/README.md and edit "
                    f"{', '.join(exercise.edit)};\n"
                    f"      `make test EX={exercise.number}` checks it, "
                    f"`make hint EX={exercise.number}` gives a hint.")
    return "Every check passes."


def test(args):
    exercises = manifest.select(manifest.load(), args.exercise)
    checks = args.check or list(ALL_CHECKS)

    # The cores the exercises leave free run the tests of one check at once.
    options = runner.Options(jobs=max(1, args.jobs // len(exercises)))

    def check_one(exercise):
        return runner.run_variant(
            exercise, os.path.join(args.source_root, exercise.name),
            os.path.join(args.build_root, exercise.name), checks, options)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(check_one, e): e for e in exercises}
        for future in concurrent.futures.as_completed(futures):
            results[futures[future].name] = future.result()
            print(f"checked {futures[future].name}", file=sys.stderr, flush=True)
    print(table.results_table(exercises, results, checks))
    failures = _explain_failures(exercises, results, len(exercises) == 1)
    if failures:
        print("\nWhy:")
        print("\n".join(failures))
    print()
    print(_next_step(exercises, results))
    output.write_json(args.json, exercises, results)
    if args.junit:
        output.write_junit(args.junit, exercises, results)
    print(f"Results: {os.path.relpath(args.json)}")
    all_results = [r for e in exercises for r in results[e.name].values()]
    counts = {status: sum(1 for r in all_results if r.status == status)
              for status in (PASS, FAIL, SKIP)}
    # A skipped check is not a passed one: the exit status says so too.
    print(f"{counts[PASS]} passed, {counts[FAIL]} failed" +
          (f", {counts[SKIP]} skipped" if counts[SKIP] else ""))
    return 0 if counts[PASS] == len(all_results) else 1


def main(argv):
    args = _parser().parse_args(argv)
    try:
        if args.command == "test":
            return test(args)
        if args.command == "verify":
            exercises = manifest.select(manifest.load(), args.exercise)
            return verify.verify(exercises, args.jobs, max(1, args.repeat))
        if args.command == "hint":
            if not args.exercise:
                print("Which exercise? For example: make hint EX=01")
                return 2
            (exercise,) = manifest.select(manifest.load(), [args.exercise])
            print(hints.next_hint(exercise))
            return 0
        if args.command == "mutant":
            (exercise,) = manifest.select(manifest.load(), [args.exercise])
            print(mutants.write(exercise, args.name, args.check, args.mistake,
                                args.edited_copy, args.reason))
            return 0
        if args.command == "prebuild":
            wanted = [(e, registry.get(c))
                      for e in manifest.select(manifest.load(), args.exercise)
                      for c in e.checks if c in (args.check or ALL_CHECKS)]
            with concurrent.futures.ThreadPoolExecutor(os.cpu_count()) as pool:
                problems = [p for found in pool.map(lambda w: build.prebuild(*w),
                                                    wanted) for p in found]
            print("\n".join(problems), file=sys.stderr)
            return 1 if problems else 0
        if args.command == "checks":
            for check in registry.CHECKS:
                print(f"{check.name:11} {check.summary}" if args.describe
                      else check.name)
            return 0
        for exercise in manifest.load():
            print(f"{exercise.name:28} {exercise.topic}")
        return 0
    except manifest.ManifestError as error:
        print(f"threadlings: {error}", file=sys.stderr)
        return 2
