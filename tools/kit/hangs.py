"""Hang detection, explained: watches the threads of a running test.

A Watcher polls every thread of every process under a root pid (Linux
/proc, x86_64 system call numbers).  It reports:

- a deadlock: every judged thread is blocked in a wait that has no deadline
  (an untimed futex wait = a mutex lock, an untimed condition wait, a join;
  a pipe read or write; waitpid; poll without a timeout) and no thread has
  run at all (schedstat's run time and time slices unchanged) for
  DEADLOCK_WINDOW seconds.  A thread in a sleep, a timed wait, a socket
  call (SO_RCVTIMEO may end it) or an unknown system call can still move,
  so it rules a deadlock out, unless its deadline is more than LONG_WAIT
  seconds away.
- a deadlock among some threads while others still run: a ring of
  threads, each waiting without a deadline for a mutex the next holds or
  for the next to end (pthread_join), or a chain that ends in a mutex
  whose holder has ended; read from the futex words (_waits_for) and
  confirmed by the stacks.
- a spin: for SPIN_WINDOW seconds (NATIVE_SPIN_WINDOW in a process
  without a sanitizer runtime, VALGRIND_SPIN_WINDOW under valgrind)
  some threads use the CPU and never block, while every other judged
  thread stays blocked without a deadline, untouched (so nothing can
  change what the busy threads wait for).  Otherwise a thread still
  running at the time limit is named as a spin.

Judged: every process of the tree except a Criterion runner (it only waits
for its worker); threads of a sanitizer runtime (TSan's background thread
sleeps in a loop) are left out.  Before the kill, gdb (through vgdb under
valgrind) takes every thread's stack, and the reason names the student's
file and line, and for a mutex the thread that holds it.
"""
import dataclasses
import functools
import os
import re
import subprocess
import time

POLL_SECONDS = 0.1
# A deadlocked program shows no run time at all for the whole window; one
# that merely waits on another thread shows some within milliseconds.
DEADLOCK_WINDOW = 1.0
# Measured with THREADLINGS_WATCH_LOG over make verify of exercises 01, 04,
# 07-10, 13-15 (832 runs of the reference solutions, several rounds, some
# beside a second verify), the longest spell that looked like a spin was
# 1.12 s under helgrind (07's workload) and under 0.1 s natively; none
# was ever still for 0.1 s.  The windows leave more than 13x.  Not less:
# at 1.5 s, AddressSanitizer writing its report (symbolising the stacks)
# beside a second verify was once named a spin (02's
# message_buffer_one_byte_short, 2026-12-02).
SPIN_WINDOW = 3.0
# Without a sanitizer runtime in the process (the functional check's tests):
# the longest spell measured there was under 0.1 s (15x), and a sanitizer's
# own busy phases (writing a report) are the reason SPIN_WINDOW is not
# shorter.  At 2 s, 20's spinning wrong version was named 5.0 s into
# `make test` (bench-feedback's limit) once in 14 runs.
NATIVE_SPIN_WINDOW = 1.5
# Of the wall time: a spinner on a machine loaded by others gets less.
SPIN_BUSY_FRACTION = 0.2
# valgrind runs the threads one at a time, 20-100 times slower.
VALGRIND_SPIN_WINDOW = 15.0
GDB_SECONDS = 15
# A wait whose deadline is further away than this cannot save a test: it
# counts as a wait without a deadline.  The tests' own bounded waits for
# code that should return at once are 3-15 s, the workloads' up to 60 s; a
# correct solution never has every thread waiting on such a far deadline
# with none running (make verify with THREADLINGS_WATCH_LOG shows it).
LONG_WAIT = 5.0

SYS = {"read": 0, "write": 1, "poll": 7, "readv": 19, "writev": 20,
       "select": 23, "nanosleep": 35, "wait4": 61, "futex": 202,
       "clock_nanosleep": 230, "epoll_wait": 232, "waitid": 247,
       "pselect6": 270, "ppoll": 271, "epoll_pwait": 281, "epoll_pwait2": 441}
FUTEX_WAITS = {0, 9, 11}             # WAIT, WAIT_BITSET, WAIT_REQUEUE_PI
FUTEX_LOCKS = {6, 13}                # LOCK_PI, LOCK_PI2 (no timeout arg use)
TOOL_LIBRARIES = ("libtsan", "libasan", "libubsan", "liblsan", "libmsan")


