"""`tools/grade table RESULTS.json [--markdown]`: the summary table of a
results.json, either `make test`'s (exercise x check) or a batch's
(submission x exercise), as text for a job log or Markdown for a CI
summary page."""
import json

from .. import table
from ..results import PASS, SHOWN


def _markdown(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |"
              for row in rows]
    return "\n".join(lines)


def _kit_rows(data):
    checks = []
    for exercise in data["exercises"]:
        checks += [c for c in exercise["checks"] if c not in checks]
    rows = [[e["name"], *(SHOWN.get(e["checks"][c]["status"], "?") if c in e["checks"]
                          else "-" for c in checks)] for e in data["exercises"]]
    return ["exercise", *checks], rows


def _batch_rows(data):
    names = [e["name"] for e in data["exercises"]]
    rows = []
    for record in data["submissions"]:
        scores = {e["name"]: f"{e['score']}/{e['max']}" for e in record["exercises"]}
        rows.append([record["student"], *(scores.get(n, "-") for n in names),
                     f"{record['total']}/{record['max']}"])
    return ["student", *names, "total"], rows


def render(path, markdown=False):
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    header, rows = _batch_rows(data) if "submissions" in data else _kit_rows(data)
    if "submissions" not in data:
        checks = [r for e in data["exercises"] for r in e["checks"].values()]
        passed = sum(1 for r in checks if r["status"] == PASS)
        footer = f"{passed} of {len(checks)} checks passed"
    else:
        footer = f"{len(rows)} submissions"
    body = _markdown(header, rows) if markdown else table.render(header, rows)
    return f"{body}\n\n{footer}"
