"""What a student's object file may contain, checked before it is linked.

Code in a submitted file is linked into the test programs and shares their
process: a constructor, a raw system call or a function that replaces one
of the C library's could forge what the checks report
(/work/shared/FACTS.md, "Code under test shares the test's process").
So before anything is linked (tools/kit/build.py), every object of the
student's files must keep these rules, read with binutils (nm, readelf,
objdump), in every check's build: a sanitizer build is judged by a twin
compiled without the sanitizer but with its macros (registry.py):

  symbol               every function or variable it uses from elsewhere
                       is on the allow-list (exercises/manifest.toml:
                       [policy] allow, plus the exercise's own `allow`)
  section              only ordinary code, data and debug sections: no
                       constructors or destructors (.init_array, .ctors...)
  syscall-instruction  no system-call instruction in its machine code
  interposes           it defines no name that the C library, Criterion,
                       the sanitizers or the kit provide (exit, malloc,
                       pthread_create, cr_*, harness_*, main, __wrap_*...)
  weak-or-alias        no weak, versioned or aliased symbols

`python3 tools/kit/policy.py --all [EX...]` checks every stub, solution
and mutant (make verify does it too).
"""
import dataclasses
import fnmatch
import functools
import hashlib
import os
import re
import subprocess
import sys
import threading

if __package__ in (None, ""):           # run as a script
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))
    __package__ = "tools.kit"

from . import manifest  # noqa: E402

TOOL_TIMEOUT = 30

# Sections gcc and clang emit for ordinary C at -O0/-O1 with -g (and -fPIE,
# -ffunction-sections, -fdata-sections, _Thread_local, stack protector).
ALLOWED_SECTIONS = (
    "", ".text", ".text.*", ".data", ".data.*", ".bss", ".bss.*",
    ".rodata", ".rodata.*", ".tdata", ".tdata.*", ".tbss", ".tbss.*",
    ".comment", ".note.GNU-stack", ".note.gnu.property", ".debug_*",
    ".eh_frame", ".group", ".symtab", ".strtab", ".shstrtab",
    ".symtab_shndx", ".llvm_addrsig",
)
# Named because a student meets them: code that runs before or after main.
CONSTRUCTOR_SECTIONS = (".init_array", ".fini_array", ".preinit_array",
                        ".ctors", ".dtors", ".init", ".fini")

# Names a submission may not define, whatever libc exports: the kit's, the
# test framework's and the linker's.  C reserves every name that starts
# with an underscore at file scope.
RESERVED_PREFIXES = ("_", "cr_", "criterion_", "bxf_", "harness_", "workload_")
RESERVED_NAMES = {"main", "environ"}
LIBRARIES_PROVIDING = ("libc.so.6", "libpthread.so.0", "libm.so.6",
                       "libcriterion.so", "libasan.so", "libubsan.so",
                       "libtsan.so")

# The compiler inserts these itself (stack protector, thread-local storage,
# 128-bit arithmetic, ctype macros, fortified and C99-scanf variants of
# allowed functions are checked by their base name below).
COMPILER_HELPERS = ("_GLOBAL_OFFSET_TABLE_", "__stack_chk_fail",
                    "__stack_chk_guard", "__tls_get_addr", "__ctype_b_loc",
                    "__ctype_tolower_loc", "__ctype_toupper_loc",
                    "__udivti3", "__divti3", "__umodti3", "__modti3",
                    "__popcountdi2", "__atomic_*")

# As objdump decodes them (x86-64, i386, aarch64).  Code that jumps into
# the middle of an instruction is not seen: a raw search for the bytes
# (0f 05) would refuse honest code such as `(x & 15) + 100` at -O0.
SYSTEM_CALL_INSTRUCTION = re.compile(
    r"\t(syscall|sysenter|int\s+\$0x80|svc\s|sysret)\b")


