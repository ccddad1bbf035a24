"""`make doctor`: is this machine ready for every check, and if not, what
to do about it."""
import os
import shutil

from . import build, processes, registry


def _version(command):
    done = processes.run([*command, "--version"], timeout=20)
    lines = (done.stdout or done.stderr).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def _setarch_works():
    done = processes.run(["setarch", os.uname().machine, "-R", "true"], timeout=20)
    return done.returncode == 0


def rows():
    """[(what, ok, detail)]."""
    found = [("compiler", bool(_version([build.compiler()])),
              _version([build.compiler()]) or f"{build.compiler()} not found: "
              "run `make deps`, or set CC")]
    for check in registry.CHECKS:
        missing = check.missing()
        found.append((f"check {check.name}", missing is None,
                      missing or "can run"))
    if shutil.which("setarch"):
        found.append(("address randomisation off (TSan)", _setarch_works(),
                      "works" if _setarch_works() else
                      "`setarch -R` is refused (a container's seccomp profile?): "
                      "the tsan check will fail here; run the kit outside the "
                      "container, or allow the personality() call"))
    gdb = _version(["gdb"])
    found.append(("gdb (stacks of a hung test)", bool(gdb),
                  gdb or "not installed: hung tests are explained less "
                  "precisely (apt-get install gdb)"))
    cores = os.cpu_count() or 1
    found.append(("cores", True, f"{cores}" + ("" if cores > 1 else
                                               ": checks will run one at a time")))
    return found


def report():
    lines, problems = [], 0
    for what, ok, detail in rows():
        problems += not ok
        lines.append(f"  {'ok ' if ok else 'NO '} {what}: {detail}")
    lines.append("\nEverything the kit needs works here." if not problems else
                 f"\n{problems} problem(s): see above (`make deps` installs "
                 "what is missing).")
    return "\n".join(lines), problems
