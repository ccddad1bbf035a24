"""`make hint EX=NN`: one more hint each time, mildest first;
`make hint EX=NN N=2` shows hint 2 again."""
from .paths import BUILD_ROOT


def next_hint(exercise, stage=None):
    counter = BUILD_ROOT / "hints" / exercise.name
    shown = int(counter.read_text()) if counter.exists() else 0
    if stage is not None:
        index = max(0, min(stage, len(exercise.hints)) - 1)
    else:
        index = min(shown, len(exercise.hints) - 1)
    counter.parent.mkdir(parents=True, exist_ok=True)
    counter.write_text(str(max(shown, index + 1)))
    more = "" if index + 1 >= len(exercise.hints) else \
        "  (run it again for a stronger hint)"
    return f"Hint {index + 1} of {len(exercise.hints)} for {exercise.name}:" \
        f"{more}\n\n{exercise.hints[index].strip()}\n"
