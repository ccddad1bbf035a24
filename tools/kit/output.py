"""Machine-readable results: JSON for grading and CI, JUnit XML for CI."""
import datetime
import json
import xml.etree.ElementTree as ET

from .files import write_atomically
from .results import FAIL, SKIP


def write_json(path, exercises, results):
    data = {
        "kit": "threadlings",
        "written": datetime.datetime.now(datetime.timezone.utc).isoformat(),
        "exercises": [
            {"name": e.name, "topic": e.topic,
             "checks": {check: result.to_json()
                        for check, result in results[e.name].items()}}
            for e in exercises],
    }
    write_atomically(path, json.dumps(data, indent=2) + "\n")


def write_junit(path, exercises, results):
    suites = ET.Element("testsuites", name="threadlings")
    for exercise in exercises:
        for check, result in results[exercise.name].items():
            suite = ET.SubElement(suites, "testsuite",
                                  name=f"{exercise.name}.{check}")
            tests = result.tests or [None]
            for test in tests:
                entry = test or result
                name = test.name if test else check
                message = (test.message if test else result.reason) or ""
                case = ET.SubElement(suite, "testcase", name=name,
                                     classname=f"{exercise.name}.{check}")
                if entry.status == FAIL:
                    ET.SubElement(case, "failure", message=message,
                                  type=entry.cause).text = message
                elif entry.status == SKIP:
                    ET.SubElement(case, "skipped", message=message)
            suite.set("tests", str(len(tests)))
            suite.set("failures", str(sum(1 for c in suite if c.find("failure") is not None)))
            suite.set("skipped", str(sum(1 for c in suite if c.find("skipped") is not None)))
    write_atomically(path, ET.tostring(suites, encoding="unicode") + "\n")
