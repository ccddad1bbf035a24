"""The processes on this machine, as /proc shows them."""
import dataclasses
import os


@dataclasses.dataclass
class Process:
    pid: int
    ppid: int
    uid: int
    state: str
    rss: int        # bytes: anonymous and shared-memory resident pages
    name: str
    threads: int = 1


def _read_process(pid):
    try:
        with open(f"/proc/{pid}/status", encoding="utf-8", errors="replace") as handle:
            fields = dict(line.split(":", 1) for line in handle if ":" in line)
    except OSError:
        return None
    rss = sum(int(fields.get(k, "0 kB").split()[0]) for k in ("RssAnon", "RssShmem"))
    return Process(pid, int(fields["PPid"]), int(fields["Uid"].split()[0]),
                   fields["State"].split()[0], rss * 1024, fields["Name"].strip(),
                   int(fields.get("Threads", "1")))


def proportional_size(pid):
    """Bytes of memory the process uses, pages shared with others (after a
    fork) counted in proportion (Pss), or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="utf-8") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def processes():
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            process = _read_process(int(entry))
            if process:
                yield process


def ancestors(pid, most=4096):
    """The pids above `pid`, its parent first (those a dead process had are
    lost: read them before killing it)."""
    found = []
    while len(found) < most:
        process = _read_process(pid)
        if process is None or process.ppid <= 1:
            return found
        pid = process.ppid
        found.append(pid)
    return found


def descendants(root_pid, table):
    children = {}
    for process in table:
        children.setdefault(process.ppid, []).append(process)
    found, todo = [], [root_pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child.pid)
    return found
