"""The colour scale: word scores -> signed strength levels -> colours.

Diverging orange (pushes toward the explained label) / blue (pushes away): a pair that
stays distinct under the common colour-vision deficiencies, unlike red/green or
red/purple. Word scores are divided by the strongest word's magnitude and put in three
strength levels per sign; weaker than ``LEVELS[0]`` is left uncoloured."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Optional

from ..result import WordScore

LEVELS = (0.1, 0.35, 0.7)  # lower bounds of |relative score| for weak, medium, strong
LEVEL_NAMES = ("weakly", "", "strongly")
# (background, text colour) per level, for views we draw ourselves (HTML, SVG, terminal).
TOWARD = (("#fee6ce", "#111111"), ("#fdae6b", "#111111"), ("#e6550d", "#111111"))
AGAINST = (("#deebf7", "#111111"), ("#9ecae1", "#111111"), ("#2171b5", "#ffffff"))
# Gradio draws a category at half opacity on the page's own background (light or dark),
# so it gets deeper shades of the same two hues.
APP_TOWARD = ("#fdae6b", "#f16913", "#a63603")
APP_AGAINST = ("#9ecae1", "#4292c6", "#08519c")
# 256-colour terminal codes (background, foreground) per level.
ANSI_TOWARD = ((223, 16), (215, 16), (166, 16))
ANSI_AGAINST = ((153, 16), (74, 16), (25, 231))


def level(score: Optional[float]) -> int:
    """Signed strength level of a relative score in [-1, 1]: -3..3, 0 = uncoloured."""
    if score is None:
        return 0
    n = sum(abs(score) >= bound for bound in LEVELS)
    return n if score > 0 else -n


def category(lvl: int) -> Optional[str]:
    """Name of a level, as shown in the app's legend ("strongly toward", ...)."""
    if lvl == 0:
        return None
    words = (LEVEL_NAMES[abs(lvl) - 1], "toward" if lvl > 0 else "against")
    return " ".join(w for w in words if w)


def categories() -> dict:
    """Legend order (strongly against ... strongly toward) -> app colour."""
    out = {category(-k): APP_AGAINST[k - 1] for k in (3, 2, 1)}
    out.update({category(k): APP_TOWARD[k - 1] for k in (1, 2, 3)})
    return out


def colours(lvl: int) -> Optional[tuple]:
    """(background, text colour) of a level for static views; None when uncoloured."""
    if lvl == 0:
        return None
    return (TOWARD if lvl > 0 else AGAINST)[abs(lvl) - 1]


def pieces(expl, segment: int = 0) -> list[tuple]:
    """(piece, relative score or None) covering the text (segment 0) or the text pair
    (segment 1) exactly; both segments share one scale (the strongest word of either)."""
    text = expl.text if segment == 0 else (expl.text_pair or "")
    scale = max((abs(w.score) for w in expl.words), default=0.0)
    return segments(text, [w for w in expl.words if w.segment == segment], scale)


def segments(text: str, words: Sequence[WordScore], scale: Optional[float] = None) -> list[tuple]:
    """(piece, score-or-None) pairs whose pieces concatenate to exactly ``text``.

    Scores are divided by ``scale`` (default: the largest magnitude), so they lie in [-1, 1]."""
    if scale is None:
        scale = max((abs(w.score) for w in words), default=0.0)
    out: list[tuple] = []
    pos = 0
    for w in words:
        if w.start > pos:
            out.append((text[pos:w.start], None))
        value = w.score / scale if scale else 0.0
        out.append((text[w.start:w.end], round(max(-1.0, min(1.0, value)), 4)))
        pos = w.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out
