"""The tiny test checkpoints are the same bytes on every build, so a test's answer cannot
depend on which build it got, and a cached build is as good as a fresh one."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tiny

# One architecture per tokenizer model: WordPiece (bert), byte-level BPE (roberta, phi),
# SentencePiece Unigram (deberta-v2, t5 with its 100 sentinels, xlnet), SentencePiece BPE
# (llama, gemma), and a head other than three labels (regression).
SAMPLE = ["bert", "roberta", "phi", "deberta-v2", "t5", "xlnet", "llama", "gemma", "regression"]


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.mark.slow
def test_two_builds_are_byte_identical(tmp_path, tiny_root):
    """Two builds, each in a process of its own (another hash seed), hold the same files,
    byte for byte - and so does the session's build, cached or not."""
    runs = [
        subprocess.Popen(
            [sys.executable, tiny.__file__, str(tmp_path / str(seed)), *SAMPLE],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=dict(os.environ, PYTHONHASHSEED=str(seed)),
        )
        for seed in (1, 2)
    ]
    for run in runs:
        out = run.communicate(timeout=600)[0]
        assert run.returncode == 0, out
    first, second = _files(tmp_path / "1"), _files(tmp_path / "2")
    assert {n.split("/")[0] for n in first} == set(SAMPLE)
    assert {n for n in first if n.endswith("/model.safetensors")} and {n for n in first if n.endswith("/tokenizer.json")}
    assert sorted(first) == sorted(second)
    assert [n for n in first if first[n] != second[n]] == []
    cached = {n: b for n, b in _files(tiny_root).items() if n.split("/")[0] in SAMPLE}
    assert [n for n in first if cached.get(n) != first[n]] == []


def test_the_cache_is_reused_while_intact_and_rebuilt_when_not(tmp_path, monkeypatch):
    """A cached build is used as it is while every file has its digest; one file changed (a
    test writing into the cache) and the next session gets a fresh build, not the damage."""
    real = tiny.build_all
    monkeypatch.setattr(tiny, "build_all", lambda root, names=None: real(root, ["bert"]))
    root = tiny.build_cached(tmp_path)
    assert root.name == f"tiny-{tiny.fingerprint()}" and (root / tiny.SUMS).is_file()
    config = root / "bert" / "config.json"
    good, inode = config.read_bytes(), config.stat().st_ino
    assert tiny.build_cached(tmp_path) == root and config.stat().st_ino == inode  # reused, not rebuilt
    config.write_text("{}")
    assert tiny.build_cached(tmp_path) == root and config.read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == [root.name]  # nothing half-built or stale left behind
