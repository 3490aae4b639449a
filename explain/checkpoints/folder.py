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
from .rules import (
    TOKENIZER_FILES,
    check_architectures,
    check_config,
    check_config_sizes,
    check_implied_parameters,
    check_tokenizer_files,
    check_vocabulary,
)
from .sizing import SizingLimits, bounded_implied_parameters, implied_parameters, stored_parameters

MAX_CONFIG_BYTES = 2**20  # a config.json larger than this is not a real one (the Hub loader's limit too)
MIN_VOCABULARY = 16  # fewer tokens than this is no tokenizer (protein models have ~25)
# A probe in several scripts, with digits and punctuation: a real tokenizer of any
# language knows some of it; one whose every token is "unknown" has no vocabulary.
# A loaded tokenizer takes about this many times its files' bytes in memory (measured: the
# bundled model's 0.4 MB tokenizer.json +7.4 MB, a 60 MB one +1.2 GB): what the model cache weighs.
TOKENIZER_MEMORY_FACTOR = 20
PROBE = "The film was good. Le film était bon. Фильм был хорошим. 这部电影很好。 الفيلم جيد. 映画は良かった。 1 2 3 ? !"


def load_folder(
    folder: Union[str, Path],
    *,
    source: Optional[str] = None,
    revision: Optional[str] = None,
    device=None,
    max_parameters: Optional[int] = None,
    sizing: Optional[SizingLimits] = None,
    max_tokenizer_bytes: Optional[int] = None,
) -> Classifier:
    """Load a local checkpoint folder with every safety setting on. Before transformers
    reads anything, config.json's sizes are bounded and the parameter count it implies is
    compared with the stored tensors and ``max_parameters`` (None: no limit), counted in
    the sizing child under ``sizing``'s limits (None: here, unlimited - a trusted folder);
    tokenizer files over ``max_tokenizer_bytes`` are refused unread (None: no limit); the
    tokenizer must know some words of a probe sentence and stay within the model's
    embedding table. Messages name the folder by its last name (or ``source``), never by
    its path on this machine."""
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    folder = Path(folder)
    name = source or folder.name
    cfg_path = folder / "config.json"
    if not cfg_path.is_file():
        raise CheckpointNotFound(
            f"{name} has no config.json, so it is not a transformers checkpoint.",
            "Point to the folder that save_pretrained() wrote.",
        )
    try:
        size = cfg_path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise UnsafeCheckpoint(
                f"{name}'s config.json is {size:,} bytes, far more than a config needs.",
                "Re-save the checkpoint with transformers' save_pretrained().",
            )
        raw = json.loads(cfg_path.read_text(encoding="utf-8"))
    except RecursionError:
        raise BrokenCheckpoint(
            f"config.json in {name} is nested too deeply to be a config.", "Re-save the checkpoint."
        ) from None
    except (OSError, ValueError) as exc:
        raise BrokenCheckpoint(
            f"config.json in {name} is not valid JSON ({_short(exc, folder, name)}).", "Re-save the checkpoint."
        ) from exc
    if not isinstance(raw, dict):
        raise BrokenCheckpoint(f"config.json in {name} is not a JSON object.", "Re-save the checkpoint.")
    check_config(raw)
    check_config_sizes(raw, where=f"config.json ({name})")
    check_architectures(raw.get("architectures") or [])
    tokenizer_files = {p.name: p.stat().st_size for p in folder.iterdir() if p.name in TOKENIZER_FILES and p.is_file()}
    check_tokenizer_files(tokenizer_files, max_tokenizer_bytes, name)
    stored = stored_parameters(folder)
    if stored is None:
        raise UnsafeCheckpoint(
            f"{name} has no .safetensors weights (pickled .bin files can run code).",
            "Convert the weights with save_pretrained(safe_serialization=True).",
        )
    implied = implied_parameters(raw, name) if sizing is None else bounded_implied_parameters(raw, name, sizing)
    check_implied_parameters(implied, stored, max_parameters, name)
    try:
        config = AutoConfig.from_pretrained(folder, trust_remote_code=False)
    except ExplainError:
        raise
    except (ValueError, KeyError, OSError) as exc:
        raise UnsupportedModel(
            f"transformers cannot read this config ({_short(exc, folder, name)}).",
            "Use a checkpoint of an architecture transformers supports.",
        ) from exc
    check_architectures(getattr(config, "architectures", None) or [])
    try:
        tokenizer = AutoTokenizer.from_pretrained(folder, trust_remote_code=False, use_fast=True)
    except ExplainError:
        raise
    except BaseException as exc:  # Rust panics arrive as BaseException subclasses
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenCheckpoint(
            f"{name}'s tokenizer files could not be loaded ({_short(exc, folder, name)}).",
            "Check tokenizer.json / tokenizer_config.json in the checkpoint.",
        ) from exc
    check_tokenizer(tokenizer, name)
    model = _load_model(AutoModelForSequenceClassification, folder, config, name)
    check_vocabulary(_largest_id(tokenizer), model.get_input_embeddings().num_embeddings, name)
    try:
        clf = Classifier.from_objects(
            model, tokenizer, source=source or str(folder), revision=revision, device=device, owned=True
        )
        clf.tokenizer_bytes = TOKENIZER_MEMORY_FACTOR * sum(tokenizer_files.values())
        return clf
    except ExplainError:
        raise
    except BaseException as exc:  # a tokenizer that loads but cannot encode (or panics doing so)
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenCheckpoint(
            f"{name} loaded but fails on a probe sentence ({_short(exc, folder, name)}).",
            "Its tokenizer files or config are broken or inconsistent; re-save it.",
        ) from exc


