"""Explanation -> what the app's panels show: HighlightedText pairs, label scores, the
legend, the details panel, the trust summary, the baseline comparison and the rows of
the faithfulness plot. Plain values (stdlib only); the app wires them to components."""

from __future__ import annotations

from typing import Optional

from ..result import BaselineComparison, Explanation
from . import escape
from .scale import LEVELS, categories, category, level, pieces

# Faithfulness curves: report field -> the plot's series name.
CURVES = {"deletion": "deletion (top words)", "random_deletion": "deletion (random words)",
          "insertion": "insertion (top words)", "random_insertion": "insertion (random words)"}
_MARK = {"pass": "**✓ pass**", "warn": "**! caution**", "fail": "**✗ fail**", "not run": "**– not run**"}
__all__ = [
    "CURVES",
    "categories",
    "comparison_markdown",
    "curve_rows",
    "highlighted_levels",
    "label_scores",
    "legend",
    "summary_markdown",
    "trust_markdown",
    "window_spans",
]


def highlighted_levels(expl: Explanation, segment: int = 0) -> list:
    """[(piece, strength category or None), ...] for gr.HighlightedText with
    ``color_map=categories()``; pieces concatenate to the exact text (segment 0) or text
    pair (segment 1)."""
    return [[piece, category(level(score))] for piece, score in pieces(expl, segment)]


def label_scores(expl: Explanation):
    """Probabilities per label (a dict), or for regression a one-line string."""
    if expl.head == "regression":
        value = next(iter(expl.probabilities.values()))
        return f"{expl.labels[0]} = {value:.4f}"
    return dict(expl.probabilities)


def legend(expl: Explanation) -> str:
    """One Markdown line saying what the colours mean for this explanation."""
    against = f"'{escape.markdown(expl.contrast)}'" if expl.contrast else "it"
    return (f"**Orange** words push toward '{escape.markdown(expl.target)}', **blue** words push away from {against}; "
            "the deeper the shade, the stronger the word, relative to the strongest one "
            f"(uncoloured: under {LEVELS[0]:.0%} of it).")


def summary_markdown(expl: Explanation) -> str:
    """The details panel: what was explained and how far to trust the arithmetic."""
    total = expl.timings.get("total_s", 0.0)
    bound = "met" if expl.converged else "NOT met - raise the step cap or read the scores with care"
    lines = [
        f"**Predicted:** {escape.markdown(expl.predicted)} &nbsp; **Explained:** {escape.markdown(expl.explained)}",
        f"**Baseline:** every word replaced by `{escape.code(expl.baseline.get('token'))}` "
        f"({escape.markdown(str(expl.baseline.get('kind')))}); special tokens kept",
        f"**Completeness error:** {expl.completeness_error:.2e} (tolerance {expl.tolerance:g}, {bound})",
        f"**Steps:** {expl.steps} gradient evaluations &nbsp; **Time:** {total:.2f} s on {expl.device}",
    ]
    if expl.timings.get("cache") == "hit":
        lines[-1] += f" (served from the cache; computed in {expl.timings.get('computed_total_s') or 0.0:.2f} s)"
    if len(expl.windows) > 1:
        lines.append(f"**Long text:** longer than the model's limit, so it was read in {len(expl.windows)} "
                     "overlapping windows, each weighted by the share of the text it stands for; the prediction "
                     "is the weighted mean of their logits, and the scores explain the weighted mean over the "
                     "windows (a word in an overlap gets its share from each window that contains it). "
                     f"Window boundaries (characters): {window_spans(expl)}.")
    top = expl.top_words(5)
    if top:
        lines.append("**Strongest words:** " + ", ".join(f"{escape.markdown(w.text)} ({w.score:+.3f})" for w in top))
    return "\n\n".join(lines)


def window_spans(expl: Explanation, limit: int = 12) -> str:
    """The stretch each window of a long text stands for: "1: 0-812, 2: 812-1630, ..."
    (character offsets; each boundary is the middle of the overlap between two windows)."""
    spans = [f"{k + 1}: {w.owned_start}-{w.owned_end}" for k, w in enumerate(expl.windows)]
    if len(spans) > limit:
        spans = spans[:limit - 1] + ["...", spans[-1]]
    return ", ".join(spans)


def trust_markdown(items) -> str:
    """The trust checks (TrustCheck, ...) as a short Markdown list (their text escaped)."""
    ran = [i for i in items if i.status != "not run"]
    good = sum(i.status == "pass" for i in ran)
    head = f"**Can I trust this?** {good} of {len(ran)} check{'s' if len(ran) != 1 else ''} passed"
    lines = [head] + [f"- {_MARK[i.status]} {escape.markdown(i.text, inline=True)}" for i in items]
    return "\n".join(lines)


def comparison_markdown(comparison: Optional[BaselineComparison]) -> str:
    """The baseline comparison as Markdown: each baseline's strongest words, then the
    pairwise rank agreement. Empty string when there is none."""
    if not comparison:
        return ""
    cell = lambda text: escape.markdown(text, inline=True)
    lines = [f"**Baselines compared** (explaining {cell(comparison.explained)})", "",
             "| baseline | completeness error | strongest words |", "|---|---|---|"]
    for b in comparison.baselines:
        words = ", ".join(f"{cell(t)} ({s:+.3f})" for t, s in b.top_words[:3])
        lines.append(f"| {cell(b.baseline)} | {b.completeness_error:.1e} | {words} |")
    if comparison.pairs:
        lines += ["", "| pair | Kendall tau | Spearman |", "|---|---|---|"]
        for p in comparison.pairs:
            lines.append(f"| {cell(p.a)} vs {cell(p.b)} | {p.kendall_tau:.2f} | {p.spearman:.2f} |")
    for s in comparison.skipped:
        if not s.duplicate:
            lines.append(f"\n_{cell(s.baseline)} not run: {cell(s.reason)}_")
    return "\n".join(lines)


def curve_rows(expl: Explanation) -> list[dict]:
    """The faithfulness curves in long form ``{"percent", "value", "curve"}`` for a plot;
    empty when they were not computed."""
    report = expl.extras.faithfulness
    curve = report.curve if report is not None else None
    if curve is None:
        return []
    rows = []
    for key, label in CURVES.items():
        for frac, value in zip(curve.fraction, getattr(curve, key) or []):
            rows.append({"percent": round(100 * frac, 2), "value": value, "curve": label})
    return rows
