"""Reads sanitizer and valgrind reports: the one line a student needs, the
places in the student's files the report points to, and an explanation in
the lessons' words with each of those lines of the student's file.

The reports are read from files of their own (the tools' log_path and
--log-file, see registry.py), never from the program's output.  For a
race, the access made without a lock is named as the culprit.
"""
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
    details: list = dataclasses.field(default_factory=list)  # lines to show


# What each kind of report means, in the lessons' words.
LESSONS = (
    (re.compile(r"data race", re.I),
     "two threads used the same memory at the same time, at least one of "
     "them writing, and no one mutex was held by both: take the same mutex "
     "around every access to it, reads included"),
    (re.compile(r"lock-order-inversion|lock order", re.I),
     "two mutexes are taken in opposite orders in two places: each thread "
     "can hold one and wait forever for the other; take them in one fixed "
     "order everywhere"),
    (re.compile(r"unlock of an unlocked mutex|unlocked a not-locked lock|"
                r"unlocked lock .* currently held by", re.I),
     "a mutex was unlocked that this thread had not locked: every unlock "
     "must follow a lock of the same mutex on the same path"),
    (re.compile(r"un-held mutex|without holding|mutex not held", re.I),
     "a condition variable was used without holding its mutex: lock the "
     "mutex, check the condition in a while loop, wait, unlock"),
    (re.compile(r"thread leak", re.I),
     "a thread was started and never joined (or detached): join every "
     "thread you create before returning"),
    (re.compile(r"still holds", re.I),
     "a thread ended while holding a mutex: unlock it on every path out, "
     "error paths and early returns included"),
    (re.compile(r"destroy of a locked mutex|destroy", re.I),
     "a mutex was destroyed while locked: unlock it first, and destroy it "
     "only when no thread can use it any more"),
)


def lesson(kind):
    return next((text for pattern, text in LESSONS if pattern.search(kind)), "")


@dataclasses.dataclass
class Access:
    """One side of a report: a thread's access or lock, where, and whether
    it held a mutex."""
    who: str
    what: str
    locked: bool | None           # None: the report does not say
    place: Place | None


def _source_line(sources, place):
    try:
        with open(sources[place.file], encoding="utf-8", errors="replace") as handle:
            for number, text in enumerate(handle, 1):
                if number == place.line:
                    return text.strip()
    except (OSError, KeyError, TypeError):
        pass
    return ""


def _explain(kind, accesses, sources):
    """The lines under a headline: what it means, then each access at its
    line of the student's file, the one made without a lock marked."""
    lines = []
    meaning = lesson(kind)
    if meaning:
        lines.append(f"what it means: {meaning}")
    unlocked = [a for a in accesses if a.locked is False]
    names = _thread_names(accesses)
    for access in accesses:
        if not access.place:
            continue
        held = {True: "holding a lock", False: "holding no lock",
                None: ""}[access.locked]
        blame = " <- made without a lock" if unlocked and access in unlocked \
            and len(unlocked) < len(accesses) else ""
        code = _source_line(sources, access.place)
        lines.append(f"{access.place.file}:{access.place.line}" +
                     (f": {code}" if code else ""))
        lines.append(f"    {access.what} by {names[access.who]}" +
                     (f", {held}" if held else "") +
                     f" (in {access.place.function}){blame}")
    return lines


def _thread_names(accesses):
    """'the main thread', 'a thread', 'another thread': the tools number
    threads in the order they happened to start, which differs from run to
    run; the explanation should not."""
    names, others = {}, ["a thread", "another thread", "a third thread"]
    for access in accesses:
        if access.who in names:
            continue
        if access.who.lower() in ("main thread", "thread #1"):
            names[access.who] = "the main thread"
        elif re.fullmatch(r"thread (T|#)\d+", access.who, re.I):
            names[access.who] = others.pop(0) if others else "one more thread"
        else:
            names[access.who] = access.who    # "an earlier call"
    return names


def _place_key(access):
    place = access.place
    return (place.file, place.line) if place else ("~", 0)


def _ordered(accesses, student_files):
    """The accesses in the student's files, the one to fix first: the one
    made without a lock when the others held one, else in file and line
    order (not in the order the tool saw them, which varies from run to
    run)."""
    placed = sorted((a for a in accesses
                     if a.place and a.place.file in student_files),
                    key=_place_key)
    unlocked = [a for a in placed if a.locked is False]
    if unlocked and len(unlocked) < len(placed):
        placed.remove(unlocked[0])
        placed.insert(0, unlocked[0])
    return placed


