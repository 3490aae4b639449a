"""A text -> model-sized windows, each tokenized as the model would see it.

A text that fits the model is one window (tokenized once). A longer one is cut on the
whole text's token boundaries into windows of at most the model's length, overlapping
by about a quarter (at most 64 tokens), so every token is explained with context on
both sides. Nothing is truncated: the windows cover every character of the text. How
the windows' explanations combine into one is ``run``'s: a mean weighted by the stretch
each window stands for, up to the middles of its overlaps (``ownership``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import torch

from ..errors import InvalidInput

MIN_WINDOW = 8  # tokens of text per window, at the least


@dataclass
class Piece:
    """One window: ``text[start:end]`` tokenized with the model's special tokens."""

    start: int
    end: int
    inputs: dict  # tokenizer outputs (batch 1) on the model's device
    offsets: list  # (start, end) per token, relative to ``start``
    special: torch.Tensor  # (1, n) bool


def tokenize(clf, text: str, start: int, end: int) -> Piece:
    """Tokenize ``text[start:end]`` exactly as ``tokenizer(text)`` would, with offsets."""
    enc = clf.tokenizer(text[start:end], return_tensors="pt", return_offsets_mapping=True,
                        return_special_tokens_mask=True, truncation=False)
    offsets = [tuple(map(int, o)) for o in enc.pop("offset_mapping")[0].tolist()]
    special = enc.pop("special_tokens_mask").bool().to(clf.device)
    inputs = {k: v.to(clf.device) for k, v in enc.items()}
    return Piece(start, end, inputs, offsets, special)


def split(clf, text: str, max_tokens: Optional[int] = None) -> list:
    """The text's windows, tokenized; one window when it fits ``max_tokens`` (default:
    the model's own limit)."""
    limit = window_limit(clf, max_tokens)
    whole = tokenize(clf, text, 0, len(text))
    if whole.inputs["input_ids"].shape[1] <= limit:
        return [whole]
    return [tokenize(clf, text, s, e) for s, e in spans(clf, text, limit)]


def window_limit(clf, max_tokens: Optional[int] = None) -> int:
    limit = clf.max_length if max_tokens is None else min(clf.max_length, int(max_tokens))
    extra = clf.tokenizer.num_special_tokens_to_add(pair=False)
    if limit < extra + MIN_WINDOW:
        raise InvalidInput(f"A window of {limit} tokens leaves too little room for text next to the "
                           f"model's {extra} special tokens.", f"Use max_tokens of at least {extra + MIN_WINDOW}.")
    return limit


def spans(clf, text: str, limit: int) -> list:
    """Character spans of overlapping windows of at most ``limit`` tokens each."""
    tok = clf.tokenizer
    extra = tok.num_special_tokens_to_add(pair=False)
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    slack = 2  # a slice can tokenize a little longer than its share of the whole text
    while True:
        size = max(MIN_WINDOW, limit - extra - slack)
        out = _cut(offsets, len(text), size, min(64, size // 4))
        longest = max(len(tok(text[s:e], truncation=False)["input_ids"]) for s, e in out)
        if longest <= limit:
            return out
        if size == MIN_WINDOW:
            raise InvalidInput("This text cannot be cut into windows the model accepts (a slice of it "
                               f"tokenizes to {longest} tokens, more than the model's {limit}).",
                               "Split the text into shorter parts yourself.")
        slack += longest - limit + 2


def _cut(offsets: list, n_chars: int, size: int, overlap: int) -> list:
    out = []
    i = 0
    while True:
        j = min(len(offsets), i + size)
        s = offsets[i][0] if i > 0 else 0
        e = offsets[j - 1][1] if j < len(offsets) else n_chars
        out.append((s, e))
        if j >= len(offsets):
            return out
        i = j - overlap


def ownership(bounds: list) -> list:
    """(owned_start, owned_end) per window: up to the middle of each overlap."""
    if len(bounds) == 1:
        return [(0, bounds[0][1])]
    out = []
    for k, (s, e) in enumerate(bounds):
        lo = 0 if k == 0 else (s + bounds[k - 1][1]) // 2
        hi = bounds[-1][1] if k == len(bounds) - 1 else (bounds[k + 1][0] + e) // 2
        out.append((lo, hi))
    return out
