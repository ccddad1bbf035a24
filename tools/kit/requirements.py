"""What a check needs on this machine: each function returns why it is
missing (with what to do about it), or None."""
import functools
import os
import shutil
import tempfile

from . import processes


def criterion():
    if os.path.exists("/usr/include/criterion/criterion.h") or \
            processes.run(["pkg-config", "--exists", "criterion"],
                          timeout=10).returncode == 0:
        return None
    return "Criterion is not installed (run `make deps`)"


def valgrind():
    return None if shutil.which("valgrind") else \
        "valgrind is not installed (run `make deps`)"


def setarch():
    return None if shutil.which("setarch") else \
        "setarch (util-linux) is not installed (run `make deps`)"


def thread_sanitizer():
    return None if _sanitizer_works("thread") else \
        "the compiler cannot build ThreadSanitizer programs here"


def address_sanitizer():
    return None if _sanitizer_works("address,undefined") else \
        "the compiler cannot build AddressSanitizer programs here"


@functools.lru_cache(maxsize=None)
def _sanitizer_works(flag):
    """Whether the compiler can build and run a program with -fsanitize=flag."""
    with tempfile.TemporaryDirectory() as scratch:
        source = os.path.join(scratch, "probe.c")
        with open(source, "w") as handle:
            handle.write("int main(void) { return 0; }\n")
        binary = os.path.join(scratch, "probe")
        cc = os.environ.get("CC", "gcc")
        built = processes.run([cc, f"-fsanitize={flag}", "-o", binary, source],
                              timeout=60)
        if built.returncode != 0:
            return False
        command = [binary]
        if flag == "thread" and shutil.which("setarch"):
            command = ["setarch", os.uname().machine, "-R", binary]
        return processes.run(command, timeout=30).returncode == 0
