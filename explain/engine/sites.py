"""Find where a model's word embeddings are really called, without knowing its architecture.

Most models call ``get_input_embeddings()`` once per forward pass, batch-first: that
module is the attribution layer. Others need care, found by probing one forward pass:

* encoder-decoder models (BART, T5) never call the shared table, or call it twice; each
  call site (encoder, decoder ``embed_tokens``) gets its own thin wrapper and is a layer;
* sequence-first models (XLNet) feed ``(seq, batch)`` ids; the wrapper transposes so the
  attributed tensor is batch-first;
* decoder inputs are the ids shifted right; each site records that shift so its scores
  land on the right token. Anything else is refused with a clear message.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Optional

import torch
from torch import nn

from ..errors import UnsupportedModel


class _CallSite(nn.Module):
    """Stands in for an embedding at one attribute path; ``tap`` is the attributed layer."""

    def __init__(self, inner: nn.Module, seq_first: bool) -> None:
        super().__init__()
        self.inner = inner
        self.tap = nn.Identity()
        self.seq_first = seq_first
        self.calls = 0

    def forward(self, ids: torch.Tensor, *args, **kwargs):
        self.calls += 1
        if self.seq_first:
            return self.tap(self.inner(ids.transpose(0, 1), *args, **kwargs)).transpose(0, 1)
        return self.tap(self.inner(ids, *args, **kwargs))


def call_ids(args: tuple, kwargs: dict, seq_first: bool = False):
    """The ids an embedding is called with (positional or keyword), batch-first."""
    ids = args[0] if args else kwargs.get("input_ids", kwargs.get("input"))
    if isinstance(ids, torch.Tensor) and seq_first:
        return ids.transpose(0, 1)
    return ids


@dataclass
class Site:
    """One call of the word embeddings: ``layer``'s output is (batch, positions, hidden);
    position j holds input token j - shift."""

    path: str
    embedding: nn.Module  # computes the word embedding from (batch-first) ids
    layer: nn.Module  # the module whose output is attributed
    caller: nn.Module  # the module the model calls with the ids
    shift: int = 0
    seq_first: bool = False

    def span(self, n_tokens: int, n_positions: int) -> tuple:
        """(lo, hi): the site positions that hold input tokens 0 .. hi - lo - 1."""
        return self.shift, min(n_positions, n_tokens + self.shift)

    def overlay(self, at_site: torch.Tensor, per_token: torch.Tensor) -> torch.Tensor:
        """A copy of ``at_site`` (batch, positions, ...) with the positions of the input
        tokens replaced by ``per_token`` (batch, tokens, ...), realigned for the shift."""
        out = at_site.clone()
        lo, hi = self.span(per_token.shape[1], at_site.shape[1])
        out[:, lo:hi] = per_token[:, : hi - lo].to(out.device)
        return out

    def to_tokens(self, per_position: torch.Tensor, n_tokens: int) -> torch.Tensor:
        """Per-position values (positions,) -> per input token (n_tokens,), zeros where
        the site never saw a token."""
        out = torch.zeros(n_tokens, dtype=per_position.dtype)
        lo, hi = self.span(n_tokens, per_position.shape[0])
        out[: hi - lo] = per_position[lo:hi]
        return out


@dataclass
class EmbeddingSites:
    sites: list
    _installs: list = field(default_factory=list)  # (parent, name, original, wrapper)

    @contextlib.contextmanager
    def installed(self) -> Iterator[EmbeddingSites]:
        """Put the call-site wrappers in place for the duration (a no-op for most models)."""
        for parent, name, _, wrapper in self._installs:
            setattr(parent, name, wrapper)
        try:
            yield self
        finally:
            for parent, name, original, _ in self._installs:
                setattr(parent, name, original)

    @property
    def describe(self) -> str:
        return ", ".join(
            f"{s.path}{' (shifted +%d)' % s.shift if s.shift else ''}{' (sequence-first)' if s.seq_first else ''}"
            for s in self.sites
        )

    @property
    def weight(self) -> Optional[torch.Tensor]:
        return getattr(self.sites[0].embedding, "weight", None) if self.sites else None


def _capture_ids(store: list, seq_first: bool):
    def hook(module, args, kwargs):
        ids = call_ids(args, kwargs, seq_first)
        if isinstance(ids, torch.Tensor):
            store.append(ids)

    return hook


def find_sites(model: nn.Module, sample: dict) -> EmbeddingSites:
    """Probe one forward pass on ``sample`` (tokenizer output, batch 1) and return the
    places where word embeddings enter the model."""
    emb = model.get_input_embeddings() if hasattr(model, "get_input_embeddings") else None
    if emb is None:
        raise UnsupportedModel(
            "This model does not expose its word embeddings (get_input_embeddings() is empty).",
            "Use a transformers sequence classifier with a standard embedding layer.",
        )
    ids = sample["input_ids"]
    seen: list = []
    handle = emb.register_forward_pre_hook(_capture_ids(seen, False), with_kwargs=True)
    try:
        with torch.no_grad():
            model(**sample)
    finally:
        handle.remove()
    if len(seen) == 1:
        got = seen[0]
        if got.shape[0] == ids.shape[0]:  # batch-first: the simple, common case
            shift = _shift_of(got, ids, "word embeddings")
            return EmbeddingSites([Site(_path_of(model, emb), emb, emb, emb, shift)])
        if got.dim() == 2 and got.shape[1] == ids.shape[0]:  # (seq, batch): wrap and transpose
            candidates = [(p, n) for p, n in _attribute_paths(model, emb)]
            return _wrap(model, emb, candidates, sample, seq_first=True)
        raise UnsupportedModel(
            f"The word embeddings see ids of shape {tuple(got.shape)} for an input of "
            f"shape {tuple(ids.shape)}; cannot tell batch from sequence.",
            "This architecture is not supported; please report it.",
        )
    # Never called (BART: each stack has its own tied copy) or called more than once (T5):
    # attribute at each call site instead.
    candidates = [(p, n) for p, n in _attribute_paths(model, emb)]
    return _wrap(model, emb, candidates, sample, seq_first=False)


def _wrap(model, emb, candidates, sample, seq_first: bool) -> EmbeddingSites:
    ids = sample["input_ids"]
    installs = []
    for parent, name in candidates:
        original = getattr(parent, name)
        installs.append((parent, name, original, _CallSite(original, seq_first)))
    sites = EmbeddingSites([], installs)
    stores = []
    handles = []
    for *_, wrapper in installs:
        store: list = []
        stores.append(store)
        handles.append(wrapper.register_forward_pre_hook(_capture_ids(store, seq_first), with_kwargs=True))
    try:
        with sites.installed(), torch.no_grad():
            model(**sample)
    finally:
        for h in handles:
            h.remove()
    keep = []
    for (parent, name, original, wrapper), store in zip(installs, stores):
        if wrapper.calls == 0:
            continue
        if wrapper.calls > 1:
            raise UnsupportedModel(
                f"The word embeddings at {name} are called {wrapper.calls} times in one "
                "forward pass; attributions would be ambiguous.",
                "This architecture is not supported; please report it.",
            )
        shift = _shift_of(store[0], ids, name)
        path = _path_of(model, parent) + "." + name
        keep.append(
            ((parent, name, original, wrapper), Site(path.lstrip("."), original, wrapper.tap, wrapper, shift, seq_first))
        )
    if not keep:
        raise UnsupportedModel(
            "Could not find where this model uses its word embeddings.",
            "This architecture is not supported; please report it.",
        )
    for _, _, _, w in installs:
        w.calls = 0
    return EmbeddingSites([s for _, s in keep], [i for i, _ in keep])


def _attribute_paths(model: nn.Module, emb: nn.Module):
    """Every (parent, attribute) holding ``emb`` or an embedding tied to its weight."""
    weight = getattr(emb, "weight", None)
    out = []
    seen = set()
    for _, parent in model.named_modules(remove_duplicate=False):
        for name, child in parent._modules.items():
            if child is None:
                continue
            tied = weight is not None and getattr(child, "weight", None) is weight
            if (child is emb or tied) and (id(parent), name) not in seen:
                seen.add((id(parent), name))
                out.append((parent, name))
    return out


def _shift_of(site_ids: torch.Tensor, ids: torch.Tensor, where: str) -> int:
    """How far right the site's positions are from the input ids (0 or 1)."""
    n = ids.shape[1]
    for shift in (0, 1):
        m = min(n - shift, site_ids.shape[1] - shift)
        if m > 0 and torch.equal(site_ids[:, shift : shift + m], ids[:, :m]):
            return shift
    raise UnsupportedModel(
        f"The ids reaching {where} do not match the input ids.", "This architecture is not supported; please report it."
    )


def _path_of(model: nn.Module, module: nn.Module) -> str:
    for name, mod in model.named_modules():
        if mod is module:
            return name
    return "?"
