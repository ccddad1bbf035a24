"""Mutants: copies of a reference solution with one classic mistake.

A mutant is a unified diff against the solution, headed by three fields:

    Mutant: join-inside-loop
    Check: functional
    Mistake: joins each thread right after starting it, so the threads
      run one at a time.

    --- a/start_join.c
    +++ b/start_join.c
    ...

`Check` names the check that must fail for it; `make verify` proves it does.
An optional `Reason:` field is text the failure's reason must contain.
`tools/threadlings mutant` writes such a file from an edited copy.
"""
import dataclasses
import os
import pathlib
import shutil
import subprocess
import textwrap


@dataclasses.dataclass
class Mutant:
    name: str
    check: str
    mistake: str
    path: str
    reason: str = ""
    exercise: str = ""            # for the harness's own bad-code patches


def parse(path):
    fields, key = {}, None
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("--- "):
                break
            if line[:1] in (" ", "\t") and key:
                fields[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                fields[key] = value.strip()
    name = os.path.basename(path)[:-len(".patch")]
    return Mutant(fields.get("mutant", name), fields.get("check", ""),
                  fields.get("mistake", ""), str(path),
                  fields.get("reason", ""), fields.get("exercise", ""))


def write(exercise, name, check, mistake, mutated_path, reason="", folder=None):
    """Writes solutions/NN/mutants/<name>.patch (or <folder>/<name>.patch):
    the solution against `mutated_path`, an edited copy of one of the
    student's files."""
    file_name = os.path.basename(mutated_path)
    if file_name not in exercise.edit:
        raise ValueError(f"{file_name} is not one of {exercise.edit}")
    original = exercise.solution_dir / file_name
    diff = subprocess.run(
        ["diff", "-u", "--label", f"a/{file_name}", "--label", f"b/{file_name}",
         str(original), str(mutated_path)], capture_output=True, text=True)
    if diff.returncode != 1:
        raise ValueError("the copy is identical to the solution" if
                         diff.returncode == 0 else diff.stderr)
    header = f"Mutant: {name}\nCheck: {check}\nMistake: " + \
        "\n  ".join(textwrap.wrap(mistake, 70)) + "\n"
    if reason:
        header += f"Reason: {reason}\n"
    target = pathlib.Path(folder or exercise.solution_dir / "mutants") / f"{name}.patch"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(header + "\n" + diff.stdout)
    return target


def materialise(exercise, mutant, source_dir):
    """Writes the solution with the mutant's patch applied into source_dir.
    Returns None, or why the patch does not apply."""
    if os.path.exists(source_dir):
        shutil.rmtree(source_dir)
    os.makedirs(source_dir)
    for name in exercise.edit:
        shutil.copy(exercise.solution_dir / name, source_dir)
    with open(mutant.path, "rb") as patch:
        applied = subprocess.run(
            ["patch", "-s", "-p1", "--no-backup-if-mismatch", "-d", source_dir],
            stdin=patch, capture_output=True, timeout=30)
    if applied.returncode != 0:
        return "patch does not apply: " + applied.stdout.decode(errors="replace")[:200]
    return None
