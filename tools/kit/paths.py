"""Where the kit is, and the limits every run of code under test shares."""
import pathlib

KIT_ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD_ROOT = KIT_ROOT / "build"

# The largest file a run may write (its output included); past it the
# writer gets SIGXFSZ.  The grader may lower it, never raise it.
FILE_SIZE_LIMIT = 64 * 1024 * 1024
