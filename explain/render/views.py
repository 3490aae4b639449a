"""Explanation -> what the app's panels show: HighlightedText pairs, label scores, the
legend, the details panel, the trust summary, the baseline comparison and the rows of
the faithfulness plot. Plain values (stdlib only); the app wires them to components."""

from __future__ import annotations

from typing import Optional

from ..result import BaselineComparison, Explanation
from . import escape
from .caption import amount, caption, percent, present_labels
from .effect import effect
from .scale import categories, category, decimals, level, pieces

# Faithfulness curves: report field -> the plot's series name.
CURVES = {
    "deletion": "deletion (top words)",
    "random_deletion": "deletion (random words)",
    "insertion": "insertion (top words)",
    "random_insertion": "insertion (random words)",
}
_MARK = {"pass": "**✓ pass**", "warn": "**! caution**", "fail": "**✗ fail**", "not run": "**– not run**"}
__all__ = [
    "CURVES",
    "categories",
    "comparison_markdown",
    "curve_rows",
    "highlighted_levels",
    "label_choices",
    "label_scores",
    "legend",
    "summary_markdown",
    "trust_headline",
    "trust_markdown",
    "window_spans",
    "word_rows",
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
    """What the colours mean for this explanation, as Markdown (``caption``'s wording)."""
    return caption(expl).markdown()


def label_choices(explanations) -> list:
    """[(shown name, label), ...] for a switch between explained labels: each label with
    its probability (sigmoid heads: whether it is present), in the order given."""
    out = []
    for e in explanations:
        p = e.probabilities.get(e.target)
        if e.head == "regression" or p is None:
            out.append((e.target, e.target))
        elif e.head == "sigmoid" and len(e.labels) > 1:
            out.append((f"{e.target} ({percent(p)}, {'present' if e.target in present_labels(e) else 'absent'})", e.target))
        else:
            out.append((f"{e.target} ({percent(p)})", e.target))
    return out


def summary_markdown(expl: Explanation) -> str:
    """The details panel: what was explained and how far to trust the arithmetic."""
    total = expl.timings.get("total_s", 0.0)
    bound = "met" if expl.converged else "NOT met - raise the step cap or read the scores with care"
    p = expl.probabilities.get(expl.predicted)
    said = f" ({percent(p)})" if p is not None and expl.head != "regression" else ""
    lines = [
        f"**Predicted:** {escape.markdown(expl.predicted)}{said} &nbsp; **Explained:** {escape.markdown(expl.explained)}",
        f"**Baseline:** every word replaced by `{escape.code(expl.baseline.get('token'))}` "
        f"({escape.markdown(str(expl.baseline.get('kind')))}); special tokens kept",
        f"**Completeness error:** {expl.completeness_error:.2e} - {_exactness(expl)} "
        f"(tolerance {expl.tolerance:g}, {bound})",
        f"**Steps:** {expl.steps} gradient evaluations &nbsp; **Time:** {total:.2f} s on {expl.device}",
    ]
    if expl.cache == "hit":
        lines[-1] += f" (served from the cache; computed in {expl.timings.get('computed_total_s') or 0.0:.2f} s)"
    if expl.zero_shot is not None:
        z = expl.zero_shot
        shown = "; ".join(f"'{escape.markdown(h, inline=True)}'" for h in z.hypotheses[:6])
        more = f" and {len(z.hypotheses) - 6} more" if len(z.hypotheses) > 6 else ""
        lines.append(
            f"**Zero-shot:** the text was paired with one hypothesis per candidate label ({shown}{more}) "
            f"and scored by the model's {escape.markdown(z.entailment)} logit"
            + (
                " against its own contradiction logit (each label on its own)."
                if z.multi_label
                else ", compared across the candidates."
            )
        )
    if len(expl.windows) > 1:
        lines.append(
            f"**Long text:** longer than the model's limit, so it was read in {len(expl.windows)} "
            "overlapping windows, each weighted by the share of the text it stands for; the prediction "
            "is the weighted mean of their logits, and the scores explain the weighted mean over the "
            "windows (a word in an overlap gets its share from each window that contains it). "
            f"Window boundaries (characters, marked in the text): {window_spans(expl)}."
        )
    top = expl.top_words(5)
    if top:
        places = decimals(w.score for w in top)
        lines.append(
            "**Strongest words:** "
            + ", ".join(f"{escape.markdown(w.text)} ({_where(expl, w)}, {w.score:+.{places}f})" for w in top)
        )
    return "\n\n".join(lines)


def _exactness(expl: Explanation) -> str:
    """One line on what the two error figures mean for this result."""
    total = f"the word scores add up to the change in the explained quantity to within {expl.completeness_error:.2%}"
    if expl.word_error is None:
        return total + "; the error of single word scores is not estimated for a fixed rule of steps"
    bound = f", bound {expl.word_tolerance:.0%}" if expl.word_tolerance else ""
    return (
        total + f"; estimated word error {expl.word_error:.2%}: how far the single word scores may be off, "
        f"relative to all of them together{bound}"
    )


def _where(expl: Explanation, word) -> str:
    """'word 4' (or 'word 4 of the text pair'): tells repeated words apart."""
    n = 1 + sum(1 for w in expl.words if w.segment == word.segment and w.start < word.start)
    return f"word {n}" + (" of the text pair" if word.segment == 1 else "")


def window_spans(expl: Explanation, limit: int = 12) -> str:
    """The stretch each window of a long text stands for: "1: 0-812, 2: 812-1630, ..."
    (character offsets; each boundary is the middle of the overlap between two windows)."""
    spans = [f"{k + 1}: {w.owned_start}-{w.owned_end}" for k, w in enumerate(expl.windows)]
    if len(spans) > limit:
        spans = spans[: limit - 1] + ["...", spans[-1]]
    return ", ".join(spans)


def trust_markdown(items) -> str:
    """The trust checks (TrustCheck, ...) as a short Markdown list (their text escaped)."""
    ran = [i for i in items if i.status != "not run"]
    good = sum(i.status == "pass" for i in ran)
    head = f"**Can I trust this?** {good} of {len(ran)} check{'s' if len(ran) != 1 else ''} passed"
    lines = [head] + [f"- {_MARK[i.status]} {escape.markdown(i.text, inline=True)}" for i in items]
    return "\n".join(lines)


_PLAIN = {
    "completeness": "the numbers add up",
    "faithfulness": "the words matter to the model",
    "baselines": "the ranking does not depend on the reference token",
}
_SHORT = {"pass": "✓", "warn": "!", "fail": "✗", "not run": "–"}


def trust_headline(expl: Explanation) -> str:
    """The trust panel for everyone: one concrete sentence about this text first (what
    hiding its strongest words does, measured; else what the scores add up to), then one
    short line per check. The checks' full wording is ``trust_markdown`` (for experts)."""
    first = _faithful_sentence(expl) or _complete_sentence(expl)
    checks = []
    for item in expl.extras.trust or ():
        what = _PLAIN.get(item.check, item.check)
        answer = {"pass": "yes", "warn": "partly", "fail": "no", "not run": "not checked"}[item.status]
        checks.append(f"{_SHORT[item.status]} {what}: {answer}")
    tail = ""
    report = expl.extras.faithfulness
    if report is None and expl.zero_shot is None:
        tail = (
            " Tick **Faithfulness check** and explain again to test whether hiding these words really changes "
            "the prediction."
        )
    elif report is not None and report.skipped:
        tail = f" {escape.markdown(report.skipped, inline=True)}"
    return f"**Can I trust this?** {first}{tail}" + ("\n\n" + " &nbsp;·&nbsp; ".join(checks) if checks else "")


def _faithful_sentence(expl: Explanation) -> Optional[str]:
    """'Hiding the 2 words that speak most for positive moves p(positive) from 0.79 to 0.05;
    hiding 2 random words moves it to 0.70.' from the deletion curves, when measured."""
    report = expl.extras.faithfulness
    curve = report.curve if report is not None and not report.skipped else None
    if curve is None or len(curve.k) < 2 or not curve.deletion or not curve.random_deletion:
        return None
    n = max(report.n_words, 1)
    wanted = max(1, -(-n // 5))  # a fifth of the words, at least one
    i = next((j for j, k in enumerate(curve.k) if k >= wanted), len(curve.k) - 1)
    k, full, top, rand = curve.k[i], curve.deletion[0], curve.deletion[i], curve.random_deletion[i]
    what = escape.markdown(report.measured, inline=True)
    words = "word" if k == 1 else "words"
    side = f"{escape.markdown(expl.target, inline=True)}" + (
        f" over {escape.markdown(expl.contrast, inline=True)}" if expl.contrast else ""
    )
    verb = "drops" if top < full else "raises"
    only = " only" if abs(rand - full) < abs(top - full) else ""
    return (
        f"Hiding the {k} {words} that speak most for {side} {verb} {what} from {full:.2f} to {top:.2f}; "
        f"hiding {k} random {words}{only} moves it to {rand:.2f} (average of {report.random.permutations} "
        "random choices)."
    )


def _complete_sentence(expl: Explanation) -> str:
    e = effect(expl)
    if e.start is not None and e.end is not None:
        moved = f" ({amount(e.start, e.unit)} with every word hidden, {amount(e.end, e.unit)} for your text)"
    else:
        moved = ""
    return (
        f"The word scores add up to the change the words make{moved} to within {expl.completeness_error:.2%}. "
        "This checks the arithmetic, not whether the model relies on these words."
    )


def comparison_markdown(comparison: Optional[BaselineComparison]) -> str:
    """The baseline comparison as Markdown: each baseline's strongest words, then the
    pairwise rank agreement. Empty string when there is none."""
    if not comparison:
        return ""
    cell = lambda text: escape.markdown(text, inline=True)
    lines = [
        f"**Baselines compared** (explaining {cell(comparison.explained)})",
        "",
        "| baseline | completeness error | strongest words |",
        "|---|---|---|",
    ]
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


def word_rows(expl: Explanation, limit: Optional[int] = None, context: int = 4) -> tuple:
    """(headers, rows) of every word (or the ``limit`` strongest), strongest first, for a
    sortable table: rank, the word, its signed score, which way it pushes, its place (word
    number, text or text pair) and the words around it, so that repeated words are told apart."""
    words = list(expl.words)
    order = sorted(range(len(words)), key=lambda i: -abs(words[i].score))[:limit]  # None: every word
    by_segment: dict = {}
    for i, w in enumerate(words):
        by_segment.setdefault(w.segment, []).append(i)
    position = {i: n for ids in by_segment.values() for n, i in enumerate(ids)}
    cap = caption(expl)
    pair = expl.text_pair is not None
    places = decimals((w.score for w in words), least=4)
    headers = ["rank", "word", "score", "pushes", "word #"] + (["in"] if pair else []) + ["context"]
    rows = []
    for rank, i in enumerate(order, 1):
        w = words[i]
        ids = by_segment[w.segment]
        n = position[i]
        source = expl.text if w.segment == 0 else expl.text_pair or ""
        before = ids[max(0, n - context)]
        after = ids[min(len(ids) - 1, n + context)]
        lo, hi = words[before].start, words[after].end
        shown = (
            ("… " if lo > 0 else "")
            + source[lo : w.start]
            + "["
            + source[w.start : w.end]
            + "]"
            + source[w.end : hi]
            + (" …" if hi < len(source) else "")
        )
        way = cap.toward if w.score > 0 else cap.against if w.score < 0 else "neither way"
        if way == "evidence against it":
            way = f"evidence against {expl.target}"
        row = [rank, w.text, f"{w.score:+.{places}f}", way, n + 1] + (["text pair" if w.segment else "text"] if pair else [])
        rows.append(row + [" ".join(shown.split())])
    return headers, rows


def curve_titles(expl: Explanation) -> tuple:
    """(x axis, y axis) titles of the faithfulness chart, naming what is measured."""
    report = expl.extras.faithfulness
    measured = report.measured if report is not None else "the measured value"
    return ("words hidden (deletion) or kept alone (insertion), % of the text's words, strongest first", measured)


def curve_note(expl: Explanation) -> str:
    """The chart's end points in words (Markdown; empty when there is no chart)."""
    report = expl.extras.faithfulness
    if report is None or report.curve is None or report.full is None or report.empty is None:
        return ""
    what = escape.markdown(report.measured, inline=True)
    return (
        f"At 0% nothing is hidden: {what} = {report.full:.2f} (your text). At 100% every word is hidden "
        f"(deletion): {what} = {report.empty:.2f}, the baseline; insertion ends where deletion starts. Dark "
        "lines: the explanation's ranking; light lines: random word orders."
    )