@dataclasses.dataclass
class Hang:
    kind: str                        # "deadlock" or "spin"
    reason: str


def _read(path):
    try:
        with open(path, "rb") as handle:
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return None


def _children(pid):
    kids = []
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            kids += (_read(f"/proc/{pid}/task/{tid}/children") or "").split()
    except OSError:
        pass
    return [int(k) for k in kids]


def _tree(root):
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += _children(pid)
    return pids


@dataclasses.dataclass(frozen=True)
class ProgramFacts:
    """What a process's mappings say, read once it has them all."""
    criterion_runner: bool
    tool_ranges: tuple
    settled: bool       # the C library is mapped: so is everything before it


def _program_key(pid):
    """What tells the program a process runs apart from the one it ran
    before an exec (prlimit and setarch exec theirs; BoxFort's workers are
    forks of the runner that exec the same file again, and a watcher that
    looked between the fork and the exec took a worker for the runner):
    the file, its argv[0], and where its code and stack were mapped."""
    stat = _read(f"/proc/{pid}/stat")
    try:
        fields = stat[stat.rindex(")") + 2:].split()
        layout = (fields[23], fields[25])        # startcode, startstack
        program = os.readlink(f"/proc/{pid}/exe")
    except (AttributeError, ValueError, IndexError, OSError):
        return None
    argv0 = (_read(f"/proc/{pid}/cmdline") or "").split("\0", 1)[0]
    return pid, program, argv0, layout


def _program_facts(pid, argv0):
    """Whether the process is Criterion's runner (it forks workers whose
    argv[0] is `boxfort-worker`, and maps libcriterion itself), and the code
    of a sanitizer runtime in it: ((low, high), ...), empty until its
    executable segment is mapped (ld.so maps it in steps).  gcc links the
    runtime as a library (libtsan.so), which comes before the C library in
    the program's needed list, as libcriterion does; clang links it into
    the program itself, whose code then counts as the tool's: a thread of
    the program's own code in a system call is the runtime's (the
    student's and the tests' code reach the kernel through the C library;
    the object policy refuses system-call instructions)."""
    worker = argv0 == "boxfort-worker"
    ranges, own, runner, settled = [], [], False, False
    program = os.path.realpath(f"/proc/{pid}/exe")
    for line in (_read(f"/proc/{pid}/maps") or "").splitlines():
        fields = line.split()
        if len(fields) < 6:
            continue
        runner = runner or "libcriterion" in fields[5]
        if "x" not in fields[1]:
            continue
        low, high = (int(v, 16) for v in fields[0].split("-"))
        settled = settled or os.path.basename(fields[5]).startswith("libc.so")
        if any(t in fields[5] for t in TOOL_LIBRARIES):
            ranges.append((low, high))
        elif fields[5] == program:
            own.append((low, high))
    if not ranges and own and _has_static_sanitizer(program):
        ranges = own
    return ProgramFacts(runner and not worker, tuple(ranges), settled)


@functools.lru_cache(maxsize=64)
def _has_static_sanitizer_file(path, mtime, size):
    # The runtime's C++ symbols: a program that only calls into libtsan.so
    # names its C entry points (__tsan_read4), never these.
    with open(path, "rb") as handle:
        return b"_ZN11__sanitizer" in handle.read()


def _has_static_sanitizer(path):
    try:
        status = os.stat(path)
        return _has_static_sanitizer_file(path, status.st_mtime_ns,
                                          status.st_size)
    except OSError:
        return False


def _fd_kind(pid, fd):
    try:
        target = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        return "?"
    return target.split(":")[0]


def _signed32(value):
    value &= 0xffffffff
    return value - (1 << 32) if value & 0x80000000 else value


def _read_bytes(pid, address, size):
    try:
        with open(f"/proc/{pid}/mem", "rb") as memory:
            memory.seek(address)
            data = memory.read(size)
            return data if len(data) == size else None
    except (OSError, ValueError, OverflowError):
        return None


def _seconds_at(pid, address, microseconds=False):
    """A struct timespec (or timeval) in the process's memory, in seconds."""
    data = _read_bytes(pid, address, 16)
    if data is None:
        return 0.0
    whole = int.from_bytes(data[:8], "little", signed=True)
    part = int.from_bytes(data[8:], "little", signed=True)
    return whole + part / (1e6 if microseconds else 1e9)


