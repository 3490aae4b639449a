"""Explanation -> values for display: the colour scale, HighlightedText pairs, label
scores, the details panel and a coloured terminal view.

The scale is diverging orange (pushes toward the explained label) / blue (pushes away):
a pair that stays distinct under the common colour-vision deficiencies, unlike red/green
or red/purple. Word scores are divided by the strongest word's magnitude and put in
three strength levels per sign; weaker than ``LEVELS[0]`` is left uncoloured.
Static renderings for model cards (HTML, SVG, Markdown) are in ``explain.static``."""

from __future__ import annotations

import html
import re
from typing import Optional

from .result import Explanation
from .words import segments

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


def highlighted(expl: Explanation) -> list:
    """[(piece, score in [-1, 1] or None), ...]; pieces concatenate to the exact text."""
    return [[piece, score] for piece, score in segments(expl.text, expl.words)]


def highlighted_levels(expl: Explanation) -> list:
    """[(piece, strength category or None), ...] for gr.HighlightedText with
    ``color_map=categories()``; pieces concatenate to the exact text."""
    return [[piece, category(level(score))] for piece, score in segments(expl.text, expl.words)]


def label_scores(expl: Explanation):
    """Probabilities per label (a dict), or for regression a one-line string."""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()))
        return f"{expl.labels[0]} = {value:.4f}"
    return dict(expl.probabilities)


def legend(expl: Explanation) -> str:
    """One Markdown line saying what the colours mean for this explanation."""
    against = f"'{_escape(expl.contrast)}'" if expl.contrast else "it"
    return (f"**Orange** words push toward '{_escape(expl.target)}', **blue** words push away from {against}; "
            "the deeper the shade, the stronger the word, relative to the strongest one "
            f"(uncoloured: under {LEVELS[0]:.0%} of it).")


def summary_markdown(expl: Explanation) -> str:
    """The details panel: what was explained and how far to trust the arithmetic."""
    total = expl.timings.get("total_s", 0.0)
    bound = "met" if expl.converged else "NOT met - raise the step cap or read the scores with care"
    lines = [
        f"**Predicted:** {_escape(expl.predicted)} &nbsp; **Explained:** {_escape(expl.explained)}",
        f"**Baseline:** every word replaced by `{_code(expl.baseline.get('token'))}` "
        f"({_escape(str(expl.baseline.get('kind')))}); special tokens kept",
        f"**Completeness error:** {expl.completeness_error:.2e} (tolerance {expl.tolerance:g}, {bound})",
        f"**Steps:** {expl.steps} gradient evaluations &nbsp; **Time:** {total:.2f} s on {expl.device}",
    ]
    if expl.timings.get("cache") == "hit":
        lines[-1] += f" (served from the cache; computed in {expl.timings.get('computed_total_s') or 0.0:.2f} s)"
    if len(expl.windows) > 1:
        lines.append(f"**Long text:** explained in {len(expl.windows)} overlapping windows "
                     "(each at most the model's length); the probabilities are their average. "
                     f"Characters scored by each window: {window_spans(expl)}.")
    top = expl.top_words(5)
    if top:
        lines.append("**Strongest words:** " + ", ".join(f"{_escape(w.text)} ({w.score:+.3f})" for w in top))
    return "\n\n".join(lines)


def window_spans(expl: Explanation, limit: int = 12) -> str:
    """Where each window of a long text is scored from: "1: 0-812, 2: 812-1630, ..."
    (character offsets in the text; each character is scored by exactly one window)."""
    spans = [f"{k + 1}: {w.owned_start}-{w.owned_end}" for k, w in enumerate(expl.windows)]
    if len(spans) > limit:
        spans = spans[:limit - 1] + ["...", spans[-1]]
    return ", ".join(spans)


def ansi(expl: Explanation, colour: bool = True, top: int = 8) -> str:
    """A terminal view: prediction, the text (coloured when ``colour``) and the
    strongest words with signed scores. Without colour the text is printed as is."""
    out = [f"Predicted: {expl.predicted}   Explained: {expl.explained}"]
    if expl.head != "regression":
        for name, p in sorted(expl.probabilities.items(), key=lambda kv: -kv[1]):
            out.append(f"  {_bar(p, 20)} {p:6.1%}  {name}")
    else:
        out.append(f"  {label_scores(expl)}")
    out.append("")
    if colour:
        pieces = []
        for piece, score in segments(expl.text, expl.words):
            lvl = level(score)
            if lvl == 0:
                pieces.append(_plain(piece))
            else:
                bg, fg = (ANSI_TOWARD if lvl > 0 else ANSI_AGAINST)[abs(lvl) - 1]
                pieces.append(f"\x1b[38;5;{fg};48;5;{bg}m{_plain(piece)}\x1b[0m")
        out.append("".join(pieces))
        out.append("")
        away = f"away from {expl.contrast!r}" if expl.contrast else "away from it"
        out.append(f"orange: toward {expl.target!r}   blue: {away}")
    else:
        out.append(_plain(expl.text))
    words = expl.top_words(top)
    if words:
        out.append("")
        out.append(f"Strongest words (+ toward {expl.target!r}, - away):")
        scale = max(abs(w.score) for w in words) or 1.0
        for w in words:
            sign = "+" if w.score > 0 else "-"
            out.append(f"  {w.score:+9.4f} {(sign * max(1, round(10 * abs(w.score) / scale))):<10} {_plain(w.text)}")
    state = "met" if expl.converged else "NOT met"
    out.append("")
    out.append(f"Completeness error {expl.completeness_error:.2e} (tolerance {expl.tolerance:g}, {state}); "
               f"{expl.steps} steps, {expl.timings.get('total_s', 0.0):.2f} s")
    return "\n".join(out)


def _bar(p: float, width: int) -> str:
    n = max(0, min(width, round(p * width)))
    return "#" * n + "." * (width - n)


_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _plain(text: str) -> str:
    """Terminal-safe: control characters (escape sequences a text could smuggle) shown as '?'."""
    return _CONTROL.sub("?", text)


def _escape(text) -> str:
    """Markdown/HTML-inert rendering of a piece of user text."""
    out = str(text)
    for ch in "\\`*_{}[]()#+-.!|~":
        out = out.replace(ch, "\\" + ch)
    return html.escape(out, quote=False)  # after: '#' in an entity must not be escaped


def _code(text) -> str:
    """Text for inside a Markdown code span (no backticks, HTML escaped)."""
    return html.escape(str(text).replace("`", "'"), quote=True)
