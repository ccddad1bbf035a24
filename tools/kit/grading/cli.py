"""`tools/grade`: grading a class, Gradescope, and the grader's self-test.

    tools/grade batch SUBMISSIONS OUT [-j N] [-e NN]... [--check C]...
    tools/grade gradescope-zip [--output build/gradescope/autograder.zip]
    tools/grade gradescope-run [--root /autograder]
    tools/grade selftest [-j N] [--class 30]
    tools/grade table RESULTS.json [--markdown]
    tools/grade github-classroom [-e NN]... > classroom.yml
"""
import argparse
import os
import signal
import sys

from ..manifest import ALL_CHECKS, ManifestError
from ..paths import KIT_ROOT
from . import sandbox, session


def _limits_options(command):
    command.add_argument("--check", choices=ALL_CHECKS, action="append",
                         help="grade only these checks (default: all)")
    command.add_argument("--exercise", "-e", action="append",
                         help="number or name; may repeat (default: all)")
    command.add_argument("--submission-timeout", type=int,
                         default=sandbox.Limits.submission_seconds,
                         help="seconds for one whole submission")
    command.add_argument("--workload-timeout", type=int, default=0,
                         help="seconds for one workload run (default: each "
                         "check's own, in tools/kit/registry.py)")
    command.add_argument("--memory-mib", type=int,
                         default=sandbox.Limits.memory // 2**20,
                         help="resident memory of one submission's processes")
    command.add_argument("--nproc", type=int, default=sandbox.Limits.nproc,
                         help="processes and threads one submission may have")
    command.add_argument("--test-jobs", type=int,
                         default=session.Settings.test_jobs,
                         help="tests of one check run at once in a slot "
                         "(default: %(default)s)")
    command.add_argument("--check-jobs", type=int,
                         default=session.Settings.check_jobs,
                         help="checks of one exercise run at once in a slot "
                         "(default: %(default)s)")
    command.add_argument("--full", action="store_true",
                         help="run every test of a failing check, for fuller "
                         "feedback (the score is the same; slower)")
    command.add_argument("--keep-scratch", action="store_true",
                         help="keep the scratch trees (for debugging)")


def _parser():
    parser = argparse.ArgumentParser(prog="grade", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    batch = commands.add_parser("batch", help="grade a folder of submissions")
    batch.add_argument("submissions", help="one folder, .zip or .tar.gz per student")
    batch.add_argument("out", help="where grades.csv, results.json and "
                       "feedback/ go")
    batch.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1,
                       help="submissions graded at once (default: the cores)")
    _limits_options(batch)
    zip_command = commands.add_parser("gradescope-zip",
                                      help="build Gradescope's autograder.zip")
    zip_command.add_argument("--output", default=str(
        KIT_ROOT / "build" / "gradescope" / "autograder.zip"))
    zip_command.add_argument("--exercise", "-e", action="append")
    commands.add_parser("gradescope-bench", help="time Gradescope's run on a "
                        "whole correct submission and on the stubs, one core "
                        "each")
    run = commands.add_parser("gradescope-run",
                              help="what run_autograder runs on Gradescope")
    run.add_argument("--root", default=os.environ.get("AUTOGRADER_ROOT", "/autograder"))
    _limits_options(run)
    selftest = commands.add_parser("selftest", help="grade tests/selftest/grading/ and "
                                   "check the grades and reasons")
    selftest.add_argument("--jobs", "-j", type=int, default=os.cpu_count() or 1)
    selftest.add_argument("--case", action="append", help="only these cases")
    selftest.add_argument("--class", dest="class_size", type=int, default=0,
                          metavar="N", help="instead: grade a mixed class of N "
                          "submissions over every exercise")
    selftest.add_argument("--keep", action="store_true",
                          help="keep the submissions and results it made")
    classroom = commands.add_parser(
        "github-classroom", help="a GitHub Classroom autograding workflow "
        "(one graded step per exercise and check) on standard output")
    classroom.add_argument("--exercise", "-e", action="append")
    table = commands.add_parser("table", help="the summary table of a "
                                "results.json (make test's or a batch's)")
    table.add_argument("results")
    table.add_argument("--markdown", action="store_true")
    return parser


def _limits(args):
    return sandbox.Limits(nproc=args.nproc, memory=args.memory_mib * 2**20,
                          submission_seconds=args.submission_timeout,
                          workload_seconds=args.workload_timeout)


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv):
    if argv[:1] == ["_jail"]:
        from . import jail
        return jail.main(argv[1:])
    if argv[:1] == ["_worker"]:
        from . import worker
        return worker.main(argv[1:])
    args = _parser().parse_args(argv)
    try:
        if args.command == "batch":
            from . import batch
            signal.signal(signal.SIGTERM, _interrupt)
            settings = batch.prepare(args.out, args.exercise,
                                     args.check or list(ALL_CHECKS), _limits(args),
                                     args.keep_scratch, args.full,
                                     args.test_jobs, args.check_jobs)
            graded, missing = batch.run(args.submissions, args.out, settings,
                                        max(1, args.jobs))
            return 1 if missing else 0
        if args.command == "gradescope-zip":
            from . import gradescope
            print(gradescope.build_zip(args.output, args.exercise))
            return 0
        if args.command == "gradescope-bench":
            from . import gradescope
            return gradescope.bench_one_core()
        if args.command == "gradescope-run":
            from . import gradescope
            return gradescope.run(args.root, args.exercise,
                                  args.check or list(ALL_CHECKS), _limits(args))
        if args.command == "selftest":
            from ..selftest import selftest
            return selftest.run(args.jobs, args.case, args.keep, args.class_size)
        if args.command == "github-classroom":
            from . import github_classroom
            print(github_classroom.workflow(args.exercise), end="")
            return 0
        from . import tables
        print(tables.render(args.results, args.markdown))
        return 0
    except ManifestError as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grade: stopped; the same command finishes the job",
              file=sys.stderr)
        return 130
