"""Token scores -> word units on the untouched text, via character offsets.

A unit is, in order of preference:

* a word: letters, digits and combining marks of scripts written with spaces (Latin,
  Cyrillic, Greek, Arabic, Hebrew, Devanagari, Hangul, ...), with inner apostrophes or
  hyphens - so Hindi vowel signs and decomposed accents stay inside their word;
* in scripts written without spaces (Han, Hiragana, Katakana, Thai, Lao, Khmer,
  Myanmar) the model's own tokens: there is no word boundary to use without a
  segmenter, and a whole clause is too coarse to read;
* anything else one grapheme cluster (a punctuation mark, an emoji with its ZWJ
  sequence and modifiers).

Units that share a token are merged, so every token belongs to exactly one unit and the
unit scores add up to the token scores. A unit's span never starts or ends with
whitespace (byte-level and SentencePiece tokens carry the space before a word; their
score is unchanged). Invisible format characters standing on their own (a zero-width
space, a byte-order mark, a direction mark: Unicode category Cf outside a grapheme
cluster) are never a unit: like whitespace they separate units, and a token that holds
nothing else gives its score to the next unit. (A zero-width joiner inside an emoji
sequence, or a zero-width non-joiner inside a Persian word, is part of its cluster and
stays in its unit.) Visible characters no token covers (dropped by the normalizer) join
the unit they touch, or, standing alone, become a unit of their own with no tokens and
a zero score. A unit holding a token the tokenizer did not know (its unknown token,
e.g. ``[UNK]``) is marked ``unknown``: the model never saw the word itself."""

from __future__ import annotations

import bisect
from collections.abc import Iterable
from typing import Optional

import regex

from ..result import TokenScore, WordScore

# Scripts written without spaces between words (Script_Extensions, so the prolonged-sound
# mark and middle dot of Japanese count too).
_SPACELESS = r"\p{Han}\p{scx=Hiragana}\p{scx=Katakana}\p{Thai}\p{Lao}\p{Khmer}\p{Myanmar}"
_LETTER = rf"[[\p{{L}}\p{{N}}\p{{M}}\p{{Pc}}]--[{_SPACELESS}]]"
_CLUSTERS = rf"(?:(?={_LETTER})\X)+"  # grapheme clusters that start with such a letter
_UNIT = regex.compile(rf"(?V1){_CLUSTERS}(?:['’\-]{_CLUSTERS})*|(?![\s\p{{Cf}}])\X")
_VISIBLE = regex.compile(r"[^\s\p{Cf}]")


def unit_spans(text: str) -> list:
    """(start, end) of every candidate unit of ``text``, in order; together they cover
    every character exactly once except whitespace and standalone invisible format
    characters."""
    return [m.span() for m in _UNIT.finditer(text)]


def has_visible(text: str) -> bool:
    """Whether ``text`` holds a character that is neither whitespace nor an invisible
    format character (a text of only those has no word to score)."""
    return _VISIBLE.search(text) is not None


def word_scores(text: str, tokens: Iterable[TokenScore], unknown_id: Optional[int] = None) -> tuple:
    """Signed sum of each unit's token scores; units in text order. ``unknown_id``: the
    tokenizer's unknown token (units holding one are marked ``unknown``)."""
    spans = unit_spans(text)
    starts = [s for s, _ in spans]
    parent = list(range(len(spans)))  # union-find over candidate units joined by a token

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    score = [0.0] * len(spans)
    count = [0] * len(spans)
    unknown = [False] * len(spans)
    blank = []  # tokens with no visible character of their own
    for tok in tokens:
        if tok.special or tok.start is None:
            continue
        lo, hi = _trimmed(text, tok.start, tok.end)
        hit = _overlapping(spans, starts, lo, hi) if lo < hi else []
        if not hit:  # only whitespace or invisible format characters
            blank.append(tok)
            continue
        first = root(hit[0])
        for i in hit[1:]:
            parent[root(i)] = first
        score[first] += tok.score
        count[first] += 1
        unknown[first] |= unknown_id is not None and tok.token_id == unknown_id
    groups: dict[int, list] = {}
    for i in range(len(spans)):
        r = root(i)
        if r != i:
            score[r] += score[i]
            count[r] += count[i]
            unknown[r] |= unknown[i]
        groups.setdefault(r, []).append(i)
    units = sorted([spans[min(g)][0], spans[max(g)][1], score[r], count[r], unknown[r]] for r, g in groups.items())
    units = _attach_unseen(text, units)
    for tok in blank:  # its score goes to the next unit, so unit scores still add up
        if not units:
            break
        home = next((u for u in units if u[0] >= tok.start), units[-1])
        home[2] += tok.score
        home[3] += 1
    return tuple(WordScore(text[s:e], s, e, float(v), n, unknown=bool(k)) for s, e, v, n, k in units)


def _trimmed(text: str, start: int, end: int) -> tuple:
    """A token's span without the whitespace at its ends."""
    end = max(start, end)
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _overlapping(spans: list, starts: list, start: int, end: int) -> list:
    i = max(0, bisect.bisect_right(starts, start) - 1)
    hit = []
    while i < len(spans) and spans[i][0] < end:
        if spans[i][1] > start:
            hit.append(i)
        i += 1
    return hit


def _attach_unseen(text: str, units: list) -> list:
    """Units no token reached (count 0) join a neighbour they touch (no whitespace in
    between): the previous one first, else the next; alone, they stay as they are."""
    out: list = []
    pending = None  # an unseen unit waiting for the next unit it touches
    for u in units:
        if pending is not None:
            if pending[1] == u[0] and u[3] > 0:
                u = [pending[0], *u[1:]]
            else:
                out.append(pending)
            pending = None
        if u[3] == 0 and out and out[-1][1] == u[0] and out[-1][3] > 0:
            out[-1][1] = u[1]
            continue
        if u[3] == 0:
            pending = u
            continue
        out.append(u)
    if pending is not None:
        out.append(pending)
    return out
