"""Where things are, for tests and their helpers."""

from pathlib import Path

TESTS = Path(__file__).resolve().parent.parent
ROOT = TESTS.parent
DATA = TESTS / "support" / "data"
ARTIFACTS = TESTS / "artifacts"
DEFAULT_MODEL = ROOT / "examples" / "minilm-rt-sentiment"