@dataclasses.dataclass
class Refusal:
    file: str
    rule: str            # symbol, section, syscall-instruction, interposes,
    detail: str          # weak-or-alias, object
    exercise: str = ""
    allowed: str = ""    # for `symbol`: what the exercise allows, in words

    @property
    def short(self):
        return {"symbol": f"uses `{self.detail}`",
                "section": self.detail if self.detail.startswith("`")
                else f"section `{self.detail}`",
                "syscall-instruction": "a system call instruction",
                "interposes": f"defines `{self.detail}`"}.get(self.rule, self.detail)

    @property
    def message(self):
        where = f"exercise {self.exercise}" if self.exercise else "this exercise"
        if self.rule == "symbol":
            return (f"{self.file} uses `{self.detail}`, which {where} does not "
                    f"allow (allowed: {self.allowed})")
        if self.rule == "section":
            if self.detail.startswith("`"):
                return f"{self.file}: {self.detail}: not allowed"
            if _runs_by_itself(self.detail):
                return (f"{self.file} has code that runs by itself before or "
                        f"after main (a constructor or destructor, section "
                        f"`{self.detail}`): not allowed, the tests call your code")
            return (f"{self.file} puts something in its own section "
                    f"`{self.detail}`: not allowed (only ordinary code and data)")
        if self.rule == "syscall-instruction":
            return (f"{self.file} contains a system call instruction "
                    f"({self.detail}): call the library functions {where} "
                    "allows instead of the kernel")
        if self.rule == "interposes":
            return (f"{self.file} defines `{self.detail}`, a name the C library, "
                    "the test framework or the kit already provides: rename it "
                    "or make it static")
        if self.rule == "weak-or-alias":
            return f"{self.file}: {self.detail}: not allowed"
        return f"{self.file}: {self.detail}"


# ---------------------------------------------------------------- helpers

def _tool(*command):
    done = subprocess.run(command, capture_output=True, text=True,
                          timeout=TOOL_TIMEOUT)
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr.strip()[:300]}")
    return done.stdout


def real_compiler(default="cc"):
    """The compiler itself: in grading, CC is the include guard in front of
    it (grading/cc_guard.py), and THREADLINGS_REAL_CC names it."""
    return os.environ.get("THREADLINGS_REAL_CC") or os.environ.get("CC") or \
        default


@functools.lru_cache(maxsize=None)
def provided_names():
    """Every name the shared libraries a test links with export."""
    names = set()
    for library in LIBRARIES_PROVIDING:
        path = _library_path(library)
        if not path:
            continue
        for line in _tool("nm", "-D", "--defined-only", path).splitlines():
            fields = line.split()
            if len(fields) >= 3:
                names.add(fields[2].split("@")[0])
    return frozenset(names)


def _library_path(library):
    try:
        found = subprocess.run([real_compiler(), f"-print-file-name={library}"],
                               capture_output=True, text=True,
                               timeout=TOOL_TIMEOUT).stdout.strip()
    except OSError:
        found = ""
    if found and os.path.isabs(found) and os.path.exists(found):
        return os.path.realpath(found)
    for folder in ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu",
                   "/lib/aarch64-linux-gnu", "/usr/lib/aarch64-linux-gnu",
                   "/usr/lib64", "/usr/lib"):
        candidates = sorted(n for n in os.listdir(folder) if n.startswith(library)) \
            if os.path.isdir(folder) else []
        if candidates:
            return os.path.join(folder, candidates[0])
    return None


@functools.lru_cache(maxsize=None)
def _policy_data():
    return manifest.course_policy()


def course_allow():
    return tuple(_policy_data().get("allow", ()))


def allowed_in_words(exercise):
    words = _policy_data().get("allowed_in_words",
                               "the pthread API, memory, string and formatting "
                               "functions, clocks and sleeps")
    extra = ", ".join(exercise.allow)
    return words + (f"; and for this exercise: {extra}" if extra else "")


def _matches(name, patterns):
    return any(fnmatch.fnmatchcase(name, p) for p in patterns)


def _base_name(name):
    """__printf_chk -> printf, __isoc99_sscanf -> sscanf."""
    found = re.match(r"^__(\w+?)_chk$", name)
    if found:
        return found.group(1)
    found = re.match(r"^__isoc(?:99|23)_(\w+)$", name)
    return found.group(1) if found else name


def _symbols(obj):
    """[(name, bind, type, section index, value)] from readelf -s: bind is
    GLOBAL, WEAK, LOCAL or UNIQUE; the index is UND for a use."""
    symbols = []
    for line in _tool("readelf", "-sW", obj).splitlines():
        fields = line.split()
        if len(fields) >= 8 and fields[0].endswith(":") and fields[0][:-1].isdigit():
            value, _, kind, bind, _, index, name = fields[1:8]
            symbols.append((name, bind, kind, index, value))
    return symbols


def _sections(obj):
    """[(index, name, flags)] from readelf -S."""
    found = []
    for line in _tool("readelf", "-SW", obj).splitlines():
        if re.match(r"^\s*\[\s*0\]", line):
            continue                    # the null section
        match = re.match(r"^\s*\[\s*(\d+)\]\s+(\S+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s+"
                         r"\S+\s+([A-Z]*)\s", line)
        if match:
            found.append((match.group(1), match.group(2), match.group(4)))
        elif re.match(r"^\s*\[\s*\d+\]", line):
            raise RuntimeError(f"readelf: cannot read the line {line!r}")
    return found


