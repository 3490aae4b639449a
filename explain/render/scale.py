"""The colour scale: word scores -> signed strength levels -> colours.

Diverging orange (pushes toward the explained label) / blue (pushes away): a pair that
stays distinct under the common colour-vision deficiencies, unlike red/green or
red/purple. Word scores are divided by the strongest word's magnitude and put in three
strength levels per sign; weaker than ``LEVELS[0]`` is left uncoloured. The divisor is never
less than a floor per quantity (``effect.FLOORS``): words that barely move the answer stay
faint rather than being painted as deep as the strongest word of a decisive text."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Optional

from ..result import WordScore
from .effect import scale as colour_scale

LEVELS = (0.1, 0.35, 0.7)  # lower bounds of |relative score| for weak, medium, strong
LEVEL_NAMES = ("weakly", "", "strongly")
# (background, text colour) per level, weak to strong, on a light page: the shade departs
# further from the white page as the word gets stronger (measured contrast with the page
# about 1.2, 2.1 and 4.9-6.5 to 1), and its text stays readable (at least 4.9 to 1).
TOWARD = (("#fde5d0", "#1a1a1a"), ("#f9a05b", "#1a1a1a"), ("#c24a0a", "#ffffff"))
AGAINST = (("#dceaf7", "#1a1a1a"), ("#86b9e2", "#1a1a1a"), ("#1d5fa6", "#ffffff"))
# The same scale on a dark page (Gradio's dark panels, about #27272a): weak words stay close
# to the panel, strong ones are the brightest shades (about 1.2, 2.6 and 7 to 1).
DARK_TOWARD = (("#4a3020", "#f4f4f5"), ("#9c4f16", "#ffffff"), ("#ff9a4d", "#1a1a1a"))
DARK_AGAINST = (("#223548", "#f4f4f5"), ("#2f6aa6", "#ffffff"), ("#7dbcf7", "#1a1a1a"))
# The colours handed to Gradio's HighlightedText as its color_map: Gradio paints them at
# half opacity, which on a dark page inverts the scale (the deepest shade nearly vanishes).
# They serve as keys: the page's CSS (``explain.render.page``) replaces each with the
# full-opacity colour of its level for the page's theme.
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


def colours(lvl: int, theme: str = "light") -> Optional[tuple]:
    """(background, text colour) of a level on a light (static views) or dark page; None
    when uncoloured."""
    if lvl == 0:
        return None
    if theme == "dark":
        return (DARK_TOWARD if lvl > 0 else DARK_AGAINST)[abs(lvl) - 1]
    return (TOWARD if lvl > 0 else AGAINST)[abs(lvl) - 1]


def luminance(hex_colour: str) -> float:
    """Relative luminance of an sRGB colour '#rrggbb' (WCAG 2)."""
    h = hex_colour.lstrip("#")
    channels = [int(h[i : i + 2], 16) / 255 for i in (0, 2, 4)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast(a: str, b: str) -> float:
    """WCAG contrast ratio of two colours '#rrggbb' (1 to 21)."""
    hi, lo = sorted((luminance(a), luminance(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def decimals(scores: Iterable[float], least: int = 3) -> int:
    """Decimals that show the strongest of ``scores`` with three significant digits (at least
    ``least``, at most 8): a model whose scores are all small must not show its deepest-coloured
    word as "-0.000"."""
    m = max((abs(s) for s in scores if math.isfinite(s)), default=0.0)
    if m == 0.0:
        return least
    return min(8, max(least, 2 - math.floor(math.log10(m))))


def pieces(expl, segment: int = 0) -> list[tuple]:
    """(piece, relative score or None) covering the text (segment 0) or the text pair
    (segment 1) exactly; both segments share one scale (the strongest word of either, but
    never less than the quantity's floor: see ``effect.scale``)."""
    text = expl.text if segment == 0 else (expl.text_pair or "")
    return segments(text, [w for w in expl.words if w.segment == segment], colour_scale(expl))


def segments(text: str, words: Sequence[WordScore], scale: Optional[float] = None) -> list[tuple]:
    """(piece, score-or-None) pairs whose pieces concatenate to exactly ``text``.

    Scores are divided by ``scale`` (default: the largest magnitude), so they lie in [-1, 1]."""
    if scale is None:
        scale = max((abs(w.score) for w in words), default=0.0)
    out: list[tuple] = []
    pos = 0
    for w in words:
        if w.start > pos:
            out.append((text[pos : w.start], None))
        value = w.score / scale if scale else 0.0
        out.append((text[w.start : w.end], round(max(-1.0, min(1.0, value)), 4)))
        pos = w.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out
