"""Does the story depend on the baseline? Explain one text under several reference
tokens and compare the word rankings (Kendall tau-b, Spearman; ties handled)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from typing import Optional

import torch

from ..engine import BASELINE_KINDS, Classifier, Options, explain_loaded, reference_token
from ..errors import InvalidInput
from ..result import BaselineComparison, BaselineRun, Explanation, RankAgreement, SkippedBaseline

DEFAULT_BASELINES = tuple(k for k in BASELINE_KINDS if k != "auto")  # mask, pad, unk


def kendall_tau(a: Sequence[float], b: Sequence[float]) -> float:
    """Kendall's tau-b (ties handled); nan when either side is constant or n < 2."""
    x = torch.as_tensor(list(a), dtype=torch.float64)
    y = torch.as_tensor(list(b), dtype=torch.float64)
    n = x.numel()
    if n != y.numel():
        raise ValueError("kendall_tau needs two sequences of the same length")
    if n < 2:
        return math.nan
    s = tx = ty = 0.0
    for i in range(0, n, 1024):  # ordered pairs, a block of rows at a time
        dx = torch.sign(x[i : i + 1024, None] - x[None, :])
        dy = torch.sign(y[i : i + 1024, None] - y[None, :])
        s += float((dx * dy).sum())
        tx += float((dx == 0).sum())
        ty += float((dy == 0).sum())
    pairs = n * (n - 1)
    denom = math.sqrt((pairs - (tx - n)) * (pairs - (ty - n)))  # minus the diagonal
    return s / denom if denom > 0 else math.nan


def spearman(a: Sequence[float], b: Sequence[float]) -> float:
    """Spearman's rank correlation (average ranks for ties); nan when a side is constant."""
    ra, rb = _ranks(list(a)), _ranks(list(b))
    if len(ra) != len(rb):
        raise ValueError("spearman needs two sequences of the same length")
    n = len(ra)
    if n < 2:
        return math.nan
    ma, mb = sum(ra) / n, sum(rb) / n
    cov = sum((p - ma) * (q - mb) for p, q in zip(ra, rb))
    va = sum((p - ma) ** 2 for p in ra)
    vb = sum((q - mb) ** 2 for q in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else math.nan


def _ranks(x: list) -> list:
    order = sorted(range(len(x)), key=x.__getitem__)
    ranks = [0.0] * len(x)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and x[order[j + 1]] == x[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def compare_baselines(
    clf: Classifier,
    text: str,
    baselines: Sequence[str] = DEFAULT_BASELINES,
    *,
    reference: Optional[Explanation] = None,
    options: Options = Options(),
) -> BaselineComparison:
    """Explain ``text`` once per baseline token (same target and contrast) and report the
    pairwise Kendall tau of the word scores: does the story depend on the baseline?

    ``reference``: an explanation already made (its baseline is not run again; its
    target and contrast are used). ``options``: the engine's options for the runs (their
    baseline is replaced). Baselines this tokenizer lacks, or that resolve to a token
    already compared, are listed as skipped."""
    target, contrast = options.target, options.contrast
    if reference is not None:
        target, contrast = reference.target, reference.contrast
    runs: list = []
    if reference is not None:
        runs.append((_name(reference), reference))
    skipped = []
    for choice in baselines:
        try:
            _, token, token_id = reference_token(clf, choice)
        except InvalidInput as exc:
            skipped.append(SkippedBaseline(choice, str(exc)))
            continue
        same = next((name for name, e in runs if e.baseline.get("token_id") == token_id), None)
        if same is not None:
            skipped.append(SkippedBaseline(choice, f"the same token ({token!r}) as {same}", duplicate=True))
            continue
        e = explain_loaded(
            clf, text, replace(options, baseline=choice, target=target, contrast=contrast), precision=options.precision
        )
        target, contrast = e.target, e.contrast  # every run explains the same quantity
        runs.append((_name(e), e))
    if not runs:
        raise InvalidInput(
            "None of the baselines can be used with this tokenizer.",
            "Pass a token of its vocabulary, e.g. baselines=['the'].",
        )
    spans = [(w.start, w.end) for w in runs[0][1].words]
    if any([(w.start, w.end) for w in e.words] != spans for _, e in runs):
        raise RuntimeError("word spans differ between baselines")  # same text and tokenizer: never
    scores = {name: [w.score for w in e.words] for name, e in runs}
    pairs = []
    for i in range(len(runs)):
        for j in range(i + 1, len(runs)):
            a, b = runs[i][0], runs[j][0]
            pairs.append(RankAgreement(a, b, kendall_tau(scores[a], scores[b]), spearman(scores[a], scores[b])))
    taus = [p.kendall_tau for p in pairs if not math.isnan(p.kendall_tau)]
    first = runs[0][1]
    return BaselineComparison(
        target=first.target,
        contrast=first.contrast,
        explained=first.explained,
        baselines=tuple(
            BaselineRun(
                name,
                e.baseline.get("kind"),
                e.baseline.get("token"),
                e.completeness_error,
                e.converged,
                [[w.text, w.score] for w in e.top_words(5)],
            )
            for name, e in runs
        ),
        words=[w.text for w in first.words],
        scores=scores,
        pairs=tuple(pairs),
        min_kendall_tau=min(taus) if taus else None,
        mean_kendall_tau=sum(taus) / len(taus) if taus else None,
        skipped=tuple(skipped),
    )


def _name(e: Explanation) -> str:
    kind, token = e.baseline.get("kind"), e.baseline.get("token")
    return f"{kind} ({token})" if kind != "token" else repr(token)
