"""How big a checkpoint really is, without allocating it: the parameter count its
config.json implies (the model built on PyTorch's meta device, which holds shapes and
no memory) and the count its safetensors files store (read from their headers).

A config can ask for far more than its weights hold (10,000 layers beside 10 MB of
tensors); transformers would then allocate the difference as "missing" weights before
any check could run. Comparing the two numbers first refuses that in milliseconds."""

from __future__ import annotations

import json
import logging
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .. import logbook
from ..errors import BrokenCheckpoint, CheckpointTooLarge, NotAClassifier, ServerBusy, UnsupportedModel
from ._sizechild import SizingChild

MAX_HEADER_BYTES = 100 * 2**20  # a safetensors header (JSON) larger than this is not a real checkpoint


@dataclass(frozen=True)
class SizingLimits:
    """How long, and with how much memory beyond its own, the sizing child may take to
    count one config's parameters. Real classifiers take ~0.05 s and ~2 MB (measured: a
    24-layer XLM-R large, DeBERTa-v2 xlarge, T5-large, a 48-layer BERT)."""

    deadline_s: float = 5.0
    memory_bytes: int = 256 * 2**20


_LOG = logging.getLogger("explain.checkpoints")
# The one sizing child of this process (started on first use; see ``_sizechild``).
SIZER = SizingChild()


def warm() -> None:
    """Start the sizing child now (in the background), so the first load does not wait
    for its imports."""
    SIZER.start()


def implied_parameters(raw: dict, name: str = "The checkpoint") -> int:
    """Parameters of the sequence classifier ``raw`` (a checked config.json) describes,
    counted on the meta device (shared weights once, as ``model.parameters()`` does), in
    this process and without limits: for trusted checkpoints (see
    ``bounded_implied_parameters`` for the others). Call only after ``rules.check_config``
    and ``rules.check_config_sizes``."""
    import torch
    from transformers import CONFIG_MAPPING, AutoModelForSequenceClassification

    model_type = raw.get("model_type")
    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        _refuse({"fail": "unsupported"}, raw, name)
    try:
        config = CONFIG_MAPPING[model_type].from_dict(dict(raw))
        with torch.device("meta"):
            model = AutoModelForSequenceClassification.from_config(config, attn_implementation="eager")
    except ValueError as exc:
        text = " ".join(str(exc).split())[:200]
        kind = "not_a_classifier" if ("Unrecognized configuration" in text or "model type" in text) else "broken"
        _refuse({"fail": kind, "detail": f"{type(exc).__name__}: {text}"}, raw, name, exc)
    except Exception as exc:  # noqa: BLE001 - any failure to build the shapes: refuse, never allocate
        text = " ".join(str(exc).split())[:200]
        _refuse({"fail": "broken", "detail": f"{type(exc).__name__}: {text}"}, raw, name, exc)
    return int(sum(p.numel() for p in model.parameters()))


def bounded_implied_parameters(raw: dict, name: str = "The checkpoint", limits: SizingLimits = SizingLimits()) -> int:
    """``implied_parameters`` in the sizing child, within ``limits``: a config that needs
    longer or more memory just to be described is refused as too large (and the child
    killed), so a hostile one costs at most the deadline."""
    answer = SIZER.count(raw, limits.deadline_s, limits.memory_bytes)
    if "parameters" in answer:
        return int(answer["parameters"])
    _refuse(answer, raw, name, limits=limits)
    raise AssertionError("unreachable")


def _refuse(
    answer: dict, raw: dict, name: str, cause: Optional[BaseException] = None, limits: Optional[SizingLimits] = None
) -> None:
    """The error for a failed count (``answer``: ``{"fail": kind, "detail": text}``)."""
    kind, detail = answer.get("fail"), answer.get("detail", "")
    resave = "Re-save the checkpoint with transformers' save_pretrained()."
    usual = "Pick a checkpoint of a usual size."
    if kind == "unsupported":
        raise UnsupportedModel(
            f"{name}'s config has model_type {raw.get('model_type')!r}, which this version of transformers does not know.",
            "Use a checkpoint of an architecture transformers supports.",
        ) from cause
    if kind == "not_a_classifier":
        raise NotAClassifier(
            f"transformers has no sequence-classification model for this config ({detail}).",
            "Use a checkpoint with a …ForSequenceClassification architecture.",
        ) from cause
    if kind in ("deadline", "memory") and limits is not None:
        logbook.note(
            _LOG,
            "refused (too large to count)",
            "refused (too large to count): %s's config.json ran into the sizing child's %s limit",
            name,
            "time" if kind == "deadline" else "memory",
        )
    if kind == "deadline" and limits is not None:
        raise CheckpointTooLarge(
            f"{name}'s config.json describes a model so large that counting its parameters "
            f"took longer than this server's limit of {limits.deadline_s:g} s.",
            usual,
        )
    if kind == "memory" and limits is not None:
        raise CheckpointTooLarge(
            f"{name}'s config.json describes a model so large that counting its parameters "
            f"needed more than this server's {limits.memory_bytes / 2**20:,.0f} MiB.",
            usual,
        )
    if kind in ("busy", "startup"):
        raise ServerBusy("This server is busy checking other models right now.", "Try again in a minute.")
    if kind == "died":
        raise BrokenCheckpoint(
            f"{name}'s config.json cannot describe a model: the process counting its parameters stopped.", resave
        )
    raise BrokenCheckpoint(f"{name}'s config.json cannot describe a model ({detail or 'unknown error'}).", resave) from cause


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
                raise BrokenCheckpoint(
                    f"The weights file {path.name} has a tensor without a valid shape.", "Re-save the checkpoint."
                )
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
        raise BrokenCheckpoint(
            f"The weights file {path.name} is not a readable safetensors file ({exc}).", "Re-save the checkpoint."
        ) from exc
    if not isinstance(data, dict):
        raise BrokenCheckpoint(f"The weights file {path.name} is not a readable safetensors file.", "Re-save it.")
    data.pop("__metadata__", None)
    return data
