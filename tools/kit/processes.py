"""Running code under test: never a hang, never unbounded output.

Every command runs in its own process group with a time limit, a cap on
the size of files it writes and no core dumps; when it ends, or its time
runs out, the whole group is killed, so nothing it started lives on.
"""
import dataclasses
import os
import select
import signal
import subprocess
import tempfile
import threading
import time

from . import criterion_files, hangs
from .paths import FILE_SIZE_LIMIT

OUTPUT_KEPT = 64 * 1024          # bytes of stdout/stderr kept for reports


@dataclasses.dataclass
class Completed:
    returncode: int | None       # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float
    output_cut: bool = False     # it printed more than OUTPUT_KEPT
    hang: str | None = None      # why it was stopped early, if it hung
    hang_kind: str | None = None  # "deadlock" or "spin"

    @property
    def timed_out(self):
        return self.returncode is None


def _read_capped(handle):
    """(text, whether it was cut)."""
    handle.seek(0)
    data = handle.read(OUTPUT_KEPT + 1)
    text = data[:OUTPUT_KEPT].decode("utf-8", "replace")
    if len(data) > OUTPUT_KEPT:
        return text + "\n[... output cut ...]\n", True
    return text, False


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


STOPPED = "stopped"              # Completed.hang_kind of a cancelled run


def _exit_notice(process):
    """A file descriptor that becomes readable when `process` ends (a pidfd),
    or None where the kernel has none (before Linux 5.3)."""
    try:
        return os.pidfd_open(process.pid)
    except (AttributeError, OSError):
        return None


def _wait_at_most(process, seconds, notice):
    """process.wait(timeout=seconds), woken at once by the pidfd `notice`:
    Popen.wait polls with sleeps that grow to 50 ms, which found a 40 ms
    test's end 25 ms late (more than a third of each short test's time)."""
    if notice is not None:
        select.select([notice], [], [], max(seconds, 0))
        code = process.poll()
        if code is None:
            raise subprocess.TimeoutExpired(process.args, seconds)
        return code
    return process.wait(timeout=seconds)


def _wait(process, timeout, watcher, cancel):
    """(returncode or None, Hang or None): waits, polling the watcher and
    `cancel`."""
    notice = _exit_notice(process)
    try:
        return _wait_polling(process, timeout, watcher, cancel, notice)
    finally:
        if notice is not None:
            os.close(notice)


def _wait_polling(process, timeout, watcher, cancel, notice):
    deadline = time.monotonic() + timeout
    polling = watcher or cancel
    while True:
        left = deadline - time.monotonic()
        try:
            return _wait_at_most(process, min(left, hangs.POLL_SECONDS)
                                 if polling else max(left, 0), notice), None
        except subprocess.TimeoutExpired:
            if left <= 0:
                return None, watcher and watcher.at_limit()
        why = cancel and cancel()
        if why:
            return None, hangs.Hang(STOPPED, why)
        hang = watcher and watcher.poll()
        if hang:
            return None, hang


_running = set()                 # the process groups of runs in progress
# Re-entrant: the stop handler (a signal, run in the main thread) may have
# interrupted that thread inside `with _running_lock`.
_running_lock = threading.RLock()
_stopping = False                # set once: no run may start any more


def kill_running(for_good=False):
    """Kills every run in progress (Ctrl-C in `make watch`); `for_good`
    also refuses every later run (the kit is about to exit: each run is
    in a session of its own, so nothing else would end it)."""
    global _stopping
    with _running_lock:
        _stopping = _stopping or for_good
        for process in list(_running):
            _kill_group(process)


def _thread_nice():
    """The calling thread's nice value (Linux keeps one per thread)."""
    try:
        return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    except OSError:
        return 0


def _lower_session_priority(pid, nice):
    """Linux shares the CPU between sessions first (autogroup) and a
    process's nice value only counts inside its own: the new session of
    `pid` gets the nice value of the thread that started it.  The test
    binaries do the same for the sessions Criterion starts
    (tests/harness/session_priority.c)."""
    try:
        with open(f"/proc/{pid}/autogroup", "w", encoding="ascii") as group:
            group.write(str(nice))
    except OSError:
        pass            # no autogroups here, or it has already ended


def run(command, *, timeout, env=None, cwd=None, limits=(), pass_fds=(),
        watch=None, cancel=None):
    """Runs `command`; `limits` are extra prlimit options (--nproc=...);
    `pass_fds` are file descriptors it inherits.  `watch`: the student's
    file names, to stop a hang early and explain it (tools/kit/hangs.py);
    None runs without the watcher.  `cancel()`, polled while it runs,
    returns why to stop it (hang_kind STOPPED) or None."""
    limited = ["prlimit", f"--fsize={FILE_SIZE_LIMIT}", "--core=0",
               *limits, "--", *command]
    full_env = dict(os.environ)
    full_env.update(env or {})
    nice = _thread_nice()
    if nice > 0:
        full_env["THREADLINGS_GROUP_NICE"] = str(nice)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        with _running_lock:      # started and registered, or not at all
            if _stopping:
                raise KeyboardInterrupt("the kit is stopping")
            process = subprocess.Popen(
                limited, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
                env=full_env, cwd=cwd, start_new_session=True,
                pass_fds=tuple(pass_fds))
            _running.add(process)
        if nice > 0:
            _lower_session_priority(process.pid, nice)
        watcher = None if watch is None else hangs.Watcher(
            process.pid, watch, under_valgrind=command[0] == "valgrind")
        returncode, hang = _wait(process, timeout, watcher, cancel)
        if watcher:
            watcher.log(command)
        with _running_lock:
            _running.discard(process)
        _kill_group(process)
        process.wait()
        if returncode is None or returncode < 0:   # killed: it left files
            criterion_files.sweep()
        (stdout, out_cut), (stderr, err_cut) = _read_capped(out), _read_capped(err)
        return Completed(returncode, stdout, stderr, time.monotonic() - started,
                         out_cut or err_cut, hang and hang.reason,
                         hang and hang.kind)
