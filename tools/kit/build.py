"""Builds one binary of one exercise variant through the Makefile's rules."""
import dataclasses
import os
import re

from . import processes
from .manifest import KIT_ROOT

BUILD_TIMEOUT = 180


@dataclasses.dataclass
class Built:
    ok: bool
    binary: str
    log: str

    def reason(self):
        """The compiler's first error, as a student would want to see it."""
        for line in self.log.splitlines():
            if re.search(r"\berror\b", line):
                return "does not compile: " + _short_paths(line.strip())
        last = self.log.strip().splitlines()[-1:] or ["(no output)"]
        return "does not build: " + _short_paths(last[0])


def _short_paths(text):
    return re.sub(r"(?:[\w.+-]*/)+([\w.+-]+\.[ch]\b)", r"\1", text)


def _relative(path):
    path = os.path.abspath(path)
    try:
        return os.path.relpath(path, KIT_ROOT)
    except ValueError:
        return path


def build(exercise, source_dir, out_dir, target):
    """Builds `target` (functional, asan, tsan or helgrind) into out_dir."""
    binary = os.path.join(out_dir, target)
    command = ["make", "-s", "--no-print-directory", "-C", str(KIT_ROOT),
               f"EX={exercise.name}", f"SRC={_relative(source_dir)}",
               f"OUT={_relative(out_dir)}", f"EDIT={' '.join(exercise.edit)}",
               f"LIBS={' '.join(exercise.libs)}",
               f"{_relative(out_dir)}/{target}"]
    done = processes.run(command, timeout=BUILD_TIMEOUT)
    log = done.stdout + done.stderr
    if done.timed_out:
        log += f"\nthe build took longer than {BUILD_TIMEOUT} s"
    return Built(done.returncode == 0 and os.path.exists(binary), binary, log)
