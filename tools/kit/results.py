"""What a check found, in a shape that reports, grading and CI share."""
import dataclasses

PASS, FAIL, SKIP = "pass", "fail", "skip"


@dataclasses.dataclass
class TestResult:
    name: str
    status: str
    message: str = ""


@dataclasses.dataclass
class CheckResult:
    check: str
    status: str
    reason: str = ""              # the first useful line of why
    tests: list = dataclasses.field(default_factory=list)
    report: str = ""              # the tool's own report, for the curious
    seconds: float = 0.0
    cause: str = ""               # "refused": the object policy refused the
                                  # student's files; nothing was linked or run

    def to_json(self):
        return dataclasses.asdict(self)


def skipped(check, why):
    return CheckResult(check, SKIP, why)


REFUSED = "refused"


def failed(check, why, report=""):
    return CheckResult(check, FAIL, why, report=report)
