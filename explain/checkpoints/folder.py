"""A checkpoint folder on disk -> a Classifier, with every safety setting on.

Loading is always float32, safetensors only, ``trust_remote_code=False``. The config is
checked (``rules``) before transformers reads it. A checkpoint whose classification
head is not in its weights is refused: it would explain a random head."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional, Union

import torch

from ..engine import Classifier
from ..errors import (
    BrokenCheckpoint,
    CheckpointNotFound,
    ExplainError,
    NotAClassifier,
    UnsafeCheckpoint,
    UnsupportedModel,
)
from .rules import check_architectures, check_config


def load_folder(folder: Union[str, Path], *, source: Optional[str] = None, revision: Optional[str] = None,
                device=None) -> Classifier:
    """Load a local checkpoint folder with every safety setting on."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(folder)
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise CheckpointNotFound(f"{folder} has no config.json, so it is not a transformers checkpoint.",
                                 "Point to the folder that save_pretrained() wrote.")
    try:
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BrokenCheckpoint(f"config.json in {folder} is not valid JSON ({exc}).",
                               "Re-save the checkpoint.") from exc
    check_config(raw)
    if not any(folder.glob("*.safetensors")):
        raise UnsafeCheckpoint(f"{folder} has no .safetensors weights (pickled .bin files can run code).",
                               "Convert the weights with save_pretrained(safe_serialization=True).")
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
    except ExplainError:
        raise
    except (ValueError, KeyError, OSError) as exc:
        raise UnsupportedModel(f"transformers cannot read this config ({_short(exc)}).",
                               "Use a checkpoint of an architecture transformers supports.") from exc
    check_architectures(getattr(config, "architectures", None) or [])
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, use_fast=True)
    except ExplainError:
        raise
    except BaseException as exc:  # Rust panics arrive as BaseException subclasses
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenCheckpoint(f"The tokenizer files could not be loaded ({_short(exc)}).",
                               "Check tokenizer.json / tokenizer_config.json in the checkpoint.") from exc
    model = _load_model(AutoModelForSequenceClassification, folder, config)
    try:
        return Classifier.from_objects(model, tokenizer, source=source or str(folder), revision=revision,
                                       device=device, owned=True)
    except ExplainError:
        raise
    except BaseException as exc:  # a tokenizer that loads but cannot encode (or panics doing so)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenCheckpoint(f"The checkpoint loaded but fails on a probe sentence ({_short(exc)}).",
                               "Its tokenizer files or config are broken or inconsistent; re-save it.") from exc


def _load_model(auto_cls, folder: Path, config):
    kwargs = dict(trust_remote_code=False, use_safetensors=True, dtype=torch.float32,
                  output_loading_info=True)
    model = info = None
    last: Optional[BaseException] = None
    for attn in ("sdpa", "eager"):
        try:
            model, info = auto_cls.from_pretrained(folder, config=config, attn_implementation=attn, **kwargs)
            break
        except ValueError as exc:  # this architecture does not offer that attention
            last = exc
            if "attn" not in str(exc).lower() and "attention" not in str(exc).lower():
                break
        except BaseException as exc:
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                raise
            last = exc
            break
    if model is None:
        text = _short(last)
        if "Unrecognized configuration" in text or "model type" in text:
            raise NotAClassifier(f"transformers has no sequence-classification model for this config ({text}).",
                                 "Use a checkpoint with a …ForSequenceClassification architecture.") from last
        raise BrokenCheckpoint(f"The weights could not be loaded ({text}).",
                               "The safetensors file may be corrupt or not match config.json; re-save it.") from last
    missing = list(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if mismatched:
        raise BrokenCheckpoint(f"Weights do not match the config in shape: {', '.join(map(str, mismatched[:3]))}.",
                               "Re-save the checkpoint so config.json and the weights agree.")
    if missing:
        prefix = getattr(model, "base_model_prefix", "") + "."
        head = [k for k in missing if not k.startswith(prefix)]
        if head:
            raise NotAClassifier(
                f"This checkpoint has no trained classification head (missing: {', '.join(head[:4])}). "
                "Loading it would attach a randomly initialised head, so its predictions and "
                "explanations would be noise.",
                "Use a checkpoint fine-tuned for sequence classification.")
        raise BrokenCheckpoint(f"Weights are missing for: {', '.join(missing[:4])}.",
                               "The checkpoint is incomplete; re-save it.")
    return model


def _short(exc: Optional[BaseException], limit: int = 300) -> str:
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