def _deadline_kind(seconds_left):
    return "untimed" if seconds_left > LONG_WAIT else "timed"


def _futex_kind(pid, args):
    op = args[1] & 0x7f
    if op in FUTEX_LOCKS or (op in FUTEX_WAITS and args[3] == 0):
        return "untimed"
    if op not in FUTEX_WAITS:
        return "timed"
    timeout = _seconds_at(pid, args[3])
    if op == 0:                      # FUTEX_WAIT: a relative timeout
        return _deadline_kind(timeout)
    clock = time.CLOCK_REALTIME if args[1] & 0x100 else time.CLOCK_MONOTONIC
    return _deadline_kind(timeout - time.clock_gettime(clock))


def _wait_kind(pid, numbers):
    """'untimed' (no deadline, or one too far away to matter) or 'timed'
    (a near deadline, or a call that may end by itself)."""
    number, args = numbers[0], numbers[1:]
    if number == SYS["futex"]:
        return _futex_kind(pid, args)
    if number in (SYS["read"], SYS["write"], SYS["readv"], SYS["writev"]):
        return "untimed" if _fd_kind(pid, args[0]) == "pipe" else "timed"
    if number in (SYS["wait4"], SYS["waitid"]):
        return "untimed"
    if number == SYS["nanosleep"]:
        return _deadline_kind(_seconds_at(pid, args[0]))
    if number == SYS["clock_nanosleep"]:
        left = _seconds_at(pid, args[2])
        if args[1] & 1:              # TIMER_ABSTIME
            left -= time.clock_gettime(args[0] & 0xf)
        return _deadline_kind(left)
    if number == SYS["poll"]:
        return _deadline_kind(_signed32(args[2]) / 1000) \
            if _signed32(args[2]) >= 0 else "untimed"
    if number in (SYS["epoll_wait"], SYS["epoll_pwait"]):
        return _deadline_kind(_signed32(args[3]) / 1000) \
            if _signed32(args[3]) >= 0 else "untimed"
    if number == SYS["ppoll"]:
        return "untimed" if args[2] == 0 else \
            _deadline_kind(_seconds_at(pid, args[2]))
    if number in (SYS["select"], SYS["pselect6"]):
        return "untimed" if args[4] == 0 else _deadline_kind(
            _seconds_at(pid, args[4], microseconds=number == SYS["select"]))
    if number == SYS["epoll_pwait2"]:
        return "untimed" if args[3] == 0 else \
            _deadline_kind(_seconds_at(pid, args[3]))
    return "timed"


@dataclasses.dataclass
class ThreadState:
    pid: int
    tid: int
    state: str                       # 'untimed', 'timed', 'running', 'tool',
                                     # 'tool thread' (a sanitizer's own thread)
    runtime: int                     # ns on a CPU
    slices: int                      # times it was scheduled
    switches: int = 0                # voluntary context switches
    futex: int = 0                   # the futex word it waits on
    pc: int = 0                      # where in user space the call was made
    in_tool: bool = False            # waits for a lock of the tool's own


def _thread_state(pid, tid, tool_ranges):
    base = f"/proc/{pid}/task/{tid}"
    stat, syscall, sched = (_read(f"{base}/stat"), _read(f"{base}/syscall"),
                            _read(f"{base}/schedstat"))
    if not stat or syscall is None or not sched:
        return None
    letter = stat[stat.rindex(")") + 2:].split()[0]
    if letter in "ZXx":
        return None
    runtime, _, slices = (int(v) for v in sched.split()[:3])
    status = _read(f"{base}/status") or ""
    found = re.search(r"^voluntary_ctxt_switches:\s*(\d+)", status, re.M)
    switches = int(found.group(1)) if found else 0
    fields = syscall.split()
    if letter in "RD" or not fields or fields[0] == "running" or \
            fields[0] == "-1":
        return ThreadState(pid, tid, "running", runtime, slices, switches)
    try:
        numbers = [int(fields[0])] + [int(f, 16) for f in fields[1:]]
    except ValueError:
        return ThreadState(pid, tid, "timed", runtime, slices, switches)
    program_counter = numbers[-1]
    if any(low <= program_counter < high for low, high in tool_ranges):
        if numbers[0] == SYS["futex"]:
            # A lock inside the sanitizer (TSan takes one per atomic
            # variable): held only for the length of one instrumented
            # operation, so the thread is as good as running.
            return ThreadState(pid, tid, "running", runtime, slices,
                               switches, in_tool=True)
        if numbers[0] in (SYS["nanosleep"], SYS["clock_nanosleep"]):
            # TSan's background thread, between its rounds
            return ThreadState(pid, tid, "tool thread", runtime, slices,
                               switches)
        return ThreadState(pid, tid, "tool", runtime, slices, switches)
    try:
        kind = _wait_kind(pid, numbers)
    except (OSError, ValueError, OverflowError):
        kind = "timed"
    futex = numbers[1] if numbers[0] == SYS["futex"] else 0
    return ThreadState(pid, tid, kind, runtime, slices, switches, futex,
                       program_counter)


