"""The command line behind the Makefile: test, verify, hint, list."""
import argparse
import concurrent.futures
import json
import os
import signal
import sys

from . import (build, doctor, feedback, hints, manifest, mutants, output,
               processes, registry, runner, student, table, timelimits, verify)
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
            command.add_argument("--full", action="store_true",
                                 help="run every test of a check even after "
                                 "one hangs (FULL=1)")
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
    hint.add_argument("--stage", type=int, help="show this hint again")
    commands.add_parser("list")
    commands.add_parser("status", help="each exercise's checks, from the "
                        "last runs, and the next exercise")
    commands.add_parser("next", help="test the first exercise that does "
                        "not pass yet")
    watch = commands.add_parser("watch", help="test an exercise again each "
                                "time its file is saved")
    watch.add_argument("exercise", nargs="?")
    reset = commands.add_parser("reset", help="put an exercise's stub back")
    reset.add_argument("exercise")
    reset.add_argument("--force", action="store_true")
    commands.add_parser("doctor", help="is this machine ready for every check?")
    timings = commands.add_parser(
        "timings", help="time the reference solutions into "
        "exercises/timings.json (the time limits derive from it)")
    timings.add_argument("--exercise", "-e", action="append")
    timings.add_argument("--runs", type=int, default=3)
    commands.add_parser("compile-commands", help="write compile_commands.json "
                        "for clangd and other editors")
    copy = commands.add_parser("student-copy", help="the kit without "
                               "solutions, as a folder and a .tar.gz")
    copy.add_argument("destination")
    checks = commands.add_parser("checks", help="the checks' names (the "
                                 "registry's), one a line")
    checks.add_argument("--describe", action="store_true")
    prebuild = commands.add_parser(
        "prebuild", help="compile the kit's own objects of these exercises "
        "and checks into the object cache (the grader does, before grading)")
    prebuild.add_argument("--exercise", "-e", action="append")
    prebuild.add_argument("--check", choices=ALL_CHECKS, action="append")
    bench = commands.add_parser(
        "bench-feedback", help="time `make test` on wrong versions that "
        "deadlock, spin or lose a wake-up (tests/bench/feedback/)")
    bench.add_argument("--exercise", "-e", action="append")
    mutant = commands.add_parser(
        "mutant", help="write solutions/NN/mutants/NAME.patch from an "
        "edited copy of the solution file")
    mutant.add_argument("exercise")
    mutant.add_argument("name")
    mutant.add_argument("edited_copy")
    mutant.add_argument("--check", required=True, choices=ALL_CHECKS)
    mutant.add_argument("--mistake", required=True)
    mutant.add_argument("--reason", default="")
    mutant.add_argument("--folder", help="where to write it (default: "
                        "solutions/NN/mutants; tests/bench/feedback/NN_name "
                        "for make bench-feedback's wrong versions)")
    return parser


def _explain_failures(exercises, results, detailed):
    """Each distinct failure once: a test that fails alike in two checks
    (functional and asan run the same tests) is not listed again."""
    lines = []
    for exercise in exercises:
        seen = set()
        for check, result in results[exercise.name].items():
            if result.status == PASS:
                continue
            lines.append(f"  {exercise.name} {check}: {result.reason}")
            seen.add(result.reason)
            if result.left_out and result.status == FAIL:
                after = "this hang" if result.stopped_by == check else \
                    f"the {result.stopped_by} check hung"
                lines.append(f"      ({_tests(result.left_out)} not run after "
                             f"{after}: fix it first; FULL=1 runs every test)")
            if not detailed:
                continue
            lines += [f"      {line}" for line in result.details]
            if os.environ.get("V") == "1":
                lines += _full_report(result)
            for test in result.failed_tests()[1:]:
                line = f"{test.short_name}: {test.message}"
                if line not in seen:
                    seen.add(line)
                    lines.append(f"      {line}")
    return lines


def _tests(count):
    return f"{count} more test{'s' if count > 1 else ''}"


def _full_report(result):
    """V=1: the tools' own reports and output of the failed runs."""
    runs = result.failed_tests() or [result]
    lines = []
    for run in runs:
        text = getattr(run, "output", "") or getattr(run, "report", "")
        if text.strip():
            lines.append(f"      --- {getattr(run, 'name', result.check)}: full "
                         "report and output ---")
            lines += [f"      | {line}" for line in text.rstrip().splitlines()]
    return lines


def _next_step(exercises, results, checks):
    for exercise in exercises:
        if any(r.status != PASS for r in results[exercise.name].values()):
            return (f"Next: read exercises/{exercise.name}/README.md and edit "
                    f"{', '.join(exercise.edit)};\n"
                    f"      `make test EX={exercise.number}` checks it, "
                    f"`make hint EX={exercise.number}` gives a hint.")
    if list(checks) != list(ALL_CHECKS):
        return f"The {', '.join(checks)} check{'s' if len(checks) > 1 else ''} " \
            "passed; `make test` runs them all."
    return "Every check passes."


def _progress_line(exercise, check, status, reason):
    # Long enough for a hang's cause and the student's line after it (a
    # few wrapped lines); the whole reason comes again at the end.
    reason = f": {reason}" if reason else ""
    if len(reason) > 320:
        reason = reason[:317] + "..."
    print(f"  {exercise.name} {check}: {status}{reason}", file=sys.stderr,
          flush=True)


