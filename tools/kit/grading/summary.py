"""The class's results, rebuilt from the per-submission records every time
(so that they do not depend on the order or the number of runs):

    grades.csv    one row per submission: a column per exercise, total, max
    results.json  every submission x exercise x check x test, with messages
"""
import csv
import io

from . import records


def grades_csv(records_list, exercise_names):
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["student", *exercise_names, "total", "max"])
    for record in records_list:
        scores = {e["name"]: e["score"] for e in record["exercises"]}
        writer.writerow([record["student"], *(scores.get(n, "") for n in exercise_names),
                         record["total"], record["max"]])
    return text.getvalue()


def results_json(records_list, settings_summary):
    return records.dumps(dict(settings_summary, submissions=records_list))


def settings_summary(settings):
    return {
        "kit": "threadlings",
        "fingerprint": settings.fingerprint,
        "checks": list(settings.checks),
        "exercises": [{"name": e.name, "weights": {c: e.weights[c] for c in e.checks
                                                   if c in settings.checks}}
                      for e in settings.exercises],
        "left_out": [{"name": name, "why": why} for name, why in settings.left_out],
        "containment": list(settings.containment),
    }