ENDED = -1                           # waits for a thread that has ended


def _futex_word(thread):
    """The int the thread sleeps on (a join: the joined thread's tid)."""
    return _read_int(thread.pid, thread.futex) if thread.futex else None


def _mutex_owner(thread):
    """The tid in the __owner field of the mutex the thread waits for
    (glibc x86_64: the int at offset 8, after the futex word)."""
    return _read_int(thread.pid, thread.futex + 8) if thread.futex else None


def _waits_for(thread, alive):
    """The thread `thread` waits for, from the futex word it sleeps on
    (glibc 2.3x, x86_64): a join sleeps on the joined thread's tid, which
    the kernel clears when that thread ends; a lock of a contended mutex
    sleeps on the word 2 (a priority-inheritance mutex on the owner's tid
    itself), and the mutex's __owner field (the int at offset 8) names the
    holder; ENDED when that holder has ended (no thread by that number is
    left on the machine: it returned or exited with the mutex locked).
    None for any other wait (a condition, a semaphore, a pipe: whoever
    could end it is not written down)."""
    if thread.state != "untimed" or not thread.futex:
        return None
    word = _futex_word(thread)
    if word is None:
        return None
    named = word & 0x3fffffff        # without a PI word's waiters bits
    if named in alive and named != thread.tid:
        return named                 # a join, or a PI mutex's owner
    if word == 2:
        owner = _mutex_owner(thread)
        if owner in alive:
            return owner
        if owner and owner > 0 and not os.path.exists(f"/proc/{owner}"):
            return ENDED
    return None


def _wait_cycle(threads):
    """The tids of a ring of threads each waiting for the next (a thread
    that waits for a mutex it holds is a ring of one), or of a chain that
    ends in a mutex whose holder has ended; else None."""
    alive = {}                       # each process's threads
    for thread in threads:
        alive.setdefault(thread.pid, set()).add(thread.tid)
    waits = {t.tid: _waits_for(t, alive[t.pid]) for t in threads}
    waits = {tid: target for tid, target in waits.items()
             if target is not None}
    for start in sorted(waits):
        path, tid = [], start
        while tid in waits and tid not in path:
            path.append(tid)
            tid = waits[tid]
        if tid == ENDED:
            return path
        if tid in path:
            return path[path.index(tid):]
    return None


