"""A model and its tokenizer, made ready to explain: eval mode, a pad id for batched
path steps, the word-embedding call sites, the head kind, label names and the longest
input the model accepts. Built from objects in memory; reading checkpoints from disk
or the Hub is ``explain.checkpoints``' job."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Optional, Union

import torch

from ..errors import NotAClassifier, UnsupportedModel
from ..result import HeadKind
from .device import choose_device
from .heads import head_kind, label_names
from .sites import EmbeddingSites, find_sites

MAX_POSITIONS = 512
# RoBERTa-like models start positions at pad + 1, so they accept pad + 1 fewer tokens.
_PAD_OFFSET_TYPES = {
    "roberta",
    "xlm-roberta",
    "camembert",
    "longformer",
    "bart",
    "mbart",
    "data2vec-text",
    "xmod",
    "roberta-prelayernorm",
    "ibert",
    "markuplm",
    "mpnet",
    "esm",
}


# Texts a converted tokenizer must split exactly as the slow one does (several scripts,
# accents, digits, punctuation, an emoji, odd spacing).
_TWIN_PROBES = (
    "The film wasn't good - 42 naïve cafés, @bob #win 3.14!",
    "Der Film war  langweilig; très émouvant.",
    "東京は雨でした 🙂 ok",
    "UPPER lower MiXeD   spaces\tand\nlines",
)


def fast_twin(tokenizer) -> Optional[Any]:
    """A slow (Python) tokenizer's fast twin: transformers' own converter for its class,
    kept only when it gives the same ids and special-token marks on probe texts, alone
    and as pairs (character offsets need a fast tokenizer, and it runs ~2-3x quicker).
    None when there is no converter or the twin differs."""
    try:
        from transformers import PreTrainedTokenizerFast
        from transformers.convert_slow_tokenizer import SLOW_TO_FAST_CONVERTERS

        names = [c.__name__.removesuffix("Legacy") for c in type(tokenizer).__mro__]
        converter = next((SLOW_TO_FAST_CONVERTERS[n] for n in names if n in SLOW_TO_FAST_CONVERTERS), None)
        if converter is None:
            return None
        twin = PreTrainedTokenizerFast(
            tokenizer_object=converter(tokenizer).converted(),
            **tokenizer.special_tokens_map,
            model_max_length=tokenizer.model_max_length,
            padding_side=tokenizer.padding_side,
            model_input_names=list(tokenizer.model_input_names),
        )
        for text in _TWIN_PROBES:
            for args in ((text,), (text, _TWIN_PROBES[0])):
                a = tokenizer(*args, return_special_tokens_mask=True)
                b = twin(*args, return_special_tokens_mask=True)
                if any(list(a[k]) != list(b.get(k, ())) for k in a):
                    return None
        return twin
    except Exception:  # noqa: BLE001 - any converter failure means: no twin (the caller refuses clearly)
        return None


@dataclass
class Classifier:
    """A loaded sequence classifier and everything the explainer needs to know about it."""

    model: Any
    tokenizer: Any
    source: str
    revision: Optional[str]
    labels: list
    head: HeadKind
    sites: EmbeddingSites
    max_length: int
    device: torch.device
    n_parameters: int
    # What its tokenizer takes in memory, estimated by its loader (0: not known): the model
    # cache weighs a classifier in parameter bytes plus this.
    tokenizer_bytes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    # Per-classifier memos (the reference token, the result-cache identity), never compared.
    memo: dict = field(default_factory=dict, repr=False, compare=False)

    @property
    def checkpoint(self) -> dict:
        return {
            "source": self.source,
            "revision": self.revision,
            "model_type": getattr(self.model.config, "model_type", None),
        }

    @property
    def nbytes(self) -> int:
        """Memory it holds: parameter bytes plus its tokenizer's (``tokenizer_bytes``)."""
        return sum(p.numel() * p.element_size() for p in self.parameters()) + int(self.tokenizer_bytes)

    def parameters(self) -> tuple:
        """The model's parameters, listed once (walking the modules costs ~1 ms per call)."""
        params = self.memo.get("parameters")
        if params is None:
            params = self.memo["parameters"] = tuple(self.model.parameters())
        return params

    def padder(self) -> Optional[Callable[[list], dict]]:
        """A function joining tokenizer outputs of different lengths into one batch (right
        padding, attention mask 0), when this model gives every sequence the same outputs
        padded as alone - checked once on two probe sentences; None otherwise (then only
        sequences of equal length share a pass)."""
        if "padder" not in self.memo:
            self.memo["padder"] = self._make_padder()
        return self.memo["padder"]

    def _make_padder(self) -> Optional[Callable[[list], dict]]:
        tok = self.tokenizer
        sites = self.sites.sites
        if (
            len(sites) != 1
            or sites[0].shift
            or sites[0].seq_first
            or getattr(tok, "padding_side", "right") != "right"
            or tok.pad_token_id is None
            or "attention_mask" not in getattr(tok, "model_input_names", ())
        ):
            return None
        fill = {"input_ids": tok.pad_token_id, "attention_mask": 0, "token_type_ids": getattr(tok, "pad_token_type_id", 0)}

        def pad(encodings: list) -> dict:
            width = max(int(e["input_ids"].shape[1]) for e in encodings)
            out = {}
            for key in encodings[0]:
                value = fill.get(key, 0)
                out[key] = torch.cat(
                    [torch.nn.functional.pad(e[key], (0, width - e[key].shape[1]), value=value) for e in encodings]
                )
            return out

        def encode(text: str) -> dict:
            return {k: v.to(self.device) for k, v in tok(text, return_tensors="pt").items()}

        short, long = encode("a short probe"), encode("a longer probe sentence, padded next to the short one")
        with torch.no_grad():
            alone = self.model(**short).logits.float()
            both = self.model(**pad([short, long])).logits.float()
        scale = float(alone.abs().max()) + 1.0
        return pad if float((both[:1] - alone).abs().max()) <= 1e-5 * scale else None

    @contextlib.contextmanager
    def frozen(self):
        """Within: no parameter requires a gradient (a caller's model may be training; the
        explainer only needs gradients at the embeddings, and a backward pass that also
        fills parameter gradients costs ~7% more). Restored after."""
        thawed = [p for p in self.parameters() if p.requires_grad]
        for p in thawed:
            p.requires_grad_(False)
        try:
            yield self
        finally:
            for p in thawed:
                p.requires_grad_(True)

    @classmethod
    def from_objects(
        cls,
        model,
        tokenizer,
        *,
        source: Optional[str] = None,
        revision: Optional[str] = None,
        device: Union[str, torch.device, None] = None,
        owned: bool = False,
    ) -> Classifier:
        """Wrap a model and tokenizer already in memory (e.g. one just trained). The model
        is put in eval mode; ``owned`` (models this package loaded) also freezes it."""
        if not getattr(tokenizer, "is_fast", False):
            twin = fast_twin(tokenizer)
            if twin is None:
                raise UnsupportedModel(
                    "The tokenizer is a slow (Python) tokenizer without character offsets, and "
                    "transformers has no converter that reproduces it.",
                    "Load it with AutoTokenizer.from_pretrained(..., use_fast=True), or save the "
                    "checkpoint with a tokenizer.json.",
                )
            tokenizer = twin
        config = model.config
        if not hasattr(model, "get_input_embeddings") or getattr(config, "num_labels", None) is None:
            raise NotAClassifier(
                "This model is not a sequence classifier.", "Use an AutoModelForSequenceClassification model."
            )
        if device is None and not owned:  # a model the caller holds stays where it is
            dev = next(model.parameters()).device
        else:
            dev = choose_device(device)
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
                raise UnsupportedModel(
                    "The model has no pad or end-of-sequence token id.", "Set model.config.pad_token_id before explaining."
                )
            config.pad_token_id = pad
        if tokenizer.pad_token_id is None and config.pad_token_id is not None:
            tokenizer.pad_token_id = config.pad_token_id
        limits = [MAX_POSITIONS]
        tml = getattr(tokenizer, "model_max_length", None)
        if isinstance(tml, int) and 0 < tml < 10**8:
            limits.append(tml)
        mpe = getattr(config, "max_position_embeddings", None)
        if isinstance(mpe, int) and mpe > 0:
            offset = (config.pad_token_id + 1) if getattr(config, "model_type", "") in _PAD_OFFSET_TYPES else 0
            limits.append(mpe - offset)
        sample = tokenizer("a probe sentence for the embedding layer", return_tensors="pt")
        sample = {k: v.to(dev) for k, v in sample.items()}
        sites = find_sites(model, sample)
        return cls(
            model=model,
            tokenizer=tokenizer,
            source=source or getattr(config, "_name_or_path", "") or "in-memory",
            revision=revision,
            labels=label_names(config),
            head=head_kind(config),
            sites=sites,
            max_length=min(limits),
            device=dev,
            n_parameters=sum(p.numel() for p in model.parameters()),
        )
