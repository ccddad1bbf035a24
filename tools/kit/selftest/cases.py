"""The self-test's submissions: tests/selftest/grading/cases/<name>/ plus what
tests/selftest/grading/expected.toml adds (copies of, or links to, the kit's
solution or stub; an archive), written as a student would hand them in."""
import os
import shutil
import socket
import tarfile
import threading
import zipfile

from ..paths import KIT_ROOT

SELFTEST = KIT_ROOT / "tests" / "selftest" / "grading"


class Listener:
    """A TCP port on the grader's 127.0.0.1 that counts who got through."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            connection.close()


def kit_file(exercise, which):
    folder = exercise.solution_dir if which == "solution" else exercise.exercise_dir
    return folder / exercise.edit[0]


def _copy_case(source, target, substitutions):
    for here, dirs, files in os.walk(source):
        for name in files:
            origin = os.path.join(here, name)
            relative = os.path.relpath(origin, source)
            if name.endswith(".in"):
                text = open(origin, encoding="utf-8").read()
                for key, value in substitutions.items():
                    text = text.replace(f"@{key}@", str(value))
                destination = os.path.join(target, relative[:-3])
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                with open(destination, "w", encoding="utf-8") as handle:
                    handle.write(text)
            else:
                destination = os.path.join(target, relative)
                os.makedirs(os.path.dirname(destination), exist_ok=True)
                shutil.copy(origin, destination)


def _pack(folder, kind):
    name = os.path.basename(folder)
    archive = f"{folder}.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as out:
            for here, dirs, files in os.walk(folder):
                for file_name in files:
                    path = os.path.join(here, file_name)
                    out.write(path, os.path.join(name, os.path.relpath(path, folder)))
    else:
        with tarfile.open(archive, "w:gz") as out:
            out.add(folder, arcname=name)
    shutil.rmtree(folder)


def materialise(name, case, exercise, directory, substitutions):
    """Writes the case's submission into `directory`."""
    if case.get("garbage"):
        with open(os.path.join(directory, f"{name}.zip"), "wb") as handle:
            handle.write(b"PK\x03\x04 this is not really a zip archive" * 10)
        return
    folder = os.path.join(directory, name)
    os.makedirs(folder)
    if (SELFTEST / "cases" / name).is_dir():
        _copy_case(SELFTEST / "cases" / name, folder, substitutions)
    for relative, which in case.get("files", {}).items():
        os.makedirs(os.path.dirname(os.path.join(folder, relative)), exist_ok=True)
        shutil.copy(kit_file(exercise, which), os.path.join(folder, relative))
    for relative, which in case.get("symlinks", {}).items():
        os.symlink(kit_file(exercise, which), os.path.join(folder, relative))
    if case.get("archive"):
        _pack(folder, case["archive"])
