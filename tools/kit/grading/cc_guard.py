#!/usr/bin/env -S python3 -I -S
"""The compiler the grader builds submissions with (CC=this file).

Headers come from the kit: before compiling, every C file of the
submission is preprocessed with the same flags, and the build fails if it
includes anything but the kit's headers, its own folder's files and the
compiler's system headers (`#include "/.../solutions/NN/x.c"` would bring
in code the student did not write).  Then the real compiler runs.
"""
import os
import re
import subprocess
import sys

KIT_ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REAL_CC = os.environ.get("THREADLINGS_REAL_CC", "gcc")
NOT_FOR_PREPROCESSING = re.compile(r"^-(l|L|Wl,|o$)")
INCLUDED = re.compile(r"^\.+ (.+)$")


def _submitted_sources(argv):
    sources = [a for a in argv if a.endswith(".c") and not a.startswith("-")]
    return [s for s in sources
            if not os.path.realpath(s).startswith(KIT_ROOT + os.sep)]


def _flags(argv):
    flags, skip = [], False
    for argument in argv:
        if skip:
            skip = False
        elif argument == "-o":
            skip = True
        elif not (NOT_FOR_PREPROCESSING.match(argument) or
                  argument.endswith((".c", ".o", ".a", ".so"))):
            flags.append(argument)
    return flags


def _system_dirs(stderr):
    dirs, inside = [], False
    for line in stderr.splitlines():
        if line.startswith("#include <...> search starts here:"):
            inside = True
        elif line.startswith("End of search list."):
            inside = False
        elif inside and line.startswith(" "):
            dirs.append(os.path.realpath(line.strip()))
    return dirs


def _allowed(path, source, system_dirs):
    real = os.path.realpath(path)
    within = lambda top: real.startswith(top.rstrip(os.sep) + os.sep)
    if within(KIT_ROOT):
        return real.endswith(".h")
    return within(os.path.dirname(os.path.realpath(source))) or \
        any(within(d) for d in system_dirs)


def problem(source, flags):
    """Why `source` may not be built, or None (also when it does not
    preprocess: then the real compiler gives the better message)."""
    done = subprocess.run([REAL_CC, *flags, "-E", "-H", "-v", source],
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, errors="replace", timeout=120)
    if done.returncode != 0:
        return None
    system_dirs = _system_dirs(done.stderr)
    for line in done.stderr.splitlines():
        found = INCLUDED.match(line)
        if found and not _allowed(found.group(1), source, system_dirs):
            return (f"{os.path.basename(source)} includes a file from outside "
                    f"the exercise ({found.group(1)}): only the exercise's "
                    "header and system headers may be included")
    return None


def main(argv):
    flags = _flags(argv)
    for source in _submitted_sources(argv):
        why = problem(source, flags)
        if why:
            print(f"error: {why}", file=sys.stderr)
            return 1
    os.execvp(REAL_CC, [REAL_CC, *argv])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
