"""Checkpoint (Hub ID, local folder, or loaded model) -> Classifier, checked and cached.

Loading is always float32, safetensors only, ``trust_remote_code=False``. A config that
would pull code (``auto_map``, attention-implementation keys) is refused before
transformers sees it. A checkpoint whose classification head is not in its weights is
refused: it would explain a random head. Loaded classifiers live in a small LRU cache
bounded in count and bytes.
"""

from __future__ import annotations

import collections
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional, Union

import torch

from . import errors
from .errors import (BrokenCheckpoint, CheckpointNotFound, ExplainError, NotAClassifier,
                     UnsafeCheckpoint, UnsupportedModel)
from .heads import head_kind, label_names
from .layers import EmbeddingSites, find_sites

CODE_KEYS = ("auto_map", "trust_remote_code", "custom_pipelines")
MAX_POSITIONS = 512


@dataclass
class Classifier:
    """A loaded sequence classifier and everything the explainer needs to know about it."""

    model: Any
    tokenizer: Any
    source: str
    revision: Optional[str]
    labels: list
    head: str
    sites: EmbeddingSites
    max_length: int
    device: torch.device
    n_parameters: int
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def checkpoint(self) -> dict:
        return {"source": self.source, "revision": self.revision,
                "model_type": getattr(self.model.config, "model_type", None)}

    @property
    def nbytes(self) -> int:
        return sum(p.numel() * p.element_size() for p in self.model.parameters())

    @classmethod
    def from_objects(cls, model, tokenizer, *, source: Optional[str] = None,
                     revision: Optional[str] = None, device: Union[str, torch.device, None] = None,
                     owned: bool = False) -> "Classifier":
        """Wrap a model and tokenizer already in memory (e.g. one just trained). The model
        is put in eval mode; ``owned`` (models this package loaded) also freezes it."""
        if not getattr(tokenizer, "is_fast", False):
            raise UnsupportedModel("The tokenizer is a slow (Python) tokenizer without character offsets.",
                                   "Load it with AutoTokenizer.from_pretrained(..., use_fast=True).")
        config = model.config
        if not hasattr(model, "get_input_embeddings") or getattr(config, "num_labels", None) is None:
            raise NotAClassifier("This model is not a sequence classifier.",
                                 "Use an AutoModelForSequenceClassification model.")
        if device is None and not owned:  # a model the caller holds stays where it is
            dev = next(model.parameters()).device
        else:
            dev = _device(device)
        model.to(dev)
        model.eval()  # dropout off: explanations must be deterministic
        if owned:  # only freeze models we loaded; a caller's model may still be trained
            for p in model.parameters():
                p.requires_grad_(False)
        if getattr(config, "pad_token_id", None) is None:
            # Decoder-only classifiers find the last real token via the pad id; batched
            # path steps need one. eos is what the reference implementations use.
            pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else tokenizer.eos_token_id
            if pad is None:
                pad = getattr(config, "eos_token_id", None)
                pad = pad[0] if isinstance(pad, list) else pad
            if pad is None:
                raise UnsupportedModel("The model has no pad or end-of-sequence token id.",
                                       "Set model.config.pad_token_id before explaining.")
            config.pad_token_id = pad
        if tokenizer.pad_token_id is None and config.pad_token_id is not None:
            tokenizer.pad_token_id = config.pad_token_id
        limits = [MAX_POSITIONS]
        tml = getattr(tokenizer, "model_max_length", None)
        if isinstance(tml, int) and 0 < tml < 10**8:
            limits.append(tml)
        mpe = getattr(config, "max_position_embeddings", None)
        if isinstance(mpe, int) and mpe > 0:
            # RoBERTa-like models start positions at pad + 1.
            offset = (config.pad_token_id + 1) if getattr(config, "model_type", "") in _PAD_OFFSET_TYPES else 0
            limits.append(mpe - offset)
        sample = tokenizer("a probe sentence for the embedding layer", return_tensors="pt")
        sample = {k: v.to(dev) for k, v in sample.items()}
        sites = find_sites(model, sample)
        return cls(model=model, tokenizer=tokenizer, source=source or getattr(config, "_name_or_path", "") or "in-memory",
                   revision=revision, labels=label_names(config), head=head_kind(config), sites=sites,
                   max_length=min(limits), device=dev,
                   n_parameters=sum(p.numel() for p in model.parameters()))