def _sides(kind, accesses, student_files):
    """For a data race, a one-line account of the access to fix: the one
    that held no lock (whichever of the two the tool saw second): ': a read
    in f (x.c:3) holds no lock and races with another thread'.  The other
    side is in the explanation: which access a run happens to collide with
    first varies from run to run, and the reason should not."""
    if "data race" not in kind.lower() or len(accesses) != 2 or \
            not all(a.place for a in accesses):
        return ""
    ordered = _ordered(accesses, student_files) or \
        sorted(accesses, key=_place_key)
    first = ordered[0]
    verb = first.what.split()[-1]     # "previous write": write
    held = " holds no lock and" if first.locked is False else ""
    return f": a {verb} in {first.place}{held} races with another thread " \
        "(both places below)"


TSAN_ACCESS = re.compile(
    r"^  (?P<what>(?:Previous )?(?:atomic )?(?:write|read)) of size \d+ at \S+ "
    r"by (?P<who>main thread|thread T\d+)(?P<mutexes> \(mutexes: [^)]*\))?:\n"
    r"(?P<frames>(?:    #\d+ .*\n?)+)", re.I | re.M)
TSAN_LOCK = re.compile(
    r"^  Mutex (?P<taken>M\d+) acquired here while holding mutex (?P<held>M\d+) "
    r"in (?P<who>main thread|thread T\d+):\n(?P<frames>(?:    #\d+ .*\n?)+)",
    re.M)


def _where(frames, student_files):
    """The first frame in the student's files, else the first in a C file
    (the kit's tests or workload)."""
    mine = _places(frames, student_files)
    if mine:
        return mine[0]
    for function, path, line in frames[:1]:
        return Place(path.rsplit("/", 1)[-1], int(line), function)
    return None


def _tsan_accesses(report, student_files):
    accesses = []
    for found in TSAN_ACCESS.finditer(report):
        accesses.append(Access(found["who"], found["what"].lower(),
                               bool(found["mutexes"]), _where(
                                   SANITIZER_FRAME.findall(found["frames"]),
                                   student_files)))
    for found in TSAN_LOCK.finditer(report):
        frames = [f for f in SANITIZER_FRAME.findall(found["frames"])
                  if not f[0].startswith("pthread_")]
        accesses.append(Access(found["who"], f"lock of {found['taken']} while "
                               f"holding {found['held']}", None,
                               _where(frames, student_files)))
    return accesses


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


def _rank(kind):
    """Which kind of report to show first when a run has several: the
    order of LESSONS (a race before a leaked thread), unknown kinds last."""
    return next((rank for rank, (pattern, _) in enumerate(LESSONS)
                 if pattern.search(kind)), len(LESSONS))


def _choose(candidates):
    """The report to show out of all a run wrote: one on the student's own
    lines first, then by kind, then the most complete, then by the
    student's file and line.  Never
    'the first one': which race a run meets first varies from run to run,
    and a reason should be the same text every time (the full reports stay
    in results.json)."""
    def key(candidate):
        kind, finding, accesses = candidate
        lines = [(p.file, p.line) for p in finding.places]
        # A report whose two sides are known, one without a lock and one
        # with, says the most; one with a side's stack lost, the least.
        culprit_known = any(a.locked is False for a in accesses) and \
            any(a.locked for a in accesses)
        return (not finding.places, _rank(kind), not culprit_known,
                -len(accesses), [_place_key(a) for a in accesses] or lines,
                finding.message)
    return min(candidates, key=key)[1] if candidates else None


def _tsan_candidate(kind, tool, report, student_files):
    frames = SANITIZER_FRAME.findall(report)
    accesses = _tsan_accesses(report, student_files)
    ordered = _ordered(accesses, student_files)
    where = str(ordered[0].place) if ordered else \
        _first_frame_in(frames, student_files)
    races = [a for a in accesses if "lock of" not in a.what]
    finding = Finding(f"{tool}: {kind}" + _variable(TSAN_VARIABLE, report) +
                      (f" in {where}" if where else "") +
                      _sides(kind, races, student_files),
                      _places(frames, student_files),
                      _explain(kind, _explained(kind, accesses, ordered),
                               student_files))
    return kind, finding, ordered


