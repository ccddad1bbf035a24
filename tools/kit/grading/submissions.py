"""A class's submissions: one folder or archive per student.

Only the files the manifest says students edit are ever taken from a
submission, read from regular files (never through a symbolic link) and
at most MAX_FILE bytes each; nothing else in it is extracted or used.
"""
import dataclasses
import hashlib
import os
import re
import stat
import tarfile
import zipfile

ARCHIVES = (".tar.gz", ".tgz", ".tar.bz2", ".tar.xz", ".tar", ".zip")
MAX_FILE = 1024 * 1024          # a student's .c file is far smaller
MAX_MEMBERS = 20000             # entries looked at in one submission
MAX_SCANNED = 512 * 1024 * 1024  # bytes of archive content walked through
# Folders whose files are never taken for the student's: the kit's own
# copies (a student who submits the whole repository brings them along).
NOT_THE_STUDENTS = {"solutions", "tests", "build", "__MACOSX", ".git"}


class Unreadable(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Submission:
    id: str          # the student, as the output names them
    path: str        # the folder or archive
    kind: str        # "folder", "zip", "tar" or "unknown"

    @property
    def source(self):
        return os.path.basename(self.path)


def _kind(path):
    if os.path.isdir(path):
        return "folder"
    name = path.lower()
    if name.endswith(".zip"):
        return "zip"
    if name.endswith(ARCHIVES):
        return "tar"
    return "unknown"


def _student_id(name, taken):
    for suffix in ARCHIVES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            name = name[:-len(suffix)]
            break
    base = re.sub(r"[^A-Za-z0-9._@+-]", "_", name).strip(".") or "submission"
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def discover(directory, exclude=()):
    """Every submission in `directory`, in a stable (sorted) order."""
    excluded = {os.path.realpath(e) for e in exclude}
    found, taken = [], set()
    for name in sorted(os.listdir(directory)):
        path = os.path.join(directory, name)
        if name.startswith(".") or os.path.realpath(path) in excluded:
            continue
        student = _student_id(name, taken)
        taken.add(student)
        found.append(Submission(student, os.path.abspath(path), _kind(path)))
    return found


def _members(submission):
    """(relative path, size, read(limit)) of every regular file."""
    if submission.kind == "folder":
        yield from _folder_members(submission.path)
    elif submission.kind == "zip":
        yield from _zip_members(submission.path)
    elif submission.kind == "tar":
        yield from _tar_members(submission.path)
    else:
        raise Unreadable("not a folder, nor a .zip or .tar.gz archive")


def _folder_members(top):
    count = 0
    for here, dirs, files in os.walk(top, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in NOT_THE_STUDENTS)
        for name in sorted(files):
            count += 1
            if count > MAX_MEMBERS:
                return
            path = os.path.join(here, name)
            info = os.lstat(path)
            if stat.S_ISREG(info.st_mode):
                yield (os.path.relpath(path, top), info.st_size,
                       lambda limit, p=path: _read_file(p, limit))


def _read_file(path, limit):
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    with os.fdopen(fd, "rb") as handle:
        return handle.read(limit)


def _zip_members(path):
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise Unreadable(f"the archive cannot be read: {error}") from None
    with archive:
        for info in archive.infolist()[:MAX_MEMBERS]:
            mode = info.external_attr >> 16
            if info.is_dir() or (mode and not stat.S_ISREG(mode)):
                continue
            yield (info.filename, info.file_size,
                   lambda limit, i=info: archive.open(i).read(limit))


def _tar_members(path):
    try:
        archive = tarfile.open(path, "r:*")
    except (OSError, tarfile.TarError) as error:
        raise Unreadable(f"the archive cannot be read: {error}") from None
    scanned = 0
    with archive:
        try:
            for count, member in enumerate(archive):
                scanned += member.size
                if count >= MAX_MEMBERS or scanned > MAX_SCANNED:
                    return
                if member.isreg():
                    yield (member.name, member.size,
                           lambda limit, m=member: archive.extractfile(m).read(limit))
        except (OSError, tarfile.TarError, EOFError) as error:
            raise Unreadable(f"the archive cannot be read: {error}") from None


def _parts(relative):
    parts = [p for p in relative.replace("\\", "/").split("/") if p not in ("", ".")]
    return parts


def _rank(parts, exercise):
    """Where a file sits decides whether it is the student's copy: lower
    is better, None is never taken."""
    if any(p in NOT_THE_STUDENTS or p == ".." for p in parts[:-1]):
        return None
    if len(parts) >= 3 and parts[-3:-1] == ["exercises", exercise.name]:
        return 0
    if len(parts) >= 2 and parts[-2] == exercise.name:
        return 1
    return 2


@dataclasses.dataclass
class Collected:
    files: dict          # exercise name -> {file name: bytes}
    taken_from: dict     # exercise name -> {file name: path in submission}
    notes: list
    error: str = ""      # the whole submission could not be read

    def fingerprint(self):
        digest = hashlib.sha256()
        for exercise in sorted(self.files):
            for name in sorted(self.files[exercise]):
                digest.update(f"{exercise}/{name}\0".encode())
                digest.update(hashlib.sha256(self.files[exercise][name]).digest())
        digest.update(self.error.encode())
        return digest.hexdigest()


def collect(submission, exercises):
    """The edited files of every exercise, as they are in the submission."""
    wanted = {name: exercise for exercise in exercises for name in exercise.edit}
    best = {}
    collected = Collected({}, {}, [])
    try:
        for relative, size, read in _members(submission):
            parts = _parts(relative)
            exercise = wanted.get(parts[-1]) if parts else None
            rank = _rank(parts, exercise) if exercise else None
            if rank is None:
                continue
            key = (exercise.name, parts[-1])
            order = (rank, len(parts), "/".join(parts))
            if key in best and best[key][0] <= order:
                continue
            if size > MAX_FILE:
                collected.notes.append(f"{'/'.join(parts)} is larger than "
                                       f"{MAX_FILE // 1024} KiB: not graded")
                continue
            best[key] = (order, read(MAX_FILE))
    except Unreadable as error:
        collected.error = str(error)
        return collected
    except Exception as error:      # encrypted, truncated, unsupported...
        collected.error = f"the submission cannot be read: {error}"
        return collected
    for (exercise, name), (order, data) in sorted(best.items()):
        collected.files.setdefault(exercise, {})[name] = data
        collected.taken_from.setdefault(exercise, {})[name] = order[2]
    return collected
