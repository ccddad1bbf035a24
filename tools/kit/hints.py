"""`make hint EX=NN`: one more hint each time, mildest first."""
from .manifest import KIT_ROOT


def next_hint(exercise):
    counter = KIT_ROOT / "build" / "hints" / exercise.name
    shown = int(counter.read_text()) if counter.exists() else 0
    index = min(shown, len(exercise.hints) - 1)
    counter.parent.mkdir(parents=True, exist_ok=True)
    counter.write_text(str(index + 1))
    more = "" if index + 1 >= len(exercise.hints) else \
        "  (run it again for a stronger hint)"
    return f"Hint {index + 1} of {len(exercise.hints)} for {exercise.name}:" \
        f"{more}\n\n{exercise.hints[index].strip()}\n"
