"""The submission's side of containment: `tools/grade _jail ... -- command`.

Started as root (inside `unshare --net` when the machine allows it), it
brings the loopback interface up, sets the resource limits, drops to the
slot's own unprivileged uid and gid (so that RLIMIT_NPROC holds and every
process can be found and killed by uid) and forbids gaining privileges
again.  Then it runs the command as its child and stays as the
submission's reaper: a child subreaper, so that every process the
submission orphans (a daemon that called setsid()) is reparented to it,
reaped at once (zombies count against RLIMIT_NPROC) and killed when the
command ends.  Both die with the grader (PR_SET_PDEATHSIG).
"""
import argparse
import ctypes
import fcntl
import os
import resource
import signal
import socket
import struct
import sys
import time

from . import procs

PR_SET_PDEATHSIG = 1
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
LEFT_RUNNING = "threadlings-jail: processes were still running after the checks: killed"


def parser():
    jail = argparse.ArgumentParser(prog="grade _jail")
    jail.add_argument("--uid", type=int)
    jail.add_argument("--gid", type=int)
    jail.add_argument("--nproc", type=int, required=True)
    jail.add_argument("--fsize", type=int, required=True)
    jail.add_argument("--nofile", type=int, default=1024)
    jail.add_argument("--pass-fd", type=int, action="append", default=[],
                      help="a file descriptor the command inherits")
    jail.add_argument("--loopback", action="store_true",
                      help="bring `lo` up (in a fresh network namespace)")
    jail.add_argument("command", nargs=argparse.REMAINDER)
    return jail


def prctl(option, value):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(option, value, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), f"prctl({option})")


def _loopback_up():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        request = struct.pack("16sh", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(sock, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sh", b"lo", flags | IFF_UP))


def _confine(args):
    if args.loopback:
        _loopback_up()
    for kind, value in ((resource.RLIMIT_NPROC, args.nproc),
                        (resource.RLIMIT_FSIZE, args.fsize),
                        (resource.RLIMIT_CORE, 0),
                        (resource.RLIMIT_NOFILE, args.nofile)):
        resource.setrlimit(kind, (value, value))
    if args.uid is not None:
        os.setgroups([])
        os.setresgid(args.gid, args.gid, args.gid)
        os.setresuid(args.uid, args.uid, args.uid)
    prctl(PR_SET_NO_NEW_PRIVS, 1)
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    os.umask(0o077)


def _start(command, jail_pid, passed):
    for fd in passed:
        os.set_inheritable(fd, True)
    pid = os.fork()
    if pid == 0:
        try:
            prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            if os.getppid() == jail_pid:
                os.execvp(command[0], command)
        finally:
            os._exit(127)
    for fd in passed:           # only the command holds them now
        os.close(fd)
    return pid


def _kill_descendants():
    """SIGKILL everything below this process; True if anything was left."""
    table = list(procs.processes())
    live = [p for p in procs.descendants(os.getpid(), table) if p.state != "Z"]
    for process in live:
        try:
            os.kill(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return bool(live)


def _reap(command_pid):
    """Reaps every child until the command has ended and nothing is left;
    returns the command's exit code."""
    code, killed = None, False
    while True:
        try:
            pid, status = os.waitpid(-1, 0 if code is None else os.WNOHANG)
        except ChildProcessError:
            if killed:
                print(LEFT_RUNNING, file=sys.stderr, flush=True)
            return code if code is not None else 1
        if pid == command_pid:
            code = os.waitstatus_to_exitcode(status)
        if code is not None and pid == 0:
            killed = _kill_descendants() or killed
            time.sleep(0.01)


def main(argv):
    args = parser().parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    grader = os.getppid()
    _confine(args)
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != grader:       # the grader died before the line above
        return 1
    code = _reap(_start(command, os.getpid(), args.pass_fd))
    return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