def _progress(exercise, check, result):
    """Each check's outcome as soon as it is known (the table comes last)."""
    _progress_line(exercise, check, f"{table.SHOWN[result.status]} "
                   f"({result.seconds:.1f} s)", result.reason)


def _first_failed_test(exercise, check, test):
    """A check's first failed test while its other tests still run: the
    student can start reading (a deadlock costs each test a second or two)."""
    _progress_line(exercise, check, "failing",
                   f"{test.short_name}: {test.message}")


def test(args):
    exercises = manifest.select(manifest.load(), args.exercise)
    checks = args.check or list(ALL_CHECKS)

    # The cores the exercises leave free run the checks of one exercise
    # side by side, and the tests of each check: twice as many processes
    # as cores at most, as in make verify (whose rows mostly wait too), and
    # a spinning test's verdict needs only a fifth of a core.
    free = max(1, args.jobs // len(exercises))
    options = runner.Options(jobs=free, check_jobs=free,
                             stop_after_hang=not args.full,
                             favour_first=True,
                             progress=_progress,
                             first_failed_test=_first_failed_test)

    def check_one(exercise):
        return runner.run_variant(
            exercise, os.path.join(args.source_root, exercise.name),
            os.path.join(args.build_root, exercise.name), checks, options)

    results = {}
    with concurrent.futures.ThreadPoolExecutor(args.jobs) as pool:
        futures = {pool.submit(check_one, e): e for e in exercises}
        for future in concurrent.futures.as_completed(futures):
            exercise = futures[future]
            results[exercise.name] = future.result()
            if os.path.samefile(args.source_root, KIT_ROOT / "exercises"):
                # Progress is about the student's own files only.
                student.save(exercise, results[exercise.name], args.source_root)
            print(f"checked {exercise.name}\n", file=sys.stderr, flush=True)
    print(table.results_table(exercises, results, checks))
    failures = _explain_failures(exercises, results, len(exercises) == 1)
    if failures:
        print("\nWhy:")
        print("\n".join(failures))
    print()
    print(_next_step(exercises, results, checks))
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


def _test_args(exercise):
    return _parser().parse_args(["test", "--exercise", exercise.name])


def _student_command(args):
    exercises = manifest.load()
    source_root = str(KIT_ROOT / "exercises")
    if args.command == "status":
        print(student.status(exercises, source_root))
        return 0
    if args.command == "student-copy":
        return student.student_copy(args.destination)
    if args.command == "reset":
        (exercise,) = manifest.select(exercises, [args.exercise])
        return student.reset(exercise, args.force)
    wanted = getattr(args, "exercise", None)
    exercise = manifest.select(exercises, [wanted])[0] if wanted else \
        student.next_exercise(exercises, source_root)
    if exercise is None:
        print("Every exercise passes every check.")
        return 0
    if args.command == "next":
        return test(_test_args(exercise))
    return student.watch(exercise, exercises, source_root,
                         lambda e: test(_test_args(e)))


def _stop(signum, frame):
    """Ctrl-C or a CI's cancel: the tests and workloads run in sessions of
    their own, so they are killed here; exiting at once, not after the
    worker threads finish what they started."""
    processes.kill_running(for_good=True)
    print(f"\nstopped (signal {signum}): nothing of the run is left running",
          file=sys.stderr, flush=True)
    os._exit(128 + signum)


def main(argv):
    args = _parser().parse_args(argv)
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, _stop)
    try:
        if args.command == "test":
            return test(args)
        if args.command in ("status", "next", "watch", "reset", "student-copy"):
            return _student_command(args)
        if args.command == "verify":
            if not (KIT_ROOT / "solutions").is_dir():
                print("make verify proves the kit's tests against its reference "
                      "solutions, and this copy of the kit has none (a "
                      "student's copy): `make test` is the command here.")
                return 2
            exercises = manifest.select(manifest.load(), args.exercise)
            return verify.verify(exercises, args.jobs, max(1, args.repeat))
        if args.command == "hint":
            if not args.exercise:
                print("Which exercise? For example: make hint EX=01")
                return 2
            (exercise,) = manifest.select(manifest.load(), [args.exercise])
            print(hints.next_hint(exercise, args.stage))
            return 0
        if args.command == "mutant":
            (exercise,) = manifest.select(manifest.load(), [args.exercise])
            print(mutants.write(exercise, args.name, args.check, args.mistake,
                                args.edited_copy, args.reason, args.folder))
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
        if args.command == "timings":
            exercises = manifest.select(manifest.load(), args.exercise)
            measured = timelimits.measure(exercises, args.runs, lambda e: runner.run_variant(
                e, e.solution_dir, BUILD_ROOT / "timings" / e.name, e.checks))
            slowest = max((s, f"{e} {c} {t}") for e, checks in measured.items()
                          for c, tests in checks.items() for t, s in tests.items())
            print(f"wrote exercises/timings.json; slowest: {slowest[1]} "
                  f"({slowest[0]} s)")
            return 0
        if args.command == "bench-feedback":
            return feedback.bench_feedback(
                manifest.select(manifest.load(), args.exercise))
        if args.command == "doctor":
            text, problems = doctor.report()
            print(text)
            return 1 if problems else 0
        if args.command == "compile-commands":
            target = KIT_ROOT / "compile_commands.json"
            target.write_text(json.dumps(build.compile_database(manifest.load()),
                                         indent=1) + "\n")
            print(f"wrote {target.relative_to(KIT_ROOT)}")
            return 0
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
