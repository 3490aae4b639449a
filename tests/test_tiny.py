"""The tiny test checkpoints are the same bytes on every build, so a test's answer cannot
depend on which build it got, and a cached build is as good as a fresh one."""

import os
import subprocess
import sys
from pathlib import Path

import tiny

# One architecture per tokenizer model: WordPiece (bert), byte-level BPE (roberta, phi),
# SentencePiece Unigram (deberta-v2, t5 with its 100 sentinels, xlnet), SentencePiece BPE
# (llama, gemma), and a head other than three labels (regression).
SAMPLE = ["bert", "roberta", "phi", "deberta-v2", "t5", "xlnet", "llama", "gemma", "regression"]


def _files(root: Path) -> dict:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_builds_are_byte_identical(tmp_path, tiny_root):
    """Two builds, each in a process of its own (another hash seed), hold the same files,
    byte for byte - and so does the session's build, cached or not."""
    runs = [subprocess.Popen([sys.executable, tiny.__file__, str(tmp_path / str(seed)), *SAMPLE],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                             env=dict(os.environ, PYTHONHASHSEED=str(seed)))
            for seed in (1, 2)]
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
