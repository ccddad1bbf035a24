"""Pulls the one line a student needs out of a sanitizer or valgrind report."""
import re

SANITIZER_HEADLINE = re.compile(
    r"(?:WARNING|ERROR): (ThreadSanitizer|AddressSanitizer|LeakSanitizer): "
    r"([\w-]+(?: (?!on address|on 0x|at pc|0x)[\w-]+)*)")
UBSAN_HEADLINE = re.compile(r"([\w./-]+\.c:\d+:\d+: runtime error: .*)")
SANITIZER_FRAME = re.compile(r"#\d+ (?:0x[0-9a-f]+ in )?(\S+) (\S+?\.c):(\d+)")
HELGRIND_FRAME = re.compile(r"(?:at|by) 0x[0-9A-F]+: (\S+) \(([\w.+-]+\.c):(\d+)\)")
HELGRIND_PREFIX = re.compile(r"^==\d+== ?")
NOT_AN_ERROR = re.compile(r"^Thread #\d+ (was created|is the program's root thread)")


HELGRIND_DETAIL = re.compile(r"^(Lock at|at 0x|by 0x|Address|Locks held|This conflicts|Lock )")
TSAN_VARIABLE = re.compile(r"Location is global '(\w+)'")
HELGRIND_VARIABLE = re.compile(r'inside data symbol "(\w+)"')


def _first_frame_in(frames, student_files):
    """The first frame in the student's files, else the first with a file."""
    for function, path, line in frames:
        name = path.rsplit("/", 1)[-1]
        if name in student_files:
            return f"{function} ({name}:{line})"
    for function, path, line in frames[:1]:
        return f"{function} ({path.rsplit('/', 1)[-1]}:{line})"
    return None


def _variable(pattern, text):
    found = pattern.search(text)
    return f" on the variable '{found.group(1)}'" if found else ""


TSAN_ACCESS = re.compile(
    r"^  (?:Previous )?(?:[Aa]tomic )?([Ww]rite|[Rr]ead) of size \d+ at \S+ "
    r"by (?:thread T\d+|main thread)( \(mutexes: [^)]*\))?", re.M)
HELGRIND_ACCESS = re.compile(
    r"(?:Possible data race during|This conflicts with a previous) "
    r"(read|write) of size \d+")


def _unlocked_side(accesses, student_files):
    """Of a data race's two accesses [(kind, holds_a_lock, text)], the one
    that held no lock comes first: that is the access to fix, whichever of
    the two the tool saw second.  Returns ': a read in f (x.c:3) holds no
    lock and races with a write in g (x.c:9)' or ''."""
    if len(accesses) != 2:
        return ""
    described = []
    for kind, locked, text in accesses:
        frames = (SANITIZER_FRAME.findall(text) or
                  HELGRIND_FRAME.findall(text))
        where = _first_frame_in(frames, student_files)
        if not where:
            return ""
        described.append((locked, f"{kind.lower()} in {where}"))
    (first_locked, first), (second_locked, second) = described
    if first_locked and not second_locked:
        first, second, first_locked = second, first, second_locked
    held = " holds no lock and" if not first_locked else ""
    return f": a {first}{held} races with a {second}"


def _tsan_accesses(report):
    found = list(TSAN_ACCESS.finditer(report))[:2]
    accesses = []
    for number, access in enumerate(found):
        end = found[number + 1].start() if number + 1 < len(found) else \
            report.find("\n\n", access.end())
        accesses.append((access.group(1), bool(access.group(2)),
                         report[access.end():end if end > 0 else None]))
    return accesses


def sanitizer_reason(stderr, student_files):
    """'ThreadSanitizer: data race in worker (counter.c:12)' or None."""
    headline = SANITIZER_HEADLINE.search(stderr)
    if headline:
        tool, kind = headline.groups()
        report = stderr[headline.end():]
        frames = SANITIZER_FRAME.findall(report)
        where = _first_frame_in(frames, student_files)
        sides = _unlocked_side(_tsan_accesses(report.split("SUMMARY:")[0]),
                               student_files) if kind == "data race" else ""
        return f"{tool}: {kind}" + _variable(TSAN_VARIABLE, stderr) + \
            (f" in {where}" if where else "") + sides
    undefined = UBSAN_HEADLINE.search(stderr)
    if undefined:
        return "undefined behaviour: " + undefined.group(1).rsplit("/", 1)[-1]
    return None


def _helgrind_blocks(stderr):
    block = []
    for line in stderr.splitlines():
        if not HELGRIND_PREFIX.match(line):
            continue  # the program's own output, not valgrind's
        line = HELGRIND_PREFIX.sub("", line)
        if line.startswith("---"):
            if block:
                yield block
            block = []
        elif line.strip():
            block.append(line.strip())
    if block:
        yield block


def _helgrind_sides(text, student_files):
    found = list(HELGRIND_ACCESS.finditer(text))[:2]
    accesses = []
    for number, access in enumerate(found):
        end = found[number + 1].start() if number + 1 < len(found) else None
        part = text[access.end():end]
        locks = re.search(r"Locks held: (\w+)", part)
        accesses.append((access.group(1), bool(locks) and
                         locks.group(1) != "none", part))
    return _unlocked_side(accesses, student_files)


def helgrind_reason(stderr, student_files):
    """'helgrind: Possible data race ... in worker (counter.c:12)' or None."""
    for block in _helgrind_blocks(stderr):
        if NOT_AN_ERROR.match(block[0]):
            continue
        headlines = [l for l in block if not HELGRIND_DETAIL.match(l)]
        if not headlines:
            continue
        start = block.index(headlines[0])
        headline = re.sub(r" at 0x[0-9A-F]+|\"0x[0-9A-F]+ before 0x[0-9A-F]+\" ",
                          "", headlines[0])
        text = "\n".join(block[start:])
        where = _first_frame_in(HELGRIND_FRAME.findall(text), student_files)
        return "helgrind: " + headline + _variable(HELGRIND_VARIABLE, text) + \
            (f" in {where}" if where else "") + _helgrind_sides(text, student_files)
    return None
