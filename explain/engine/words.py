"""Token scores -> word scores on the untouched text, via character offsets.

A word is a run of letters/digits (with inner apostrophes or hyphens) or one punctuation
mark; words that share a token are merged, so every token belongs to exactly one unit
and the word scores add up to the token scores."""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Sequence

from ..result import TokenScore, WordScore

_WORD = re.compile(r"\w+(?:['’\-]\w+)*|[^\w\s]", re.UNICODE)


def word_scores(text: str, tokens: Iterable[TokenScore]) -> tuple:
    """Signed sum of each word's token scores; units in text order."""
    spans = [[m.start(), m.end(), 0.0, 0] for m in _WORD.finditer(text)]
    starts = [s[0] for s in spans]
    content = [t for t in tokens if not t.special and t.start is not None]
    # Tokens with no visible characters (a bare space piece, an empty span) carry a score
    # too; it goes to the next word so that word scores still add up to token scores.
    blank = [t for t in content if not text[t.start:t.end].strip()]
    scored = sorted((t for t in content if text[t.start:t.end].strip()), key=lambda t: t.start)
    # Merge word spans overlapped by one token into a single unit.
    units: list[list] = []
    owner: dict[int, int] = {}  # word index -> unit index
    for tok in scored:
        hit = _overlapping(spans, starts, tok.start, tok.end)
        if not hit:  # a token made only of whitespace or odd characters: its own unit
            units.append([tok.start, tok.end, tok.score, 1])
            continue
        unit_ids = {owner[i] for i in hit if i in owner}
        if unit_ids:
            keep = min(unit_ids)
            for other in sorted(unit_ids - {keep}, reverse=True):
                _absorb(units[keep], units[other])
                units[other] = None  # type: ignore[call-overload]
                for k, v in list(owner.items()):
                    if v == other:
                        owner[k] = keep
        else:
            keep = len(units)
            units.append([spans[hit[0]][0], spans[hit[0]][1], 0.0, 0])
        for i in hit:
            owner[i] = keep
            units[keep][0] = min(units[keep][0], spans[i][0])
            units[keep][1] = max(units[keep][1], spans[i][1])
        units[keep][0] = min(units[keep][0], tok.start)
        units[keep][1] = max(units[keep][1], tok.end)
        units[keep][2] += tok.score
        units[keep][3] += 1
    live = sorted((u for u in units if u is not None), key=lambda u: u[0])
    merged: list[list] = []
    for u in live:  # units can only overlap if a token straddled two merged groups
        if merged and u[0] < merged[-1][1]:
            _absorb(merged[-1], u)
        else:
            merged.append(list(u))
    for tok in blank:
        if not merged:
            merged.append([tok.start, max(tok.end, tok.start), 0.0, 0])
        home = next((u for u in merged if u[0] >= tok.start), merged[-1])
        home[2] += tok.score
        home[3] += 1
    return tuple(WordScore(text[s:e], s, e, float(score), n) for s, e, score, n in merged)


def _absorb(into: list, other: list) -> None:
    into[0] = min(into[0], other[0])
    into[1] = max(into[1], other[1])
    into[2] += other[2]
    into[3] += other[3]


def _overlapping(spans: Sequence[list], starts: Sequence[int], start: int, end: int) -> list[int]:
    i = max(0, bisect.bisect_right(starts, start) - 1)
    hit = []
    while i < len(spans) and spans[i][0] < end:
        if spans[i][1] > start:
            hit.append(i)
        i += 1
    return hit
