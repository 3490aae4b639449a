"""Shared fixtures: offline settings and tiny checkpoints built once per test session."""

import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent / "support"))  # tiny, hubserver, serve, net, paths

import pytest  # noqa: E402
import tiny  # noqa: E402
import torch  # noqa: E402
from browsing import browser  # noqa: E402, F401 - Chromium for the page's tests, one per module
from paths import DEFAULT_MODEL  # noqa: E402

torch.set_num_threads(int(os.environ.get("EXPLAIN_TEST_THREADS", "2")))


@pytest.fixture(scope="session")
def tiny_root(tmp_path_factory) -> Path:
    """Folder holding every tiny checkpoint. Builds are byte-identical, so one is cached
    between sessions (~10 s to build) under $EXPLAIN_TINY_CACHE, or the system's temporary
    folder, keyed by tiny.py and the library versions; EXPLAIN_TINY_CACHE=off builds afresh."""
    setting = os.environ.get("EXPLAIN_TINY_CACHE", "")
    if setting.lower() in ("off", "0", "no"):
        root = tmp_path_factory.mktemp("tiny")
        tiny.build_all(root)
        return root
    return tiny.build_cached(Path(setting) if setting else Path(tempfile.gettempdir()) / "explain-tiny")


@pytest.fixture(scope="session")
def tiny_path(tiny_root):
    return lambda name: tiny_root / name


@pytest.fixture(scope="session")
def default_model_path() -> Path:
    path = DEFAULT_MODEL
    if not (path / "config.json").is_file():
        pytest.skip("bundled model not built yet")
    return path


@pytest.fixture(scope="session")
def app_module(tiny_path):
    """The app module, importable with the tiny BERT among the operator's allowed folders."""
    os.environ["EXPLAIN_LOCAL_MODELS"] = str(tiny_path("bert"))
    import app

    return app
