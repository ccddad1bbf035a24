"""The course manifest, exercises/manifest.toml: the one list of exercises.

Everything else (the runner, verify, grading) reads it through this module.
"""
import dataclasses
import tomllib

from . import registry
from .paths import KIT_ROOT

MANIFEST_PATH = KIT_ROOT / "exercises" / "manifest.toml"
ALL_CHECKS = registry.NAMES


class ManifestError(Exception):
    pass


@dataclasses.dataclass(frozen=True)
class Exercise:
    name: str            # directory name, e.g. "01_start_join"
    topic: str
    edit: tuple          # the files a student edits
    checks: tuple        # which of ALL_CHECKS apply
    hints: tuple         # mildest first
    weights: dict        # check -> points when graded (registry's by default)
    libs: tuple          # extra link flags, e.g. ("-lm",)
    allow: tuple = ()    # library calls allowed on top of [policy] allow

    @property
    def number(self):
        return self.name.split("_", 1)[0]

    @property
    def exercise_dir(self):
        return KIT_ROOT / "exercises" / self.name

    @property
    def solution_dir(self):
        return KIT_ROOT / "solutions" / self.name

    @property
    def tests_dir(self):
        return KIT_ROOT / "tests" / self.name

    def mutant_paths(self):
        return sorted((self.solution_dir / "mutants").glob("*.patch"))


def _exercise(entry, default_weights):
    for key in ("name", "topic", "edit", "hints"):
        if key not in entry:
            raise ManifestError(f"an exercise has no '{key}': {entry}")
    checks = tuple(entry.get("checks", ALL_CHECKS))
    unknown = set(checks) - set(ALL_CHECKS)
    if unknown:
        raise ManifestError(f"{entry['name']}: unknown checks {sorted(unknown)}")
    weights = {c.name: c.weight for c in registry.CHECKS}
    weights.update(default_weights)
    weights.update(entry.get("weights", {}))
    return Exercise(
        name=entry["name"], topic=entry["topic"], edit=tuple(entry["edit"]),
        checks=checks, hints=tuple(entry["hints"]),
        weights={c: weights[c] for c in checks},
        libs=tuple(entry.get("libs", ())),
        allow=tuple(entry.get("allow", ())))


def course_policy(path=MANIFEST_PATH):
    """The [policy] table: `allow`, the calls every exercise may use
    (tools/kit/policy.py), and `allowed_in_words`."""
    with open(path, "rb") as handle:
        return tomllib.load(handle).get("policy", {})


def load(path=MANIFEST_PATH):
    with open(path, "rb") as handle:
        data = tomllib.load(handle)
    default_weights = data.get("weights", {})
    exercises = [_exercise(e, default_weights) for e in data.get("exercise", [])]
    names = [e.name for e in exercises]
    if len(set(names)) != len(names):
        raise ManifestError("exercise names are not unique")
    return exercises


def select(exercises, wanted):
    """The exercises named by number ("3", "03"), name ("03_thread_objects")
    or topic part ("thread_objects"); all if none."""
    wanted = [w for item in wanted or [] for w in item.split(",") if w]
    if not wanted:
        return exercises
    chosen = []
    for want in wanted:
        matches = [e for e in exercises
                   if want in (e.name, e.number, e.name.split("_", 1)[-1]) or
                   (want.isdigit() and e.number.isdigit() and int(want) == int(e.number))]
        if not matches:
            known = ", ".join(e.name for e in exercises)
            raise ManifestError(f"no exercise '{want}' (known: {known})")
        chosen.extend(m for m in matches if m not in chosen)
    return chosen
