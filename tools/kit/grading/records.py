"""One submission's record, OUT/submissions/<student>.json: written once,
atomically (a temporary name, then os.replace), so that a batch killed at
any moment leaves only whole records.  It holds no time stamps or
durations: the same grading gives the same bytes.

    {"student", "source", "kit": fingerprint of kit + settings,
     "submission": fingerprint of the files taken, "total", "max",
     "notes": [...], "exercises": [{"name", "status", "reason", "score",
     "max", "files": {name: path in submission}, "checks": {check:
     {"status", "points", "max", "reason", "tests": [{"name", "status",
     "message"}]}}}]}
"""
import json
import os
import re

from ..files import write_atomically

FOLDER = "submissions"
TEMPORARY = re.compile(r"\.tmp\d+$")


def path(out_dir, student):
    return os.path.join(out_dir, FOLDER, student + ".json")


def dumps(data):
    return json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n"


def save(out_dir, record):
    write_atomically(path(out_dir, record["student"]), dumps(record))


def load(out_dir, student):
    try:
        with open(path(out_dir, student), encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def remove_temporaries(out_dir):
    """Half-written files of a batch that was killed."""
    for here, dirs, files in os.walk(out_dir):
        for name in files:
            if TEMPORARY.search(name):
                os.remove(os.path.join(here, name))