def check_tokenizer(tokenizer, name: str = "The checkpoint") -> None:
    """Refuse a tokenizer without a usable vocabulary: fewer than MIN_VOCABULARY tokens,
    or one that reads every piece of the probe sentence as the unknown token (it would
    turn any text into [UNK]s and the model's answer would be about nothing)."""
    try:
        n_vocab = len(tokenizer)
        ids = tokenizer(PROBE, add_special_tokens=False)["input_ids"]
    except BaseException as exc:  # Rust panics arrive as BaseException subclasses
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise BrokenCheckpoint(
            f"{name}'s tokenizer fails on a probe sentence ({_short(exc)}).",
            "Check tokenizer.json / tokenizer_config.json in the checkpoint.",
        ) from exc
    fix = "Check tokenizer.json / vocab files in the checkpoint: they must hold the vocabulary the model was trained with."
    if n_vocab < MIN_VOCABULARY:
        raise BrokenCheckpoint(f"{name}'s tokenizer has a vocabulary of only {n_vocab} token(s).", fix)
    unk = getattr(tokenizer, "unk_token_id", None)
    if not ids or all(i == unk for i in ids):
        raise BrokenCheckpoint(
            f"{name}'s tokenizer reads every word of a probe sentence as the unknown token "
            f"{getattr(tokenizer, 'unk_token', None)!r}, so every text would look the same to "
            "the model.",
            fix,
        )


def _largest_id(tokenizer) -> int:
    """The largest token id the tokenizer can produce (added tokens included)."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is not None:
        vocab = backend.get_vocab(with_added_tokens=True)
    else:
        vocab = tokenizer.get_vocab()
    return max(vocab.values(), default=-1)


def _load_model(auto_cls, folder: Path, config, name: str):
    kwargs = dict(trust_remote_code=False, use_safetensors=True, dtype=torch.float32, output_loading_info=True)
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
        text = _short(last, folder, name)
        if "Unrecognized configuration" in text or "model type" in text:
            raise NotAClassifier(
                f"transformers has no sequence-classification model for this config ({text}).",
                "Use a checkpoint with a …ForSequenceClassification architecture.",
            ) from last
        raise BrokenCheckpoint(
            f"{name}'s weights could not be loaded ({text}).",
            "The safetensors file may be corrupt or not match config.json; re-save it.",
        ) from last
    missing = list(info.get("missing_keys") or [])
    mismatched = list(info.get("mismatched_keys") or [])
    if mismatched:
        raise BrokenCheckpoint(
            f"{name}'s weights do not match the config in shape: {', '.join(map(str, mismatched[:3]))}.",
            "Re-save the checkpoint so config.json and the weights agree.",
        )
    if missing:
        prefix = getattr(model, "base_model_prefix", "") + "."
        head = [k for k in missing if not k.startswith(prefix)]
        if head:
            raise NotAClassifier(
                f"{name} has no trained classification head (missing: {', '.join(head[:4])}). "
                "Loading it would attach a randomly initialised head, so its predictions and "
                "explanations would be noise.",
                "Use a checkpoint fine-tuned for sequence classification.",
            )
        raise BrokenCheckpoint(
            f"{name}'s weights are missing for: {', '.join(missing[:4])}.", "The checkpoint is incomplete; re-save it."
        )
    return model


def _short(exc: Optional[BaseException], folder: Optional[Path] = None, name: str = "", limit: int = 300) -> str:
    """A library's exception in one line, the folder's path on this machine replaced by ``name``."""
    text = f"{type(exc).__name__}: {exc}" if exc is not None else "unknown error"
    if folder is not None:
        for where in sorted({str(folder), str(folder.resolve()), str(folder.absolute())}, key=len, reverse=True):
            text = text.replace(where, name or folder.name)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"
