"""A terminal view of an explanation: prediction, the text coloured by the scale (or
plain) and the strongest words with signed scores."""

from __future__ import annotations

from ..result import Explanation
from . import escape
from .caption import caption, percent
from .scale import ANSI_AGAINST, ANSI_TOWARD, level, pieces
from .views import label_scores


def ansi(expl: Explanation, colour: bool = True, top: int = 8) -> str:
    """A terminal view: prediction, the text (coloured when ``colour``) and the
    strongest words with signed scores. Without colour the text is printed as is."""
    cap = caption(expl)
    out = [
        cap.plain_sentence() + (" " + cap.note if cap.note else ""),
        f"Predicted: {expl.predicted}   Explained: {expl.explained}",
    ]
    if expl.head != "regression":
        for name, p in sorted(expl.probabilities.items(), key=lambda kv: -kv[1]):
            out.append(f"  {_bar(p, 20)} {percent(p):>6}  {name}")
    else:
        out.append(f"  {label_scores(expl)}")
    out.append("")
    if colour:
        shown = []
        second = [("\n\nText pair: ", None), *pieces(expl, 1)] if expl.text_pair is not None else []
        for piece, score in pieces(expl, 0) + second:
            lvl = level(score)
            if lvl == 0:
                shown.append(escape.terminal(piece))
            else:
                bg, fg = (ANSI_TOWARD if lvl > 0 else ANSI_AGAINST)[abs(lvl) - 1]
                shown.append(f"\x1b[38;5;{fg};48;5;{bg}m{escape.terminal(piece)}\x1b[0m")
        out.append("".join(shown))
        out.append("")
        out.append(cap.key())
    else:
        out.append(escape.terminal(expl.text))
        if expl.text_pair is not None:
            out.append("\nText pair: " + escape.terminal(expl.text_pair))
    words = expl.top_words(top)
    if words:
        out.append("")
        out.append(f"Strongest words (+: {cap.toward}; -: {cap.against}):")
        scale = max(abs(w.score) for w in words) or 1.0
        for w in words:
            bar = ("+" if w.score > 0 else "-") * max(1, round(10 * abs(w.score) / scale))
            out.append(f"  {w.score:+9.4f} {bar:<10} {escape.terminal(w.text)}")
    state = "met" if expl.converged else "NOT met"
    out.append("")
    out.append(
        f"Completeness error {expl.completeness_error:.2e} (tolerance {expl.tolerance:g}, {state}); "
        f"{expl.steps} steps, {expl.timings.get('total_s', 0.0):.2f} s"
    )
    return "\n".join(out)


def _bar(p: float, width: int) -> str:
    n = max(0, min(width, round(p * width)))
    return "#" * n + "." * (width - n)
