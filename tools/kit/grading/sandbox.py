"""The grader's side of containment: slots, the jail command, and making
sure nothing a submission started outlives its grading.

Each parallel slot grades as its own unprivileged uid (FIRST_UID + n, held
with a lock file so that two batches never share one): RLIMIT_NPROC then
holds (it does not for root), and every process the submission started,
even one that called setsid(), is found by its uid and killed.  Each
submission's jail (jail.py) is a child subreaper, and so is the grader, for
what outlives a jail: orphans come back to be reaped (this machine's init
does not reap them, and zombies count against RLIMIT_NPROC).  Without
root, one submission is graded at a time and its processes are found as
the grader's descendants instead.
"""
import ctypes
import dataclasses
import fcntl
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

from ..paths import FILE_SIZE_LIMIT
from .procs import descendants, processes

FIRST_UID = 61000
SLOTS = 200
LOCK_DIR = "/tmp/threadlings-grade-uids"
PR_SET_CHILD_SUBREAPER = 36
CLEANED_DIRS = ("/tmp", "/var/tmp", "/dev/shm")
SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclasses.dataclass
class Limits:
    # processes and threads at once: a correct submission's peak was 113
    # with one check of an exercise at a time, 207 with its four side by
    # side (sampled, the worker's own threads included)
    nproc: int = 512
    fsize: int = FILE_SIZE_LIMIT     # bytes in one file
    memory: int = 2048 * 1024 * 1024  # resident bytes, all processes summed
    disk: int = 1024 * 1024 * 1024   # bytes in the scratch directory
    submission_seconds: int = 1800   # the whole submission
    workload_seconds: int = 0        # one workload run; 0: the registry's


@dataclasses.dataclass
class Slot:
    uid: int | None                  # None: not root, no uid of its own
    lock: object = None

    @property
    def gid(self):
        return self.uid


def is_root():
    return os.geteuid() == 0


def become_subreaper():
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except OSError:
        return False


def network_isolation():
    """(command prefix, note): `unshare --net` if it works here."""
    try:
        done = subprocess.run(["unshare", "--net", "true"], capture_output=True,
                              text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as error:
        return [], f"no network isolation: unshare: {error}"
    if done.returncode != 0:
        return [], ("no network isolation: `unshare --net` failed here: " +
                    (done.stderr.strip().splitlines() or ["?"])[-1])
    return ["unshare", "--net", "--"], "network: none (own network namespace)"


def worker_python():
    """The python3 that graded code can run (not one in root's home)."""
    for name in ("python3", "python3.13", "python3.12", "python3.11"):
        found = shutil.which(name, path=SYSTEM_PATH)
        if not found:
            continue
        try:
            done = subprocess.run([found, "-c", "import tomllib"],
                                  capture_output=True, timeout=30)
        except OSError:
            continue
        if done.returncode == 0:
            return found
    raise SystemExit(f"grade: grading needs python3 >= 3.11 in {SYSTEM_PATH}")


def acquire_slot():
    """The first uid no other batch holds, locked until release_slot."""
    if not is_root():
        return Slot(None)
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    for uid in range(FIRST_UID, FIRST_UID + SLOTS):
        handle = open(os.path.join(LOCK_DIR, f"{uid}.lock"), "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            continue
        slot = Slot(uid, handle)
        kill_all(slot)          # left over from a batch that was killed
        return slot
    raise RuntimeError(f"all {SLOTS} grading uids are in use")


def in_use(uid):
    """Whether a live batch holds this grading uid."""
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    with open(os.path.join(LOCK_DIR, f"{uid}.lock"), "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
    return False


def reap_stale():
    """Kills what killed batches left running under grading uids that no
    live batch holds."""
    if not is_root():
        return
    uids = {p.uid for p in processes()
            if FIRST_UID <= p.uid < FIRST_UID + SLOTS}
    os.makedirs(LOCK_DIR, mode=0o700, exist_ok=True)
    for uid in sorted(uids):
        with open(os.path.join(LOCK_DIR, f"{uid}.lock"), "w") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue
            kill_all(Slot(uid))


def release_slot(slot):
    if slot.lock:
        slot.lock.close()


def _nproc(slot, limits):
    """RLIMIT_NPROC counts all the uid's threads: without a uid of its own,
    the submission may have `limits.nproc` more than the grader's user."""
    if slot.uid is not None:
        return limits.nproc
    uid = os.getuid()
    return limits.nproc + sum(p.threads for p in processes() if p.uid == uid)


def jail_command(slot, limits, network_prefix, grade_script, command, channel):
    jail = [sys.executable, "-I", "-B", grade_script, "_jail",
            f"--nproc={_nproc(slot, limits)}", f"--fsize={limits.fsize}",
            f"--pass-fd={channel}"]
    if slot.uid is not None:
        jail += [f"--uid={slot.uid}", f"--gid={slot.gid}"]
    if network_prefix:
        jail.append("--loopback")
    return [*network_prefix, *jail, "--", *command]


def compiler_environment(kit_root):
    """Graded builds compile through the kit's include guard (cc_guard.py)."""
    return {"CC": os.path.join(kit_root, "tools", "kit", "grading", "cc_guard.py"),
            "THREADLINGS_REAL_CC": os.environ.get("CC", "gcc")}


def clean_environment(scratch, kit_root):
    return {"PATH": SYSTEM_PATH, "HOME": scratch, "TMPDIR": os.path.join(scratch, "tmp"),
            "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1",
            **compiler_environment(kit_root)}


def slot_processes(slot):
    """The processes a slot's submission owns (zombies too)."""
    table = list(processes())
    if slot.uid is None:
        return descendants(os.getpid(), table)
    return [p for p in table if p.uid == slot.uid]


_KNOWN_CHILDREN = set()       # the jails' pids: subprocess waits for those
_KNOWN_LOCK = threading.Lock()


def started(pid):
    with _KNOWN_LOCK:
        _KNOWN_CHILDREN.add(pid)


def finished(pid):
    with _KNOWN_LOCK:
        _KNOWN_CHILDREN.discard(pid)


def reap_orphans():
    """Reaps zombies that were reparented to the grader (not the jails,
    whose Popen objects wait for them)."""
    me = os.getpid()
    for process in processes():
        if process.ppid == me and process.state == "Z":
            with _KNOWN_LOCK:
                if process.pid in _KNOWN_CHILDREN:
                    continue
            try:
                os.waitpid(process.pid, os.WNOHANG)
            except ChildProcessError:
                pass


def kill_all(slot, timeout=30):
    """SIGKILL every process of the slot until none is left; True if so."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        alive = [p for p in slot_processes(slot) if p.state != "Z"]
        for process in alive:
            try:
                os.kill(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        reap_orphans()
        me = os.getpid()
        if not alive and not [p for p in slot_processes(slot) if p.ppid == me
                              and p.pid not in _KNOWN_CHILDREN]:
            return True     # (zombies of another parent are not ours to reap)
        time.sleep(0.05)
    return False


def remove_files_of(slot):
    """Files the submission left in the shared temporary directories."""
    if slot.uid is None:
        return
    for top in CLEANED_DIRS:
        try:
            entries = os.listdir(top)
        except OSError:
            continue
        for name in entries:
            path = os.path.join(top, name)
            try:
                if os.lstat(path).st_uid == slot.uid:
                    _remove(path)
            except OSError:
                pass


def _remove(path):
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        os.unlink(path)
