"""What a check found, in a shape that reports, grading and CI share.

Every result carries a cause, one of CAUSES, and the places in the
student's files it points to.  Code decides on causes; messages are only
rendered for people (terminal, feedback, JUnit, Gradescope).
"""
import dataclasses

PASS, FAIL, SKIP = "pass", "fail", "skip"
STATUSES = (PASS, FAIL, SKIP)
# How statuses are shown in tables and feedback.
SHOWN = {PASS: "pass", FAIL: "FAIL", SKIP: "skip", None: "-"}

# Why a test or a check ended as it did.
PASSED = "passed"
ASSERTION = "assertion"          # a check of the test failed
COMPILE_ERROR = "compile_error"  # the student's files do not build
REFUSED = "refused"              # the build was refused before linking
TIMEOUT = "timeout"              # ran out of time
DEADLOCK = "deadlock"            # seen blocked for good before its time ran out
SPIN = "spin"                    # seen busy without progress
CRASH = "crash"                  # killed by a signal, or an abort
SANITIZER = "sanitizer"          # a sanitizer's or helgrind's report
EARLY_EXIT = "early_exit"        # ended before its end, exit status 0 or not
OUTPUT_FLOOD = "output_flood"    # printed until it was stopped
WRONG_RESULT = "wrong_result"    # a workload's own check of its results
LIMIT = "limit"                  # stopped by the grader for memory or disk
NO_REPORT = "no_report"          # the tests gave no report to read
SKIPPED = "skipped"              # the check's tool is missing here
CAUSES = (PASSED, ASSERTION, COMPILE_ERROR, REFUSED, TIMEOUT, DEADLOCK, SPIN, CRASH,
          SANITIZER, EARLY_EXIT, OUTPUT_FLOOD, WRONG_RESULT, LIMIT, NO_REPORT,
          SKIPPED)


@dataclasses.dataclass
class Place:
    """A line of one of the student's files that a failure points to."""
    file: str
    line: int
    function: str = ""

    def __str__(self):
        where = f"{self.file}:{self.line}"
        return f"{self.function} ({where})" if self.function else where


@dataclasses.dataclass
class TestResult:
    name: str                     # "suite/test", or the check's name
    status: str
    cause: str = PASSED
    message: str = ""
    places: list = dataclasses.field(default_factory=list)
    output: str = ""              # this run's report and output, for the curious
    details: list = dataclasses.field(default_factory=list)  # explanation lines
    seconds: float = 0.0

    @property
    def short_name(self):
        return self.name.split("/")[-1]


@dataclasses.dataclass
class CheckResult:
    check: str
    status: str
    cause: str = PASSED
    reason: str = ""              # the first useful line of why
    tests: list = dataclasses.field(default_factory=list)
    report: str = ""              # the tool's own report (builds, workloads)
    seconds: float = 0.0
    places: list = dataclasses.field(default_factory=list)
    details: list = dataclasses.field(default_factory=list)
    left_out: int = 0             # tests not run after a hang (make test)
    stopped_by: str = ""          # the check whose hang left them out

    def failed_tests(self):
        return [t for t in self.tests if t.status == FAIL]

    def to_json(self):
        return dataclasses.asdict(self)


def skipped(check, why):
    return CheckResult(check, SKIP, SKIPPED, why)


def failed(check, cause, why, report=""):
    return CheckResult(check, FAIL, cause, why, report=report)


def from_tests(check, tests):
    """A check made of tests: it fails with its first failing test."""
    failures = [t for t in tests if t.status != PASS]
    if not failures:
        return CheckResult(check, PASS, PASSED, "", tests)
    first = failures[0]
    return CheckResult(check, FAIL, first.cause,
                       f"{first.short_name}: {first.message}", tests,
                       places=list(first.places), details=list(first.details))
