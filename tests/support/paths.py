"""Where things are, for tests and their helpers."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
DATA = TESTS / "support" / "data"
ARTIFACTS = TESTS / "artifacts"
DEFAULT_MODEL = ROOT / "examples" / "minilm-rt-sentiment"


def final(out):
    """The last answer of an app event function: its only one, or (the page's streamed
    /explain) the final result after a first answer early."""
    return out if isinstance(out, tuple) else list(out)[-1]
