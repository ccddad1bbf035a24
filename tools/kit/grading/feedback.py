"""One Markdown file per student: the score, then what failed and why."""
from ..results import FAIL, PASS, SHOWN, SKIP


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _table(record, checks):
    lines = ["| exercise | " + " | ".join(checks) + " | score |",
             "|---" * (len(checks) + 2) + "|"]
    for exercise in record["exercises"]:
        cells = []
        for check in checks:
            entry = exercise["checks"].get(check)
            cells.append("-" if entry is None else
                         f"{SHOWN[entry['status']]} {entry['points']}/{entry['max']}")
        lines.append(f"| {exercise['name']} | " + " | ".join(cells) +
                     f" | {exercise['score']}/{exercise['max']} |")
    return lines


def _failures(entry):
    """[(test, message)] of the failed tests after the first, whose failure
    is the check's reason already (a workload is one test: none)."""
    failed = [t for t in entry["tests"] if t["status"] == FAIL]
    return [(t["name"].split("/")[-1], t["message"]) for t in failed[1:]]


def other_failures(entry):
    return [f"{name}: {message}" for name, message in _failures(entry)]


def _failed_tests(entry):
    return [f"    - `{name}`: {_cell(message)}" for name, message in _failures(entry)]


def _exercise_section(exercise):
    lines = [f"## {exercise['name']}: {exercise['score']} / {exercise['max']}", ""]
    if exercise["status"] != "graded":
        return lines + [f"{exercise['reason']}.", ""]
    problems = [(check, entry) for check, entry in exercise["checks"].items()
                if entry["status"] != PASS]
    if not problems:
        return lines + ["Every check passed.", ""]
    for check, entry in problems:
        if entry["status"] == SKIP:
            lines.append(f"- **{check}** could not run on the grading machine "
                         f"and is left out of the maximum: {_cell(entry['reason'])}")
            continue
        lines.append(f"- **{check}** failed, 0 of {entry['max']} points: "
                     f"{_cell(entry['reason'])}")
        lines += _failed_tests(entry)
    return lines + [""]


def render(record, checks):
    lines = [f"# threadlings: feedback for {record['student']}", "",
             f"**Score: {record['total']} / {record['max']}**", ""]
    lines += _table(record, checks) + [""]
    if record["notes"]:
        lines += ["Notes:", ""] + [f"- {_cell(n)}" for n in record["notes"]] + [""]
    for exercise in record["exercises"]:
        lines += _exercise_section(exercise)
    lines += ["Run `make test EX=NN` in your copy of the kit to see the same "
              "checks, with the tools' full reports.", ""]
    return "\n".join(lines)
