"""The checks, declared once.

Everything that differs between two checks is here: which program it
builds (the exercise's Criterion tests, each run alone, or its workload),
the compiler flags, the tool it runs under, what must be installed, its
time limit, how its report is read, and its default weight in grading.
The runner, `make verify`, lint, the grader, the Gradescope export, the
JUnit and results.json output and `make help` all take the list from here.

A new check is one more entry in CHECKS (and, if its tool writes a report
of its own, a reader in reports.py).
"""
import dataclasses
import os

from . import reports, requirements
from .paths import KIT_ROOT

# What a check's binary is made of.
TESTS = "tests"          # the Criterion tests; every test runs alone
WORKLOAD = "workload"    # the exercise's workload program (its own main)

# Every build: strict C11, warnings are errors.
STRICT_FLAGS = ("-std=c11", "-D_POSIX_C_SOURCE=200809L", "-Wall", "-Wextra",
                "-Wpedantic", "-Werror", "-pthread")

# The code under test may not end a test early, its condition waits get
# injected spurious wake-ups, and the calls that can fail can be made to
# (tests/harness/*.c, failures.h): Criterion builds link these through
# -Wl,--wrap.
WRAPPED = ("exit", "_exit", "_Exit", "quick_exit", "pthread_exit",
           "pthread_create", "pthread_cond_wait", "pthread_cond_timedwait",
           "pthread_detach", "pthread_join", "fork", "pipe", "open", "fopen",
           "read", "malloc", "calloc", "realloc", "free",
           "pthread_cond_broadcast", "pthread_cond_signal",
           "pthread_mutex_lock", "pthread_mutex_unlock")
# Workloads wrap only what forces interleavings (tests/harness/interleavings.c).
WORKLOAD_WRAPPED = ("pthread_mutex_lock", "pthread_mutex_unlock")

# Options every run gets, whatever its check (a sanitizer ignores the
# others' variables).  Reports go to files of their own ({report} is a path
# the runner picks; a sanitizer appends the process id), apart from what
# the code under test prints.
SANITIZER_ENV = {
    # intercept_strstr=0: Criterion links libgit2, whose start parses the
    # system's CA certificates with mbedtls, and mbedtls finds each one with
    # strstr on the rest of the bundle; the interceptor takes the length of
    # that rest on every call, a quarter of every test process's CPU under
    # AddressSanitizer.  The code under test is still instrumented; only
    # strstr's arguments go unchecked, and no exercise needs strstr.
    "ASAN_OPTIONS": "detect_leaks=0:detect_stack_use_after_return=1:"
                    "halt_on_error=1:abort_on_error=0:intercept_strstr=0:"
                    "log_path={report}",
    "UBSAN_OPTIONS": "print_stacktrace=1:halt_on_error=1:log_path={report}",
    # history_size=4: with the default, the stack of an access made long
    # before the race is lost about 1 run in 10, and the reason cannot name
    # the unlocked read.  suppress_equal_addresses=0: every pair of places
    # that race on a variable is reported, not only the pair a run meets
    # first, so the reason can be chosen the same way every run.
    "TSAN_OPTIONS": "exitcode=66:halt_on_error=0:second_deadlock_stack=1:"
                    "history_size=4:suppress_equal_addresses=0:"
                    "log_path={report}",
}

HELGRIND_SUPPRESSIONS = KIT_ROOT / "tests" / "harness" / "helgrind.supp"
HELGRIND_EXIT = 77


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    summary: str                 # one line for `make help`
    program: str                 # TESTS or WORKLOAD
    flags: tuple                 # compiler flags beyond STRICT_FLAGS
    timeout: int                 # seconds for one run (a test, or the workload)
    weight: int                  # points when graded, unless the manifest says
    needs: tuple = ()            # requirements.* functions: why it cannot run
    command: tuple = ()          # what the binary runs under ({binary} is it)
    env: tuple = ()              # extra environment, as (name, value) pairs
    read_report: object = None   # stderr, student files -> reports.Finding
    # A sanitizer instruments the object (constructors of its own, calls to
    # its runtime): the object policy then reads a twin compiled without it
    # but with the macros it defines, so that `#ifdef __SANITIZE_THREAD__`
    # cannot hide from the policy what only this check's build contains.
    sanitizer_macros: tuple = ()

    @property
    def runs_tests(self):
        return self.program == TESTS

    def argv(self, binary, report):
        """The command that runs `binary` (a test binary gets its options
        appended by the runner); the tool's report goes to `report`*."""
        return [part.format(binary=binary, report=report)
                for part in self.command] or [binary]

    def environment(self, report):
        return {name: value.format(report=report) for name, value in
                dict(SANITIZER_ENV, **dict(self.env)).items()}

    def policy_flags(self):
        """Flags of the object the policy reads (see sanitizer_macros)."""
        if not self.sanitizer_macros:
            return self.flags
        return tuple(f for f in self.flags if not f.startswith(
            ("-fsanitize", "-fno-sanitize"))) + self.sanitizer_macros

    def missing(self):
        """Why this check cannot run on this machine, or None."""
        for requirement in self.needs:
            why = requirement()
            if why:
                return why
        return None


CHECKS = (
    Check("functional", "the exercise's tests, each in its own process",
          TESTS,
          # -O0: an optimiser can hoist an unlocked counter++ out of its loop
          # and hide the race from the functional tests.
          flags=("-O0", "-g"), timeout=90, weight=4,
          needs=(requirements.criterion,)),
    Check("tsan", "ThreadSanitizer on the exercise's workload",
          WORKLOAD, flags=("-O1", "-g", "-fsanitize=thread"),
          timeout=60, weight=2,
          needs=(requirements.setarch, requirements.thread_sanitizer),
          # Old TSan runtimes cannot map their shadow memory when the kernel
          # randomises mmap with 32 bits; without ASLR they always can.
          command=("setarch", os.uname().machine, "-R", "{binary}"),
          read_report=reports.sanitizer_finding,
          sanitizer_macros=("-D__SANITIZE_THREAD__",)),
    Check("helgrind", "valgrind's helgrind on the exercise's workload",
          WORKLOAD,
          # clang 14 writes DWARF 5, which valgrind 3.19 cannot read.
          flags=("-O0", "-g", "-gdwarf-4"), timeout=180, weight=2,
          needs=(requirements.valgrind,),
          command=("valgrind", "--tool=helgrind", "-q", "--fair-sched=yes",
                   f"--suppressions={HELGRIND_SUPPRESSIONS}",
                   f"--error-exitcode={HELGRIND_EXIT}", "--log-file={report}",
                   "{binary}"),
          # glibc reuses thread stacks under a lock helgrind cannot see; with
          # the cache off, a thread that creates threads while another joins
          # is not reported as racing inside glibc.  The workload runs fewer
          # rounds under valgrind, which is about fifty times slower.
          env=(("GLIBC_TUNABLES", "glibc.pthread.stack_cache_size=0"),
               ("THREADLINGS_UNDER_VALGRIND", "1")),
          read_report=reports.helgrind_finding),
    Check("asan", "the tests again, with AddressSanitizer and UBSan",
          TESTS, flags=("-O0", "-g", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=undefined",
                        "-fno-omit-frame-pointer"),
          timeout=90, weight=1,
          needs=(requirements.criterion, requirements.address_sanitizer),
          read_report=reports.sanitizer_finding,
          sanitizer_macros=("-D__SANITIZE_ADDRESS__",)),
)

BY_NAME = {check.name: check for check in CHECKS}
NAMES = tuple(BY_NAME)


def get(name):
    return BY_NAME[name]
