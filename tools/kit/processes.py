"""Running code under test: never a hang, never unbounded output.

Every command runs in its own process group with a time limit, a cap on
the size of files it writes and no core dumps; when it ends, or its time
runs out, the whole group is killed, so nothing it started lives on.
"""
import dataclasses
import os
import signal
import subprocess
import tempfile
import time

OUTPUT_KEPT = 64 * 1024          # bytes of stdout/stderr kept for reports
FILE_SIZE_LIMIT = 64 * 1024 * 1024


@dataclasses.dataclass
class Completed:
    returncode: int | None       # None: killed at the time limit
    stdout: str
    stderr: str
    seconds: float

    @property
    def timed_out(self):
        return self.returncode is None


def _read_capped(handle):
    handle.seek(0)
    data = handle.read(OUTPUT_KEPT + 1)
    text = data[:OUTPUT_KEPT].decode("utf-8", "replace")
    if len(data) > OUTPUT_KEPT:
        text += "\n[... output cut ...]\n"
    return text


def _kill_group(process):
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run(command, *, timeout, env=None, cwd=None, limits=(), pass_fds=()):
    """Runs `command`; `limits` are extra prlimit options (--nproc=...);
    `pass_fds` are file descriptors it inherits."""
    limited = ["prlimit", f"--fsize={FILE_SIZE_LIMIT}", "--core=0",
               *limits, "--", *command]
    full_env = dict(os.environ)
    full_env.update(env or {})
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            limited, stdin=subprocess.DEVNULL, stdout=out, stderr=err,
            env=full_env, cwd=cwd, start_new_session=True,
            pass_fds=tuple(pass_fds))
        try:
            returncode = process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            returncode = None
        _kill_group(process)
        process.wait()
        return Completed(returncode, _read_capped(out), _read_capped(err),
                         time.monotonic() - started)