def _unrelocated(name):
    """.rela.text -> .text: relocations are judged by their section."""
    return re.sub(r"^\.rela?(?=\.)", "", name, count=1)


def _runs_by_itself(name):
    """.init_array, .init_array.00101, .rela.ctors..."""
    name = _unrelocated(name)
    return any(name == s or name.startswith(s + ".") for s in CONSTRUCTOR_SECTIONS)


def _section_allowed(name):
    return not _runs_by_itself(name) and \
        _matches(_unrelocated(name), ALLOWED_SECTIONS)


def _instruction_refusals(obj, file_name, sections):
    if not any("X" in flags for _, _, flags in sections):
        return []
    listing = _tool("objdump", "-d", "-w", "--no-show-raw-insn", obj)
    found = []
    for match in SYSTEM_CALL_INSTRUCTION.finditer(listing):
        word = " ".join(match.group(1).split())
        if all(word not in r.detail for r in found):
            found.append(Refusal(file_name, "syscall-instruction", f"`{word}`"))
    return found


# ---------------------------------------------------------------- the rules

def refusals(exercise, objects):
    """[Refusal] for the student's objects ({file name: .o path}); an
    empty list means they may be linked."""
    allow = course_allow() + tuple(exercise.allow) + COMPILER_HELPERS
    provided = provided_names()
    found = []
    tables = {name: _symbols(obj) for name, obj in objects.items()}
    defined_by_student = {name for table in tables.values()
                          for name, bind, _, index, _ in table
                          if bind == "GLOBAL" and index != "UND"}
    for file_name, obj in objects.items():
        found += _object_refusals(exercise, file_name, obj, tables[file_name],
                                  allow, provided, defined_by_student)
    # What forges first, a missing allow-list entry last.
    order = ("section", "syscall-instruction", "interposes", "weak-or-alias")
    found.sort(key=lambda r: order.index(r.rule) if r.rule in order else len(order))
    for refusal in found:
        refusal.exercise = exercise.number
        if refusal.rule == "symbol":
            refusal.allowed = allowed_in_words(exercise)
    return found


def _object_refusals(exercise, file_name, obj, symbols, allow, provided,
                     defined_by_student):
    found = []
    sections = _sections(obj)
    names = {name for _, name, _ in sections}
    code_sections = {index for index, _, flags in sections if "X" in flags}
    for _, name, flags in sections:
        if "X" in flags and "W" in flags:
            found.append(Refusal(file_name, "section",
                                 f"`{name}` is code that can be rewritten"))
        relocated = _unrelocated(name)
        if relocated != name and relocated in names:
            continue                    # its section is judged, not twice
        if not _section_allowed(name):
            found.append(Refusal(file_name, "section", name))
    addresses = {}
    for name, bind, kind, index, value in symbols:
        if kind in ("OBJECT", "TLS") and index in code_sections:
            found.append(Refusal(file_name, "section",
                                 f"`{name}` is data placed among the code"))
        if bind == "LOCAL" and kind in ("FUNC", "OBJECT") and index != "UND":
            addresses.setdefault((index, value), []).append(name)
        if bind == "LOCAL" or not name:
            continue
        if "@" in name:
            found.append(Refusal(file_name, "weak-or-alias",
                                 f"`{name}` is a versioned symbol (.symver)"))
        elif bind == "WEAK":
            found.append(Refusal(file_name, "weak-or-alias",
                                 f"`{name}` is a weak symbol"))
        elif kind == "IFUNC":
            found.append(Refusal(file_name, "weak-or-alias",
                                 f"`{name}` is an indirect function (ifunc)"))
        elif index == "UND":
            if not (name in defined_by_student or _matches(name, allow) or
                    _matches(_base_name(name), allow)):
                found.append(Refusal(file_name, "symbol", name))
        else:                           # a global definition
            if name in RESERVED_NAMES or name.startswith(RESERVED_PREFIXES) or \
                    name in provided:
                found.append(Refusal(file_name, "interposes", name))
            if index not in ("COM", "ABS"):
                addresses.setdefault((index, value), []).append(name)
    globals_ = {name for name, bind, _, _, _ in symbols if bind != "LOCAL"}
    for names in addresses.values():
        if len(names) > 1 and globals_ & set(names):
            found.append(Refusal(
                file_name, "weak-or-alias",
                f"`{names[0]}` and `{names[1]}` are aliases of one address"))
    found += _instruction_refusals(obj, file_name, sections)
    return found