class Watcher:
    """Call poll() every POLL_SECONDS; it returns a Hang once it sees one."""

    def __init__(self, root_pid, student_files=(), under_valgrind=False):
        self.root = root_pid
        self.student_files = set(student_files)
        self.valgrind = under_valgrind
        self.enabled = os.uname().machine == "x86_64" and \
            os.path.exists(f"/proc/{root_pid}/task")
        self.still_since = None      # when the current all-blocked spell began
        self.still_key = None
        self.cycle_since = None      # the same for a ring of waits
        self.cycle_key = None
        self.rejected_cycles = set()
        self.busy = {}               # the current busy spell
        self.facts = {}              # {(pid, program): ProgramFacts}
        self.tool_threads = set()    # (pid, tid) of the sanitizer's threads
        self.in_tool = set()         # tids seen waiting for its locks
        self.longest = {"still": 0.0, "busy": 0.0}   # for THREADLINGS_WATCH_LOG

    def log(self, command):
        """Appends the longest still and busy spells seen to the file named
        by THREADLINGS_WATCH_LOG (to measure how close correct code comes)."""
        path = os.environ.get("THREADLINGS_WATCH_LOG")
        if path:
            with open(path, "a", encoding="utf-8") as handle:
                handle.write(f"still={self.longest['still']:.2f} "
                             f"busy={self.longest['busy']:.2f} "
                             f"{' '.join(command)[-120:]}\n")

    def snapshot(self):
        threads = []
        for pid in _tree(self.root):
            key = _program_key(pid)
            if key is None:
                continue
            facts = self.facts.get(key)
            if facts is None or not facts.settled:   # ld.so may be loading
                facts = self.facts[key] = _program_facts(pid, key[2])
            if facts.criterion_runner:
                continue
            try:
                tids = sorted(int(t) for t in os.listdir(f"/proc/{pid}/task"))
            except OSError:
                continue
            for tid in tids:
                state = _thread_state(pid, tid, facts.tool_ranges)
                if state and state.state == "tool thread":
                    self.tool_threads.add((pid, tid))
                # The tool's own thread is left out even while it runs
                # (which would end every spell it appears in).
                if state and state.state not in ("tool", "tool thread") and \
                        (pid, tid) not in self.tool_threads:
                    threads.append(state)
        return threads

    def poll(self):
        try:
            return self._poll()
        except Exception:            # a watcher bug must never fail a test
            path = os.environ.get("THREADLINGS_WATCH_LOG")
            if path:                 # but it is written down where asked
                import traceback
                with open(path, "a", encoding="utf-8") as handle:
                    handle.write(traceback.format_exc())
            return None

    def _poll(self):
        if not self.enabled:
            return None
        now = time.monotonic()
        threads = self.snapshot()
        if not threads:
            self.still_key = self.still_since = None
            return None
        return self._deadlock(threads, now) or self._spin(threads, now)

    def _deadlock(self, threads, now):
        if any(t.state != "untimed" for t in threads):
            self.still_key = self.still_since = None
            return self._cycle_deadlock(threads, now)
        key = tuple((t.tid, t.runtime, t.slices, t.futex) for t in threads)
        if key != self.still_key:
            self.still_key, self.still_since = key, now
            return None
        self.longest["still"] = max(self.longest["still"], now - self.still_since)
        if now - self.still_since < DEADLOCK_WINDOW:
            return None
        return Hang("deadlock", explain(threads, "deadlock", self.student_files,
                                        self.valgrind))

    def _cycle_deadlock(self, threads, now):
        """Some threads wait for each other in a ring of mutex locks and
        joins, or for a mutex whose holder has ended, while others still
        run (a partial deadlock: no amount of waiting ends it), unchanged
        for DEADLOCK_WINDOW."""
        ring = _wait_cycle(threads)
        if not ring:
            self.cycle_key = self.cycle_since = None
            return None
        members = [t for t in threads if t.tid in ring]
        key = tuple((t.tid, t.runtime, t.slices, t.futex) for t in members)
        if key != self.cycle_key:
            self.cycle_key, self.cycle_since = key, now
            return None
        if now - self.cycle_since < DEADLOCK_WINDOW or \
                key in self.rejected_cycles:
            return None
        reason = explain(threads, "deadlock", self.student_files,
                         self.valgrind, focus=ring)
        if reason is None:           # the stacks show no such waits
            self.rejected_cycles.add(key)
            return None
        return Hang("deadlock", reason)

    def _spin(self, threads, now):
        """For SPIN_WINDOW: some threads keep using the CPU while every
        other thread stays blocked without a deadline, untouched (no run
        time, no context switch): the busy ones spin on something no one
        can change.  A busy thread seen in a system call made from where the
        stuck ones made theirs (a real wait, not valgrind's own lock, which
        its threads take turns on) breaks the spell."""
        key = tuple(t.tid for t in threads)
        runtime = sum(t.runtime for t in threads)
        spell = self.busy
        # A thread once seen waiting for the sanitizer's own lock switches
        # for it again and again (TSan takes one per atomic variable): its
        # switch count says nothing of waits of the program's own, so only
        # a wait seen outside the tool counts for it.
        self.in_tool.update(t.tid for t in threads if t.in_tool)
        if any(t.state == "timed" for t in threads) or \
                key != spell.get("key"):
            self.busy = {"key": key, "since": now, "runtime": runtime,
                         "start": {t.tid: (t.runtime, t.switches)
                                   for t in threads}}
            return None
        start = spell["start"]
        stuck = [t for t in threads if start[t.tid] == (t.runtime, t.switches)]
        busy = [t for t in threads if t not in stuck]
        waits_from = {t.pc for t in stuck}
        natively_blocking = not self.valgrind and any(
            t.state != "running" if t.tid in self.in_tool else
            t.switches != start[t.tid][1] for t in busy)
        if not busy or natively_blocking or \
                any(t.state != "untimed" for t in stuck) or \
                any(t.state != "running" and t.pc in waits_from for t in busy):
            self.busy = {}
            return None
        elapsed = now - spell["since"]
        if (runtime - spell["runtime"]) / 1e9 < SPIN_BUSY_FRACTION * elapsed:
            if elapsed >= self._spin_window():   # barely ran: start again
                self.busy = {}
            return None
        self.longest["busy"] = max(self.longest["busy"], elapsed)
        if elapsed < self._spin_window():
            return None
        return Hang("spin", explain(threads, "spin", self.student_files,
                                    self.valgrind, [t.tid for t in busy]))

    def _spin_window(self):
        if self.valgrind:
            return VALGRIND_SPIN_WINDOW
        if any(facts.tool_ranges for facts in self.facts.values()):
            return SPIN_WINDOW
        return NATIVE_SPIN_WINDOW

    def at_limit(self):
        """At the time limit: a spin if some thread was still running (the
        only spin verdict under valgrind), else None (the plain reason)."""
        try:
            threads = self.snapshot()
            spinners = [t.tid for t in threads if t.state == "running"]
            if not spinners or any(t.state == "timed" for t in threads):
                return None
            return Hang("spin", explain(threads, "spin", self.student_files,
                                        self.valgrind, spinners))
        except Exception:            # a watcher bug must never fail a test
            return None


