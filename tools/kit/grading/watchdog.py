"""Watches one submission while it is graded: its time, its memory (the
resident memory of all its processes, summed) and its scratch disk.

Memory is watched from outside because RLIMIT_AS cannot be used: the
sanitizers reserve terabytes of address space (measured: TSan and ASan
both refuse to start under `prlimit --as`, even at 16 GiB).  Over the
limit, the largest process is killed and the check that was running is
told why (SCRATCH/limits.log); if that keeps happening, the whole
submission is stopped.
"""
import dataclasses
import json
import os
import signal
import subprocess
import time

from . import procs, sandbox
from .worker import LIMITS_LOG

POLL_SECONDS = 0.25
DISK_EVERY = 2.0
MAX_ENTRIES = 200000
KILLS_BEFORE_STOP = 5


@dataclasses.dataclass
class Outcome:
    timed_out: bool = False
    stopped: str = ""                # why the submission was stopped early
    kills: list = dataclasses.field(default_factory=list)
    results_end: int | None = None   # channel bytes written before a limit


def disk_usage(top, limit_entries=MAX_ENTRIES):
    """Bytes under `top`, or None when it holds more than limit_entries."""
    total, count, todo = 0, 0, [top]
    while todo:
        try:
            entries = list(os.scandir(todo.pop()))
        except OSError:
            continue
        for entry in entries:
            count += 1
            if count > limit_entries:
                return None
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            total += info.st_blocks * 512
            if entry.is_dir(follow_symlinks=False):
                todo.append(entry.path)
    return total


def _mib(size):
    return size // (1024 * 1024)


def _over_the_limit(slot, limits):
    """The processes' memory, the largest first, if over the limit.  The
    cheap figure (resident anonymous pages) counts pages that forked
    processes share once per process; only when it is over the limit is the
    exact one (proportional set size) measured."""
    live = [p for p in sandbox.slot_processes(slot) if p.state != "Z"]
    if sum(p.rss for p in live) <= limits.memory:
        return []
    sizes = [(procs.proportional_size(p.pid), p) for p in live]
    if sum(size for size, _ in sizes) <= limits.memory:
        return []
    return sorted(sizes, key=lambda pair: -pair[0])


def _append(path, line):
    """Appends to a file in the submission's scratch directory, as root: not
    through a link the submission put there, nor into a FIFO."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW |
                     os.O_NONBLOCK, 0o644)
    except OSError:
        return
    with os.fdopen(fd, "a", encoding="utf-8") as log:
        log.write(line + "\n")


def _kill_biggest(slot, limits, scratch, outcome):
    over = _over_the_limit(slot, limits)
    if not over:
        return False
    size, biggest = over[0]
    # the chain tells the worker which check's runner the process was
    # below; read before the kill, after which its parent may reap it
    chain = [biggest.pid, *procs.ancestors(biggest.pid)]
    why = (f"used more memory than the limit ({_mib(limits.memory)} MiB): "
           f"{biggest.name} was killed at {_mib(size)} MiB")
    # Written before the kill: the check that loses the process may end and
    # read the log at once, before this thread runs again.
    _append(os.path.join(scratch, LIMITS_LOG),
            json.dumps({"why": why, "chain": chain}))
    try:
        os.kill(biggest.pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    outcome.kills.append((time.monotonic(), why))
    return True


def watch(process, slot, limits, scratch, deadline):
    """Waits for `process` (the jail) while enforcing the limits."""
    outcome, next_disk = Outcome(), 0.0
    while True:
        try:
            process.wait(timeout=POLL_SECONDS)
            return outcome
        except subprocess.TimeoutExpired:
            pass
        now = time.monotonic()
        if now > deadline:
            outcome.timed_out = True
            return outcome
        sandbox.reap_orphans()
        if _kill_biggest(slot, limits, scratch, outcome):
            recent = [t for t, _ in outcome.kills if now - t < 10]
            if len(recent) >= KILLS_BEFORE_STOP:
                outcome.stopped = outcome.kills[-1][1]
                return outcome
        if now >= next_disk:
            next_disk = now + DISK_EVERY
            used = disk_usage(scratch)
            if used is None or used > limits.disk:
                outcome.stopped = (
                    f"wrote more than {_mib(limits.disk)} MiB (or "
                    f"{MAX_ENTRIES} files) into its scratch directory")
                return outcome
