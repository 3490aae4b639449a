"""How much the words did, and from where, in the units a reader sees: where the explained
label stands with every word hidden (the baseline) and where the text takes it, as
probabilities (a score for zero-shot, a share for a contrast, the value for regression);
whether that is too small to matter; how deep a colour may get for it; and near-ties.

The engine states what its quantity is (``Explanation.quantity``) and its value at the text
and at the baseline (``f_input``, ``f_baseline``); this module turns those into what is shown.
Stdlib only."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

from ..result import Explanation

NEGLIGIBLE = 0.01  # the words move the shown probability by less than one point: they barely matter
NEAR_TIE = 0.05  # the top two labels within five points
# The smallest score the colour scale may treat as "the strongest word": a word is coloured
# relative to max(strongest word, this), so tiny effects stay faint instead of deep. In
# log-odds, 0.2 moves a probability near 50% by about five points.
FLOORS = {
    "log-odds": 0.2,
    "log-ratio": 0.2,
    "log-score": 0.2,
    "logit": 0.2,
    "probability": 0.05,
    "probability difference": 0.05,
}
# How far one unit of the quantity moves the shown probability at most (d sigmoid / dx <= 1/4).
_SENSITIVITY = {"log-odds": 0.25, "log-ratio": 0.25, "log-score": 1.0, "probability": 1.0, "probability difference": 1.0}


def _sigmoid(x: float) -> float:
    return 1 / (1 + math.exp(-x)) if x >= 0 else math.exp(x) / (1 + math.exp(x))


@dataclass(frozen=True)
class Effect:
    """``start``/``end``: the shown value with every word hidden and for the text (None when
    the quantity has no such reading, e.g. a raw logit); ``unit``: "probability", "share",
    "score" or "value"; ``negligible``: the words barely move it."""

    label: str
    start: Optional[float]
    end: Optional[float]
    unit: str
    negligible: bool
    contrast: Optional[str] = None

    @property
    def change(self) -> Optional[float]:
        return None if self.start is None or self.end is None else self.end - self.start


def shown(expl: Explanation, f: Optional[float]) -> Optional[float]:
    """The explained quantity's value ``f`` as what the page shows (a probability, a share,
    a score, a value), or None when it has no such reading."""
    if f is None or not math.isfinite(f):
        return None
    kind = expl.quantity
    if len(expl.windows) > 1 and kind == "log-odds" and expl.head == "softmax" and len(expl.labels) > 2:
        return None  # a weighted mean of several windows' log-odds is no one probability
    if kind in ("log-odds", "log-ratio"):
        return _sigmoid(f)
    if kind == "log-score":
        return math.exp(min(f, 0.0))
    if kind in ("probability", "value"):
        return f
    return None


def effect(expl: Explanation) -> Effect:
    """Where the explained label starts (every word hidden) and where the text takes it."""
    start, end = shown(expl, expl.f_baseline), shown(expl, expl.f_input)
    unit = {"log-ratio": "share", "log-score": "score", "value": "value"}.get(expl.quantity, "probability")
    if expl.zero_shot is not None and unit == "probability":
        unit = "score"
    strongest = max((abs(w.score) for w in expl.words), default=0.0)
    if expl.quantity == "value":
        size = max(abs(start or 0.0), abs(end or 0.0), 1e-12)
        negligible = abs((end or 0.0) - (start or 0.0)) < NEGLIGIBLE * size and strongest < NEGLIGIBLE * size
    elif start is None or end is None:
        negligible = False
    else:
        negligible = abs(end - start) < NEGLIGIBLE and strongest * _SENSITIVITY.get(expl.quantity, 1.0) < NEGLIGIBLE
    return Effect(expl.target, start, end, unit, negligible, expl.contrast)


def scale(expl: Explanation) -> float:
    """What the deepest colour stands for: the strongest word's |score|, but never less than
    the quantity's floor (so a text whose words barely matter is not painted deep)."""
    strongest = max((abs(w.score) for w in expl.words), default=0.0)
    return max(strongest, FLOORS.get(expl.quantity, 0.0))


def floored(expl: Explanation) -> bool:
    """Is the colour scale set by the floor rather than by the strongest word?"""
    return scale(expl) > max((abs(w.score) for w in expl.words), default=0.0)


def near_tie(expl: Explanation) -> Optional[tuple]:
    """(first, second, p1, p2) when the two most probable labels of a softmax head (or a
    single-label zero-shot query) are within NEAR_TIE of each other, else None."""
    if expl.head != "softmax" or len(expl.probabilities) < 2:
        return None
    (a, pa), (b, pb) = sorted(expl.probabilities.items(), key=lambda kv: -kv[1])[:2]
    return (a, b, pa, pb) if pa - pb < NEAR_TIE else None


def windows_leaning(expl: Explanation) -> list:
    """Windows (1-based) that, read on their own, lean the other way from the whole text
    about the explained label (their own log-odds on the other side of 50%)."""
    if len(expl.windows) < 2 or expl.quantity not in ("log-odds", "log-ratio") or expl.f_input is None:
        return []
    side = expl.f_input >= 0
    return [k + 1 for k, w in enumerate(expl.windows) if (w.f_input >= 0) != side]