# ---------------------------------------------------------------- compiling

def compile_objects(exercise, source_dir, out_dir):
    """Compiles each edited file alone with the functional check's flags.
    Returns ({file: .o}, None) or (None, the compiler's log) when they do
    not compile."""
    from . import build, registry
    check = registry.CHECKS[0]
    objects = {}
    for name in exercise.edit:
        obj = os.path.join(out_dir, "policy", name[:-2] + ".o")
        os.makedirs(os.path.dirname(obj), exist_ok=True)
        done = subprocess.run(build.compile_command(
            exercise, check, os.path.join(source_dir, name), obj),
            capture_output=True, text=True, timeout=build.BUILD_TIMEOUT)
        if done.returncode != 0 or not os.path.exists(obj):
            return None, done.stdout + done.stderr
        objects[name] = obj
    return objects, ""


_VERDICTS = {}
_VERDICTS_LOCK = threading.Lock()


def refusals_cached(exercise, objects):
    """refusals(), once per content of the objects: the checks of one
    variant, and runs of the same file, share the verdict (kept in this
    process only, where code under test cannot reach it)."""
    digest = hashlib.sha256(exercise.name.encode())
    for name in sorted(objects):
        with open(objects[name], "rb") as handle:
            digest.update(name.encode() + b"\0" + handle.read())
    key = digest.hexdigest()
    with _VERDICTS_LOCK:
        if key in _VERDICTS:
            return _VERDICTS[key]
    found = refusals(exercise, objects)
    with _VERDICTS_LOCK:
        _VERDICTS[key] = found
    return found


def summary(refused):
    """One line for a check's reason: the first refusal in full, the
    others in short."""
    others = []
    for refusal in refused[1:]:
        short = refusal.short
        if short not in others:
            others.append(short)
    return refused[0].message + (f"; also: {', '.join(others)}" if others else "")


def check_sources(exercise, source_dir, out_dir):
    """[Refusal] for the student's files in source_dir, or None if they do
    not compile (the build then says why)."""
    objects, _ = compile_objects(exercise, source_dir, out_dir)
    if objects is None:
        return None
    return refusals(exercise, objects)


# ---------------------------------------------------------------- --all

def _variants(exercise, scratch):
    """(label, source dir) of the stub, the solution and every mutant."""
    from . import mutants
    yield "stub", exercise.exercise_dir
    yield "solution", exercise.solution_dir
    every = [mutants.parse(p) for p in exercise.mutant_paths()]
    for mutant in every + list(_bad_code(exercise)):
        kind = "bad-code" if mutant.exercise else "mutant"
        source = os.path.join(scratch, f"{kind}-{mutant.name}", "src")
        problem = mutants.materialise(exercise, mutant, source)
        if problem:
            raise RuntimeError(f"{exercise.name} {mutant.name}: {problem}")
        yield f"{kind} {mutant.name}", source


def _bad_code(exercise):
    """The harness's own bad-code patches for this exercise (verify runs
    them as mutants: they must be caught by their check, not refused)."""
    from . import mutants
    for path in sorted((manifest.KIT_ROOT / "tests" / "selftest" / "harness").glob("*.patch")):
        bad = mutants.parse(path)
        if bad.exercise == exercise.name:
            yield bad


def check_all(exercise):
    """[(label, [Refusal] or None)] for the stub, solution and mutants."""
    scratch = os.path.join(manifest.KIT_ROOT, "build", "policy", exercise.name)
    results = []
    for label, source in _variants(exercise, scratch):
        out = os.path.join(scratch, label.replace(" ", "-"))
        results.append((label, check_sources(exercise, source, out)))
    return results


def main(argv):
    import argparse
    parser = argparse.ArgumentParser(prog="policy.py", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--all", action="store_true",
                        help="check every stub, solution and mutant")
    parser.add_argument("exercises", nargs="*")
    args = parser.parse_args(argv)
    if not args.all:
        parser.error("give --all [EXERCISE...]")
    bad = total = 0
    for exercise in manifest.select(manifest.load(), args.exercises):
        accepted = 0
        for label, refused in check_all(exercise):
            total += 1
            if refused is None:
                bad += 1
                print(f"{exercise.name} {label}: does not compile")
            elif refused:
                bad += 1
                for refusal in refused:
                    print(f"{exercise.name} {label}: {refusal.message}")
            else:
                accepted += 1
        print(f"{exercise.name}: {accepted} accepted")
    print(f"{total - bad} of {total} accepted")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
