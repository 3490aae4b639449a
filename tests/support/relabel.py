"""A tiny checkpoint with other label names (an NLI model: contradiction / neutral /
entailment; a multi-label head), copied into a folder of the test's own."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Optional

NLI = ("contradiction", "neutral", "entailment")  # MNLI's order


def relabelled(
    source: Path, folder: Path, labels=NLI, problem_type: Optional[str] = None, bias: Optional[tuple] = None
) -> Path:
    """``source`` copied to ``folder`` (once) with ``labels`` as its id2label (and
    ``problem_type``, if given). ``bias``: the classifier's bias, one value per label - a
    random tiny model's logits are small (every sigmoid near 50%), so e.g. (4, 3, -4) makes the
    first two labels of a sigmoid head clearly present and the third clearly absent."""
    folder = Path(folder)
    if not folder.exists():
        shutil.copytree(source, folder)
        cfg = json.loads((folder / "config.json").read_text())
        cfg["id2label"] = {str(i): name for i, name in enumerate(labels)}
        cfg["label2id"] = {name: i for i, name in enumerate(labels)}
        if problem_type:
            cfg["problem_type"] = problem_type
        (folder / "config.json").write_text(json.dumps(cfg))
        if bias is not None:
            import torch
            from safetensors.torch import load_file, save_file

            weights = load_file(str(folder / "model.safetensors"))
            assert weights["classifier.bias"].shape == (len(labels),), "bias: one value per label"
            weights["classifier.bias"] = torch.tensor(bias, dtype=weights["classifier.bias"].dtype)
            save_file(weights, str(folder / "model.safetensors"), metadata={"format": "pt"})
    return folder