# ---------------------------------------------------------------------------
# Stacks: gdb's `thread apply all bt`, turned into one sentence.

THREAD_HEADER = re.compile(
    r"^Thread (\d+) \(Thread (?:0x[0-9a-f]+ \(LWP (\d+)\)|(\d+) \(tid)")
FRAME = re.compile(r"^#(\d+)\s+(?:0x[0-9a-f]+ in )?(\S+) \((.*?)\)"
                   r"(?: at (\S+):(\d+)| from (\S+))?\s*$")
BLOCKERS = [("pthread_mutex_lock", "mutex"), ("pthread_mutex_timedlock", "mutex"),
            ("pthread_join", "join"), ("clockjoin", "join"),
            ("pthread_cond_wait", "condition"),
            ("pthread_cond_timedwait", "condition"),
            ("pthread_cond_clockwait", "condition"),
            ("sem_wait", "semaphore"), ("sem_clockwait", "semaphore"),
            ("sem_timedwait", "semaphore"), ("pthread_barrier_wait", "barrier"),
            ("pthread_rwlock", "rwlock"), ("waitpid", "waitpid"),
            ("wait4", "waitpid")]
# read/write only as whole names: "pthread_..." contains "read".
PIPE_CALLS = re.compile(r"^_*(?:GI_+)?(?:libc_)?(read|write|poll)$")
CALL_ARGUMENT = re.compile(r"\b(?:pthread|sem)_\w+\s*\(\s*&?\s*([^,)]+)")


