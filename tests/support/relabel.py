"""A tiny checkpoint with other label names (an NLI model: contradiction / neutral /
entailment; a multi-label head), copied into a folder of the test's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

NLI = ("contradiction", "neutral", "entailment")  # MNLI's order


def relabelled(source: Path, folder: Path, labels=NLI, problem_type: Optional[str] = None) -> Path:
    """``source`` copied to ``folder`` (once) with ``labels`` as its id2label (and
    ``problem_type``, if given)."""
    folder = Path(folder)
    if not folder.exists():
        shutil.copytree(source, folder)
        cfg = json.loads((folder / "config.json").read_text())
        cfg["id2label"] = {str(i): name for i, name in enumerate(labels)}
        cfg["label2id"] = {name: i for i, name in enumerate(labels)}
        if problem_type:
            cfg["problem_type"] = problem_type
        (folder / "config.json").write_text(json.dumps(cfg))
    return folder
