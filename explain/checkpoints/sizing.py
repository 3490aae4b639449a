"""How big a checkpoint really is, without allocating it: the parameter count its
config.json implies (the model built on PyTorch's meta device, which holds shapes and
no memory) and the count its safetensors files store (read from their headers).

A config can ask for far more than its weights hold (10,000 layers beside 10 MB of
tensors); transformers would then allocate the difference as "missing" weights before
any check could run. Comparing the two numbers first refuses that in milliseconds."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Optional

from ..errors import BrokenCheckpoint, NotAClassifier, UnsupportedModel

MAX_HEADER_BYTES = 100 * 2**20  # a safetensors header (JSON) larger than this is not a real checkpoint


def implied_parameters(raw: dict, name: str = "The checkpoint") -> int:
    """Parameters of the sequence classifier ``raw`` (a checked config.json) describes,
    counted on the meta device (shared weights once, as ``model.parameters()`` does).
    Call only after ``rules.check_config`` and ``rules.check_config_sizes``."""
    import torch
    from transformers import CONFIG_MAPPING, AutoModelForSequenceClassification

    model_type = raw.get("model_type")
    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        raise UnsupportedModel(f"{name}'s config has model_type {model_type!r}, which this version of transformers "
                               "does not know.", "Use a checkpoint of an architecture transformers supports.")
    try:
        config = CONFIG_MAPPING[model_type].from_dict(dict(raw))
        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")
    except ValueError as exc:
        text = " ".join(str(exc).split())[:200]
        if "Unrecognized configuration" in text or "model type" in text:
            raise NotAClassifier(f"transformers has no sequence-classification model for this config ({text}).",
                                 "Use a checkpoint with a …ForSequenceClassification architecture.") from exc
        raise BrokenCheckpoint(f"{name}'s config.json cannot describe a model ({type(exc).__name__}: {text}).",
                               "Re-save the checkpoint with transformers' save_pretrained().") from exc
    except Exception as exc:  # any failure to build the shapes: refuse, never allocate
        text = " ".join(str(exc).split())[:200]
        raise BrokenCheckpoint(f"{name}'s config.json cannot describe a model ({type(exc).__name__}: {text}).",
                               "Re-save the checkpoint with transformers' save_pretrained().") from exc
    return int(sum(p.numel() for p in model.parameters()))


def stored_parameters(folder: Path) -> Optional[int]:
    """Elements of every tensor in the folder's ``*.safetensors`` files, from their headers
    (None when there are none). A header that cannot be read is a broken checkpoint."""
    files = sorted(Path(folder).glob("*.safetensors"))
    if not files:
        return None
    total = 0
    for path in files:
        for entry in _header(path).values():
            shape = entry.get("shape") if isinstance(entry, dict) else None
            if not isinstance(shape, list) or not all(isinstance(d, int) and d >= 0 for d in shape):
                raise BrokenCheckpoint(f"The weights file {path.name} has a tensor without a valid shape.",
                                       "Re-save the checkpoint.")
            n = 1
            for d in shape:
                n *= d
            total += n
    return total


def _header(path: Path) -> dict:
    try:
        with open(path, "rb") as f:
            head = f.read(8)
            if len(head) < 8:
                raise ValueError("shorter than a header")
            length = struct.unpack("<Q", head)[0]
            if length > MAX_HEADER_BYTES:
                raise ValueError(f"a header of {length:,} bytes")
            data = json.loads(f.read(length))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise BrokenCheckpoint(f"The weights file {path.name} is not a readable safetensors file ({exc}).",
                               "Re-save the checkpoint.") from exc
    if not isinstance(data, dict):
        raise BrokenCheckpoint(f"The weights file {path.name} is not a readable safetensors file.", "Re-save it.")
    data.pop("__metadata__", None)
    return data