def _run_gdb(pid, valgrind):
    if valgrind:
        binary = (_read(f"/proc/{pid}/cmdline") or "").split("\0")
        binary = [b for b in binary if b][-1:] or [""]
        command = ["gdb", "-nx", "-batch", "-ex", "set pagination off",
                   "-ex", f"target remote | vgdb --pid={pid}",
                   "-ex", "thread apply all bt", binary[0]]
    else:
        command = ["gdb", "-nx", "-batch", "-p", str(pid),
                   "-ex", "set pagination off", "-ex", "thread apply all bt"]
    try:
        done = subprocess.run(command, stdin=subprocess.DEVNULL,
                              capture_output=True, timeout=GDB_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.decode("utf-8", "replace")


def _parse_stacks(text):
    """{tid: (gdb thread number, [(function, args, file, line)])}."""
    stacks, current = {}, None
    for line in text.splitlines():
        header = THREAD_HEADER.match(line)
        if header:
            tid = int(header.group(2) or header.group(3))
            current = []
            stacks[tid] = (int(header.group(1)), current)
            continue
        frame = FRAME.match(line)
        if frame and current is not None:
            current.append((frame.group(2), frame.group(3), frame.group(4),
                            int(frame.group(5) or 0)))
    return stacks


def _read_int(pid, address):
    data = _read_bytes(pid, address, 4)
    return None if data is None else int.from_bytes(data, "little", signed=True)


def _source_line(path, line):
    from .manifest import KIT_ROOT
    for candidate in (path, os.path.join(str(KIT_ROOT), path)):
        try:
            with open(candidate, encoding="utf-8", errors="replace") as handle:
                for number, text in enumerate(handle, 1):
                    if number == line:
                        return text.strip()
        except OSError:
            continue
    return ""


class _Explainer:
    def __init__(self, threads, stacks, student_files, kind, spinners=(),
                 pids=()):
        self.spinners = set(spinners)
        self.threads = {t.tid: t for t in threads}
        self.stacks = stacks
        self.student_files = student_files
        self.kind = kind
        # every process of the hang, to tell their main threads apart
        self.pids = set(pids) or {t.pid for t in threads}

    def label(self, tid):
        thread = self.threads.get(tid)
        if thread and thread.tid == thread.pid:
            many = len(self.pids) > 1
            return f"the main thread of process {thread.pid}" if many and \
                thread.pid != min(self.pids) else "the main thread"
        number = self.stacks.get(tid, (None,))[0]
        return f"thread {number}" if number else f"thread (tid {tid})"

    def place(self, frames):
        """(index, path, line) of the first frame in the student's files,
        else in the exercise's tests, else in the harness; else None."""
        kinds = (lambda p: os.path.basename(p) in self.student_files,
                 lambda p: "tests/" in p and "/harness/" not in p,
                 lambda p: "tests/harness/" in p)
        for wanted in kinds:
            for index, (_, _, path, line) in enumerate(frames):
                if path and line and wanted(path):
                    return index, path, line
        return None

    def blocker(self, frames, before):
        """What the thread waits in: the first known call above `before`;
        a mutex taken back at the end of a condition wait is 'relock'."""
        names = [function for function, _, _, _ in frames[:before]]
        for index, function in enumerate(names):
            call = PIPE_CALLS.match(function)
            if call:
                return call.group(1)
            for pattern, what in BLOCKERS:
                if pattern in function:
                    if what == "mutex" and any("cond_" in f and "wait" in f
                                               for f in names[index:]):
                        return "relock"
                    return what
            if "mutex_cond_lock" in function:
                return "relock"
        return None

    def holder(self, thread, tid):
        """', held by ...' from the mutex's __owner field."""
        owner = _mutex_owner(thread)
        if owner == tid:
            return ", which it already holds"
        if owner and owner in self.threads:
            return f", held by {self.label(owner)}"
        if owner and owner > 0:
            return ", held by a thread that has already ended without " \
                "unlocking it"
        return ""

    def waits_for_a_thread(self, tid):
        """Whether the stack shows the thread in a mutex lock or a join."""
        frames = self.stacks.get(tid, (0, []))[1]
        return self.blocker(frames, len(frames)) in ("mutex", "relock", "join")

    def describe(self, tid):
        thread = self.threads[tid]
        frames = self.stacks.get(tid, (0, []))[1]
        found = self.place(frames)
        if not found:
            return None
        index, path, line = found
        where = f"{os.path.basename(path)}:{line}"
        caller = next(((f, p, l) for f, _, p, l in frames[index + 1:]
                       if p and os.path.basename(p) in self.student_files),
                      None)
        if caller:                   # the student's own call that led here
            where += f", called from {caller[0]} at " \
                f"{os.path.basename(caller[1])}:{caller[2]}"
        who = self.label(tid)
        function = frames[index][0]
        if self.kind == "spin" and tid in self.spinners:
            return f"{who} keeps running in {function} ({where}) without " \
                "waiting, in a busy loop whose condition no other thread " \
                "can change"
        what = self.blocker(frames, index)
        if os.path.basename(path) not in self.student_files and what != "join":
            return f"{who} waits in the test ({where})"
        argument = CALL_ARGUMENT.search(_source_line(path, line))
        name = f" `{argument.group(1).strip()}`" if argument else ""
        if what == "mutex":
            return f"{who} waits for mutex{name} ({where})" + \
                self.holder(thread, tid)
        if what == "relock":
            return f"{who} woke up in its condition wait on{name} ({where}) " \
                "but cannot take its mutex back" + self.holder(thread, tid)
        if what == "join":
            joined = _futex_word(thread)
            target = f" for {self.label(joined)}" if joined in self.threads \
                else ""
            if joined == tid:
                target = " for itself"
            return f"{who} waits in pthread_join ({where}){target}"
        if what == "condition":
            return f"{who} waits on condition{name} ({where}) and no " \
                "thread is left to signal it"
        if what:
            return f"{who} waits in {what}{name} ({where})"
        return f"{who} waits in {function} ({where})"


def explain(threads, kind, student_files, valgrind, spinners=(), focus=()):
    """The reason for a hang, from the stacks if gdb can take them.  With
    `focus` (a ring of waiting threads while others run), only those are
    described, and None comes back unless the stacks show each of them in
    a mutex lock or a join (the futex words were read right)."""
    try:
        return _explain(threads, kind, student_files, valgrind, spinners,
                        focus)
    except Exception:                # the plain reason beats none at all
        return None if focus else _plain(kind)


def _plain(kind):
    return "deadlock: every thread waits (for a lock, a condition, a join " \
        "or a pipe) and none can move" if kind == "deadlock" else \
        "spin: a thread keeps the CPU busy while every other thread waits " \
        "for it"


def _explain(threads, kind, student_files, valgrind, spinners, focus):
    parts = []
    for pid in sorted({t.pid for t in threads}):
        tids = [t.tid for t in threads if t.pid == pid]
        if kind == "spin":           # the waiting threads only wait for it
            tids = [tid for tid in tids if tid in spinners]
        if focus:
            tids = [tid for tid in tids if tid in focus]
            if not tids:
                continue
        stacks = _parse_stacks(_run_gdb(pid, valgrind))
        explainer = _Explainer([t for t in threads if t.pid == pid], stacks,
                               student_files, kind, spinners,
                               {t.pid for t in threads})
        if focus and not all(explainer.waits_for_a_thread(tid)
                             for tid in tids):
            return None
        for tid in tids:
            text = explainer.describe(tid)
            if text:
                parts.append(text)
    if not parts:
        if focus:
            return None
        return _plain(kind)
    parts.sort(key=_cause_first)
    return f"{kind}: " + "; ".join(_grouped(parts)[:5])


def _cause_first(part):
    """The cause first (a thread that waits for a mutex it holds itself,
    then a mutex and its holder), then the student's other waits (a
    condition no one signals), then the student's joins (which only wait
    for those), then the test's threads.  The progress line is cut short:
    the line a student must look at has to come first."""
    if " in the test (" in part or "pthread_join (workload.c" in part:
        return 4
    if "already holds" in part:
        return 0
    if ", held by" in part:
        return 1
    return 3 if " in pthread_join (" in part else 2


def _grouped(parts):
    """'thread 3 waits on X; thread 4 waits on X' -> 'threads 3 and 4 wait
    on X' (a lost wake-up leaves many threads in the same wait)."""
    order, same = [], {}
    for part in parts:
        found = re.match(r"^thread (\d+) (waits|keeps|woke) (.*)$", part)
        if not found:
            order.append(part)
            continue
        key = (found.group(2), found.group(3))
        if key not in same:
            same[key] = []
            order.append(key)
        same[key].append(found.group(1))
    plural = {"waits": "wait", "keeps": "keep", "woke": "woke"}
    text = []
    for item in order:
        if isinstance(item, str):
            text.append(item)
            continue
        numbers = same[item]
        if len(numbers) == 1:
            text.append(f"thread {numbers[0]} {item[0]} {item[1]}")
        else:
            names = ", ".join(numbers[:-1]) + " and " + numbers[-1]
            rest = item[1].replace(" its ", " their ")
            text.append(f"threads {names} {plural[item[0]]} {rest}")
    return text
