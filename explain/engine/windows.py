"""A text (or a text pair) -> model-sized windows, each tokenized as the model would see it.

A text that fits the model is one window (tokenized once). A longer one is cut on the
whole text's token boundaries into windows of at most the model's length, overlapping
by about a quarter (at most 64 tokens), so every token is explained with context on
both sides. A pair is tokenized as the model was trained, ``tokenizer(text, text_pair)``;
a pair too long for the model is windowed over the segment with more tokens, each window
keeping the whole other segment. Nothing is truncated: the windows cover every character. How
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
    """One window: segment ``windowed``'s ``[start:end]`` (with the whole other segment,
    for a pair) tokenized with the model's special tokens."""

    start: int
    end: int
    inputs: dict  # tokenizer outputs (batch 1) on the model's device
    offsets: list  # (start, end) per token in its own segment's full string
    special: torch.Tensor  # (1, n) bool
    segments: list  # per token: 0 (text), 1 (text pair), None (special tokens)
    windowed: int = 0  # the segment the window cuts (the other one is whole)

    def attributed(self, segments=(0, 1)) -> torch.Tensor:
        """(1, n) bool: the positions moved along the path (tokens of these segments)."""
        mask = [s is not None and s in segments for s in self.segments]
        return torch.tensor([mask], dtype=torch.bool, device=self.special.device) & ~self.special


def tokenize(clf, text: str, start: int, end: int, pair: Optional[str] = None, windowed: int = 0) -> Piece:
    """Tokenize ``text[start:end]`` (or, with ``pair``, the pair with segment ``windowed``
    sliced to ``[start:end]``) exactly as the tokenizer would, with offsets."""
    if pair is None:
        args = (text[start:end],)
    else:
        args = (text[start:end], pair) if windowed == 0 else (text, pair[start:end])
    enc = clf.tokenizer(
        *args, return_tensors="pt", return_offsets_mapping=True, return_special_tokens_mask=True, truncation=False
    )
    segments = list(enc.sequence_ids(0))
    offsets = []
    for (s, e), seg in zip(enc.pop("offset_mapping")[0].tolist(), segments):
        shift = start if seg == windowed else 0
        offsets.append((int(s) + shift, int(e) + shift))
    special = enc.pop("special_tokens_mask").bool().to(clf.device)
    segments = [None if bool(sp) else seg for seg, sp in zip(segments, special[0].tolist())]
    inputs = {k: v.to(clf.device) for k, v in enc.items()}
    return Piece(start, end, inputs, offsets, special, segments, windowed)


def split(clf, text: str, max_tokens: Optional[int] = None, pair: Optional[str] = None) -> list:
    """The text's (or pair's) windows, tokenized; one window when it fits ``max_tokens``
    (default: the model's own limit)."""
    limit = window_limit(clf, max_tokens)
    whole = tokenize(clf, text, 0, len(text), pair)
    if whole.inputs["input_ids"].shape[1] <= limit:
        return [whole]
    if pair is None:
        return [tokenize(clf, text, s, e) for s, e in spans(clf, text, limit)]
    # The segment with more tokens is cut (not the longer in characters: a short but
    # token-dense segment - Chinese, emoji, code - would leave no room for the other).
    counts = [len(clf.tokenizer(t, add_special_tokens=False, truncation=False)["input_ids"]) for t in (text, pair)]
    windowed = 0 if counts[0] >= counts[1] else 1
    long = text if windowed == 0 else pair
    room = limit - counts[1 - windowed]
    extra = clf.tokenizer.num_special_tokens_to_add(pair=True)
    if room - extra < MIN_WINDOW:
        which = "text" if windowed == 1 else "text pair"
        raise InvalidInput(
            f"The {which} alone leaves less than {MIN_WINDOW} of the model's {limit} tokens for the "
            "other text, so the pair cannot be cut into windows the model accepts.",
            f"Shorten the {which}.",
        )
    return [
        tokenize(clf, text, s, e, pair, windowed)
        for s, e in spans(
            clf, long, room, extra=extra, measure=lambda s, e: _pair_length(clf, text, pair, windowed, s, e), limit=limit
        )
    ]


def _pair_length(clf, text: str, pair: str, windowed: int, start: int, end: int) -> int:
    args = (text[start:end], pair) if windowed == 0 else (text, pair[start:end])
    return len(clf.tokenizer(*args, truncation=False)["input_ids"])


def window_limit(clf, max_tokens: Optional[int] = None) -> int:
    limit = clf.max_length if max_tokens is None else min(clf.max_length, int(max_tokens))
    extra = clf.memo.get("special_tokens_alone")
    if extra is None:  # the tokenizer encodes an empty text to count them: once per model
        extra = clf.memo["special_tokens_alone"] = clf.tokenizer.num_special_tokens_to_add(pair=False)
    if limit < extra + MIN_WINDOW:
        raise InvalidInput(
            f"A window of {limit} tokens leaves too little room for text next to the model's {extra} special tokens.",
            f"Use max_tokens of at least {extra + MIN_WINDOW}.",
        )
    return limit


def spans(clf, text: str, room: int, extra: Optional[int] = None, measure=None, limit: Optional[int] = None) -> list:
    """Character spans of overlapping windows of ``text`` whose tokenization (``measure``,
    default: the slice alone with its special tokens) is at most ``limit`` (default:
    ``room``) tokens; ``room`` - ``extra`` is the first guess at the text tokens per window."""
    tok = clf.tokenizer
    extra = tok.num_special_tokens_to_add(pair=False) if extra is None else extra
    limit = room if limit is None else limit
    measure = measure or (lambda s, e: len(tok(text[s:e], truncation=False)["input_ids"]))
    enc = tok(text, add_special_tokens=False, return_offsets_mapping=True, truncation=False)
    offsets = [tuple(o) for o in enc["offset_mapping"]]
    slack = 2  # a slice can tokenize a little longer than its share of the whole text
    while True:
        size = max(MIN_WINDOW, room - extra - slack)
        out = _cut(offsets, len(text), size, min(64, size // 4))
        longest = max(measure(s, e) for s, e in out)
        if longest <= limit:
            return out
        if size == MIN_WINDOW:
            raise InvalidInput(
                "This text cannot be cut into windows the model accepts (a slice of it "
                f"tokenizes to {longest} tokens, more than the model's {limit}).",
                "Split the text into shorter parts yourself.",
            )
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


def ownership(bounds: list, length: Optional[int] = None) -> list:
    """(owned_start, owned_end) per window: up to the middle of each overlap."""
    if len(bounds) == 1:
        return [(0, bounds[0][1] if length is None else length)]
    out = []
    for k, (s, e) in enumerate(bounds):
        lo = 0 if k == 0 else (s + bounds[k - 1][1]) // 2
        hi = bounds[-1][1] if k == len(bounds) - 1 else (bounds[k + 1][0] + e) // 2
        out.append((lo, hi))
    return out
