"""Two more proofs for `tools/grade selftest`: the Gradescope autograder
run locally, and a batch killed with SIGKILL half-way then run again."""
import os
import signal
import subprocess
import sys
import time

from ..paths import KIT_ROOT
from ..grading import gradescope, records
from .cases import kit_file, materialise


def gradescope_row(exercise, root):
    """Runs the autograder zip locally on the reference solution."""
    try:
        data = gradescope.local_run({exercise.edit[0]: kit_file(exercise, "solution")},
                                    [exercise.name], os.path.join(root, "gradescope"))
    except (OSError, ValueError, subprocess.CalledProcessError) as error:
        return ["(gradescope run_autograder)", "9, valid", str(error), "WRONG"]
    wrong = gradescope.problems(data)
    if data.get("score") != 9:
        wrong.append(f"score {data.get('score')}")
    return ["(gradescope run_autograder)", "9, valid",
            f"{data.get('score')}, {len(data.get('tests', []))} tests",
            "ok" if not wrong else "WRONG: " + "; ".join(wrong)]


RESTART_CASES = ("solution", "crash", "not_compiling", "exit_from_thread",
                 "empty", "solution_zip", "includes_solution", "symlinked_solution")


def _outputs(out_dir):
    """Every file a batch wrote, by its path, for comparison."""
    found = {}
    for here, dirs, files in os.walk(out_dir):
        for name in files:
            path = os.path.join(here, name)
            with open(path, "rb") as handle:
                found[os.path.relpath(path, out_dir)] = handle.read()
    return found


def _batch_command(submissions_dir, out_dir):
    return [sys.executable, str(KIT_ROOT / "tools" / "grade"), "batch",
            submissions_dir, out_dir, "-j", "2", "-e", "01"]


def restart_row(cases, exercise, root, substitutions):
    """A batch killed with SIGKILL half-way, then run again, must write
    what an uninterrupted batch writes, byte for byte (every check; the
    cases are ones whose messages do not change from run to run, unlike a
    racy stub's "the counter reached 1945")."""
    folder = os.path.join(root, "restart")
    classroom = os.path.join(folder, "in")
    os.makedirs(classroom)
    names = [n for n in RESTART_CASES if n in cases]
    for name in names:
        materialise(name, cases[name], exercise, classroom, substitutions)
    whole, broken = os.path.join(folder, "whole"), os.path.join(folder, "broken")
    quiet = {"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    subprocess.run(_batch_command(classroom, whole), **quiet)
    killed = subprocess.Popen(_batch_command(classroom, broken), **quiet)
    records_dir = os.path.join(broken, records.FOLDER)
    while killed.poll() is None and len(os.listdir(records_dir) if
                                        os.path.isdir(records_dir) else []) < len(names) // 2:
        time.sleep(0.1)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    before = len(os.listdir(records_dir))
    subprocess.run(_batch_command(classroom, broken), **quiet)
    differ = sorted(k for k, v in _outputs(whole).items() if _outputs(broken).get(k) != v)
    differ += sorted(set(_outputs(broken)) - set(_outputs(whole)))
    return ["(kill -9 half-way, run again)", "same output",
            f"{before} of {len(names)} graded before the kill; " +
            ("same output" if not differ else f"differs: {', '.join(differ[:4])}"),
            "ok" if not differ and 0 < before < len(names) else "WRONG"]