_PAD_OFFSET_TYPES = {"roberta", "xlm-roberta", "camembert", "longformer", "bart", "mbart", "data2vec-text",
                     "xmod", "roberta-prelayernorm", "ibert", "markuplm", "mpnet", "esm"}


def _device(device) -> torch.device:
    if device is None or device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def check_config(config: dict, where: str = "config.json") -> None:
    """Refuse configs that would pull or run code from the checkpoint."""
    bad = sorted(_code_keys(config))
    if bad:
        raise UnsafeCheckpoint(f"The checkpoint's {where} asks to run its own code ({', '.join(bad)}).",
                               "This explainer never runs code from a checkpoint; use a model that works "
                               "with the standard transformers classes.")


def check_architectures(archs: list) -> None:
    """Refuse a config whose architectures are not sequence classifiers (loading one as
    a classifier would attach a random head)."""
    archs = [str(a) for a in archs]
    if archs and not any(a.endswith("ForSequenceClassification") for a in archs):
        raise NotAClassifier(
            f"This checkpoint is a {', '.join(archs)}, not a sequence classifier; loading it as one would "
            "attach a randomly initialised head, so its predictions and explanations would be noise.",
            "Use a checkpoint fine-tuned for text classification (…ForSequenceClassification).")


def _code_keys(value: Any, prefix: str = "") -> set:
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if key in CODE_KEYS or "attn_implementation" in key:
                found.add(prefix + key)
            found |= _code_keys(v, prefix + key + ".")
    return found


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


class ClassifierCache:
    """LRU cache of loaded classifiers, bounded in entries and parameter bytes."""

    def __init__(self, max_entries: int = 3, max_bytes: int = 3 * 2**30) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._items: "collections.OrderedDict[tuple, Classifier]" = collections.OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> Optional[Classifier]:
        with self._lock:
            clf = self._items.get(key)
            if clf is not None:
                self._items.move_to_end(key)
            return clf

    def put(self, key: tuple, clf: Classifier) -> None:
        with self._lock:
            self._items[key] = clf
            self._items.move_to_end(key)
            while len(self._items) > 1 and (len(self._items) > self.max_entries or
                                            sum(c.nbytes for c in self._items.values()) > self.max_bytes):
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


CACHE = ClassifierCache(max_entries=int(os.environ.get("EXPLAIN_CACHE_MODELS", "3")),
                        max_bytes=int(float(os.environ.get("EXPLAIN_CACHE_GB", "3")) * 2**30))


def load_classifier(source: Union[str, Path, Classifier, tuple], *, revision: Optional[str] = None,
                    device=None, allow_local: bool = True, hub_policy=None) -> Classifier:
    """A Hub ID (``org/name`` or ``org/name@revision``), a local folder, a Classifier, or
    ``(model, tokenizer)`` -> a ready Classifier. Hub IDs and folders are cached."""
    if isinstance(source, Classifier):
        return source
    if isinstance(source, tuple) and len(source) == 2:
        return Classifier.from_objects(*source, device=device)
    if not isinstance(source, (str, Path)) or not str(source).strip():
        raise errors.InvalidInput("No checkpoint was given.", "Give a Hub ID like 'org/name' or a local folder.")
    text = str(source).strip()
    key = (text, revision, str(_device(device)), allow_local)
    cached = CACHE.get(key)
    if cached is not None:
        return cached
    path_like = text.startswith((".", "/", "~")) or os.sep in text.replace("/", "")
    if path_like and not allow_local:
        raise errors.InvalidInput(f"{text!r} is a path on the server; this app loads Hub IDs only.",
                                  "Type a Hub model ID like 'org/name'.")
    # Without allow_local a visitor's string never touches the disk (not even to ask
    # whether such a folder exists): it is a Hub ID, checked by explain.hub.
    local = Path(text).expanduser()
    if allow_local and (path_like or local.is_dir()):
        if not local.exists():
            raise CheckpointNotFound(f"There is no folder {text!r}.", "Check the path, or give a Hub ID like 'org/name'.")
        clf = load_folder(local, device=device)
    else:
        from .hub import load_hub_classifier

        clf = load_hub_classifier(text, revision=revision, policy=hub_policy, device=device)
    CACHE.put(key, clf)
    return clf
