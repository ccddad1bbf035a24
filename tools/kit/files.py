"""Writing files that readers may look at any moment."""
import os


def write_atomically(target, text):
    """Writes `text` to `target` whole or not at all (a temporary name,
    flushed to disk, then renamed over it): a run killed at any moment
    leaves the old file or the new one, never half of one."""
    os.makedirs(os.path.dirname(os.path.abspath(target)), exist_ok=True)
    temporary = f"{target}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, target)