def _explained(kind, accesses, ordered):
    """The accesses in the order to explain them: for a race, the student's,
    the one to fix first, then the rest by place; for a lock order, as the
    tool told the story."""
    if "data race" not in kind.lower():
        return accesses
    rest = sorted((a for a in accesses if a not in ordered), key=_place_key)
    return ordered + rest


def sanitizer_finding(stderr, student_files):
    """'ThreadSanitizer: data race in worker (counter.c:12)', or None.
    `student_files`: {file name: path} of the student's files."""
    headlines = list(SANITIZER_HEADLINE.finditer(stderr))
    candidates = []
    for number, headline in enumerate(headlines):
        tool, kind = headline.groups()
        stop = headlines[number + 1].start() if number + 1 < len(headlines) \
            else len(stderr)
        report = stderr[headline.start():stop]
        end = report.find("\nSUMMARY:")
        report = report[:end] if end > 0 else report
        candidates.append(_tsan_candidate(kind, tool, report, student_files))
    return _choose(candidates) or undefined_behaviour(stderr, student_files)


def undefined_behaviour(text, student_files):
    """UBSan's 'x.c:3:5: runtime error: ...' line, or None.  (Built together
    with ASan, UBSan prints to stderr whatever log_path says: its line is
    read from there.  A line the program prints itself can only fail it.)"""
    undefined = UBSAN_HEADLINE.search(text)
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


HELGRIND_SIDE = re.compile(r"(?:Possible data race during|This conflicts with a "
                           r"previous) (\w+) of size \d+ .*?by (thread #\d+)")


HELGRIND_ORDER = re.compile(
    r"(Observed \(incorrect\) order is: acquisition|followed by a later "
    r"acquisition|Required order was established by acquisition) of lock at "
    r"(0x[0-9A-F]+)")
ORDER_WORDS = {"Observed": "takes lock {} first, in the order that can deadlock",
               "followed": "then takes lock {}",
               "Required": "took lock {} first, in the order set earlier"}


def _helgrind_accesses(lines, student_files):
    """The two sides of a helgrind race, each with its 'Locks held' line; or
    the acquisitions of a lock-order violation."""
    accesses, frames = [], []
    thread = re.match(r"(Thread #\d+)", lines[0]) if lines else None
    who_ordered = thread.group(1).lower() if thread else "a thread"
    for line in lines:
        side = HELGRIND_SIDE.search(line)
        order = HELGRIND_ORDER.search(line)
        if order and order.group(1).startswith("Required"):
            who_ordered = "an earlier call"     # not necessarily this thread
        if side or order:
            frames = []
            who = side.group(2) if side else who_ordered
            what = side.group(1) if side else \
                ORDER_WORDS[order.group(1).split()[0]].format(order.group(2))
            accesses.append(Access(who, what, None, None))
        elif accesses and line.startswith("Locks held:"):
            accesses[-1].locked = not line.startswith("Locks held: none")
        elif accesses:
            frames += HELGRIND_FRAME.findall(line)
            accesses[-1].place = _where(frames, student_files)
    return accesses


def helgrind_finding(stderr, student_files):
    """'helgrind: Possible data race ... in worker (counter.c:12)', or None."""
    candidates = []
    for block in _helgrind_blocks(stderr):
        if NOT_AN_ERROR.match(block[0]):
            continue
        headlines = [l for l in block if not HELGRIND_DETAIL.match(l)]
        if not headlines:
            continue
        start = block.index(headlines[0])
        # Addresses and thread numbers differ from run to run.
        headline = re.sub(r" at 0x[0-9A-F]+|\"0x[0-9A-F]+ before 0x[0-9A-F]+\" "
                          r"| by thread #\d+| during \w+ of size \d+", "",
                          headlines[0])
        headline = re.sub(r"^Thread #\d+(: )?",
                          lambda m: "" if m.group(1) else "a thread", headline)
        text = "\n".join(block[start:])
        frames = HELGRIND_FRAME.findall(text)
        accesses = _helgrind_accesses(block[start:], student_files)
        ordered = _ordered(accesses, student_files)
        where = str(ordered[0].place) if ordered else \
            _first_frame_in(frames, student_files)
        candidates.append((headline, Finding(
            "helgrind: " + headline + _variable(HELGRIND_VARIABLE, text) +
            (f" in {where}" if where else "") +
            _sides(headline, accesses, student_files),
            _places(frames, student_files),
            _explain(headline, _explained(headline, accesses, ordered),
                     student_files)),
            ordered))
    return _choose(candidates)
