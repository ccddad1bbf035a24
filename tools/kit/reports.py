"""Reads sanitizer and valgrind reports: the one line a student needs, and
the places in the student's files the report points to."""
import dataclasses
import re

from .results import Place

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


@dataclasses.dataclass
class Finding:
    message: str
    places: list                  # [Place] in the student's files


def _places(frames, student_files):
    return [Place(path.rsplit("/", 1)[-1], int(line), function)
            for function, path, line in frames
            if path.rsplit("/", 1)[-1] in student_files]


def _first_frame_in(frames, student_files):
    """The first frame in the student's files, else the first with a file."""
    mine = _places(frames, student_files)
    if mine:
        return str(mine[0])
    for function, path, line in frames[:1]:
        return f"{function} ({path.rsplit('/', 1)[-1]}:{line})"
    return None


def _variable(pattern, text):
    found = pattern.search(text)
    return f" on the variable '{found.group(1)}'" if found else ""


def sanitizer_finding(stderr, student_files):
    """'ThreadSanitizer: data race in worker (counter.c:12)', or None."""
    headline = SANITIZER_HEADLINE.search(stderr)
    if headline:
        tool, kind = headline.groups()
        frames = SANITIZER_FRAME.findall(stderr[headline.end():])
        where = _first_frame_in(frames, student_files)
        return Finding(f"{tool}: {kind}" + _variable(TSAN_VARIABLE, stderr) +
                       (f" in {where}" if where else ""),
                       _places(frames, student_files))
    undefined = UBSAN_HEADLINE.search(stderr)
    if undefined:
        where = undefined.group(1).rsplit("/", 1)[-1]
        file, line = where.split(":")[:2]
        places = [Place(file, int(line))] if file in student_files else []
        return Finding("undefined behaviour: " + where, places)
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


def helgrind_finding(stderr, student_files):
    """'helgrind: Possible data race ... in worker (counter.c:12)', or None."""
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
        frames = HELGRIND_FRAME.findall(text)
        where = _first_frame_in(frames, student_files)
        return Finding("helgrind: " + headline + _variable(HELGRIND_VARIABLE, text) +
                       (f" in {where}" if where else ""),
                       _places(frames, student_files))
    return None
