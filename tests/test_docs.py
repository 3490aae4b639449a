"""The README's Python examples run as written (a tiny NLI checkpoint stands in for the
Hub ID they name, since tests have no network)."""

import contextlib
import io
import json
import os
import re
import shutil

from paths import ROOT

HUB_NLI = "cross-encoder/nli-deberta-v3-small"


def python_blocks(section: str) -> list:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    body = readme.split(section, 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", body, re.S)


def test_python_api_examples_run(tiny_path, tmp_path):
    nli = tmp_path / "nli"
    shutil.copytree(tiny_path("bert"), nli)
    cfg = json.loads((nli / "config.json").read_text())
    labels = ["contradiction", "neutral", "entailment"]
    cfg["id2label"], cfg["label2id"] = dict(enumerate(labels)), {label: i for i, label in enumerate(labels)}
    (nli / "config.json").write_text(json.dumps(cfg))
    blocks = python_blocks("## Python API")
    assert len(blocks) >= 3 and any(HUB_NLI in b for b in blocks)
    here = os.getcwd()
    os.chdir(ROOT)  # the examples name examples/... relative to the repository root
    try:
        for block in blocks:
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                exec(compile(block.replace(HUB_NLI, str(nli)), "README.md", "exec"), {})
            assert out.getvalue().strip(), block  # every example prints what it shows
    finally:
        os.chdir(here)
