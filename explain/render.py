"""Explanation -> values for display: HighlightedText pairs, label scores, a summary."""

from __future__ import annotations

from .result import Explanation
from .words import segments


def highlighted(expl: Explanation) -> list:
    """[(piece, score in [-1, 1] or None), ...]; pieces concatenate to the exact text."""
    return [[piece, score] for piece, score in segments(expl.text, expl.words)]


def label_scores(expl: Explanation):
    """Probabilities per label (a dict), or for regression a one-line string."""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()))
        return f"{expl.labels[0]} = {value:.4f}"
    return dict(expl.probabilities)


def legend(expl: Explanation) -> str:
    against = f"'{expl.contrast}'" if expl.contrast else "it"
    return (f"Red words push toward '{expl.target}', blue words push away from {against}; "
            "colour strength is relative to the strongest word.")


def summary_markdown(expl: Explanation) -> str:
    """The details panel: what was explained and how far to trust the arithmetic."""
    total = expl.timings.get("total_s", 0.0)
    bound = "met" if expl.converged else "NOT met - raise the step cap or read the scores with care"
    lines = [
        f"**Predicted:** {expl.predicted} &nbsp; **Explained:** {expl.explained}",
        f"**Baseline:** every word replaced by `{expl.baseline.get('token')}` ({expl.baseline.get('kind')}); "
        "special tokens kept",
        f"**Completeness error:** {expl.completeness_error:.2e} (tolerance {expl.tolerance:g}, {bound})",
        f"**Steps:** {expl.steps} gradient evaluations &nbsp; **Time:** {total:.2f} s on {expl.device}",
    ]
    if len(expl.windows) > 1:
        lines.append(f"**Long text:** explained in {len(expl.windows)} overlapping windows "
                     "(each at most the model's length); the probabilities are their average.")
    top = expl.top_words(5)
    if top:
        lines.append("**Strongest words:** " + ", ".join(f"{_escape(w.text)} ({w.score:+.3f})" for w in top))
    return "\n\n".join(lines)


def _escape(text: str) -> str:
    """Markdown/HTML-inert rendering of a piece of user text."""
    import html

    out = html.escape(text, quote=True)
    for ch in "\\`*_{}[]()#+-.!|<>":
        out = out.replace(ch, "\\" + ch) if ch not in "<>" else out
    return out
