"""Deletion and insertion curves, ERASER AOPC, and the same for random word rankings.

Does removing the words the explanation ranks highest really change the prediction
more than removing random words? Words are ranked by signed attribution (most in
favour of the explained label first). Removing a word replaces every one of its
tokens by the explanation's baseline token *at the word-embedding layer*, the model
otherwise getting the real ids, attention mask and positions: the very point the
attributions' baseline uses, so an all-removed text gives F(x') of the explanation.

What is measured: the target's probability (sigmoid heads: its own sigmoid), for a
contrast p(target) - p(contrast), for regression the raw value - computed, like the
prediction, from the weighted mean of the windows' logits for a long text. Every perturbed input
of a window goes through the model in one batched forward pass, chunked for memory.
"""

from __future__ import annotations

import bisect
import math
import time
from collections.abc import Callable, Sequence
from typing import Optional

import torch

from ..engine.clock import check_deadline
from ..engine.heads import REGRESSION, make_quantity, probabilities
from ..engine.path import PathModel, capture, chunk_rows, site_values
from ..engine.reference import reference_ids
from ..engine.windows import Piece, tokenize
from ..errors import InvalidInput, ServerBusy
from ..result import Curves, Explanation, FaithfulnessReport, RandomReference, WordsHidden

BINS = (0.01, 0.05, 0.10, 0.20, 0.50)  # ERASER's AOPC bins, as fractions of the words
CURVE_POINTS = 21  # k = 0, 5, ..., 100 % (every k when the text has fewer words)
PERMUTATIONS = 5  # random rankings averaged for the reference numbers
SEED = 0
MAX_FORWARD_TOKENS = 3_000_000  # rows x positions, summed over windows; above it: skipped


def evaluate_faithfulness(
    expl: Explanation,
    clf,
    *,
    permutations: int = PERMUTATIONS,
    seed: int = SEED,
    points: int = CURVE_POINTS,
    bins: Sequence[float] = BINS,
    max_forward_tokens: int = MAX_FORWARD_TOKENS,
) -> FaithfulnessReport:
    """Deletion/insertion curves and AOPC comprehensiveness/sufficiency of ``expl``, with
    ``permutations`` seeded random rankings as reference. ``clf``: the Classifier that
    made ``expl``. ``explain(..., faithfulness=True)`` stores it in
    ``expl.extras.faithfulness``."""
    t0 = time.perf_counter()
    words = expl.words
    n = len(words)
    measure, measured = _measure(expl)
    order = sorted(range(n), key=lambda i: (-words[i].score, i))
    gen = torch.Generator().manual_seed(seed)
    rankings = [order] + [torch.randperm(n, generator=gen).tolist() for _ in range(permutations)]
    curve_ks = list(range(n + 1)) if n < points else sorted({round(j * n / (points - 1)) for j in range(points)})
    bin_ks = [min(n, max(1, math.ceil(b * n - 1e-9))) for b in bins]
    ks = sorted(set(curve_ks) | set(bin_ks))

    # Unique word masks (True = removed); deletion removes the top k, insertion keeps only them.
    masks: list[torch.Tensor] = []
    row_of: dict[bytes, int] = {}
    index: dict[tuple, int] = {}
    for r, ranking in enumerate(rankings):
        rank = torch.tensor(ranking, dtype=torch.long)
        for k in ks:
            for kind, removed in (("del", rank[:k]), ("ins", rank[k:])):
                m = torch.zeros(n, dtype=torch.bool)
                m[removed] = True
                key = m.numpy().tobytes()
                if key not in row_of:
                    row_of[key] = len(masks)
                    masks.append(m)
                index[(r, kind, k)] = row_of[key]
    word_masks = torch.stack(masks) if masks else torch.zeros(0, n, dtype=torch.bool)

    base = dict(
        measured=measured,
        ranking="words by signed attribution, most in favour first",
        removal=(
            f"each removed word's tokens take the embedding of the baseline token "
            f"{expl.baseline.get('token')!r} (the explanation's baseline); specials kept"
        ),
        head=expl.head,
        n_words=n,
        bins=list(bins),
        bin_k=bin_ks,
    )
    cost = len(masks) * sum(w.n_tokens for w in expl.windows)
    if expl.zero_shot is not None:
        return FaithfulnessReport(
            **base,
            random=RandomReference(permutations, seed),
            skipped="Faithfulness checks were skipped: they are not made for zero-shot "
            "explanations yet (removing words changes every candidate's pair).",
        )
    if n == 0 or cost > max_forward_tokens:
        why = (
            "the text has no words"
            if n == 0
            else (
                f"it would need {len(masks)} perturbed copies of {len(expl.windows)} window(s) "
                f"({cost:,} token positions; this server allows {max_forward_tokens:,})"
            )
        )
        return FaithfulnessReport(
            **base, random=RandomReference(permutations, seed), skipped=f"Faithfulness checks were skipped: {why}."
        )

    ref_id = int(expl.baseline["token_id"])
    try:
        with clf.lock:  # the model's hooks are the classifier's: one request at a time
            values = _run_windows(clf, expl, words, word_masks, ref_id, measure)
    except ServerBusy:  # the explanation itself is done: keep it, say why the check is missing
        return FaithfulnessReport(
            **base,
            random=RandomReference(permutations, seed),
            skipped="Faithfulness checks were stopped: they ran past this server's time "
            "limit for one request. Run them locally or on a shorter text.",
        )

    def curve(r: int, kind: str, at: Sequence[int]) -> list:
        return [float(values[index[(r, kind, k)]]) for k in at]

    full = float(values[index[(0, "del", 0)]])
    empty = float(values[index[(0, "ins", 0)]])
    aopc = []
    for r in range(len(rankings)):
        comp = sum(full - v for v in curve(r, "del", bin_ks)) / len(bin_ks)
        suff = sum(full - v for v in curve(r, "ins", bin_ks)) / len(bin_ks)
        aopc.append((comp, suff))
    rand = aopc[1:]

    def avg(r_kind: str) -> list:
        rows = [curve(r, r_kind, curve_ks) for r in range(1, len(rankings))]
        return [sum(col) / len(col) for col in zip(*rows)] if rows else []

    return FaithfulnessReport(
        **base,
        full=full,
        empty=empty,
        comprehensiveness=aopc[0][0],
        sufficiency=aopc[0][1],
        random=RandomReference(
            permutations,
            seed,
            comprehensiveness=_mean([c for c, _ in rand]),
            comprehensiveness_std=_std([c for c, _ in rand]),
            sufficiency=_mean([s for _, s in rand]),
            sufficiency_std=_std([s for _, s in rand]),
        ),
        curve=Curves(
            k=curve_ks,
            fraction=[k / n for k in curve_ks],
            deletion=curve(0, "del", curve_ks),
            insertion=curve(0, "ins", curve_ks),
            random_deletion=avg("del"),
            random_insertion=avg("ins"),
        ),
        forward_rows=len(masks) * len(expl.windows),
        seconds=round(time.perf_counter() - t0, 4),
    )


def hide_words(expl: Explanation, clf, hidden: Sequence[int]) -> WordsHidden:
    """The model's answer with the words at ``hidden`` (indices into ``expl.words``) hidden -
    each of their tokens given the baseline token at the word-embedding layer, the rest of
    the input as it was: one forward pass per window, no attributions. Beside it, what the
    word scores claim the explained label's value becomes (the text's value minus their
    sum, read as the caption reads it)."""
    from ..render.effect import shown  # stdlib only: how a quantity reads as a probability

    words = expl.words
    chosen = sorted({int(i) for i in hidden})
    if not chosen or chosen[0] < 0 or chosen[-1] >= len(words):
        raise InvalidInput(
            f"Words to hide must be numbers from 1 to {len(words)} (the words of the text).",
            "Click a coloured word, or ask for the top words.",
        )
    if expl.zero_shot is not None:
        raise InvalidInput(
            "Hiding words is not made for zero-shot explanations yet (each candidate's pair would change).",
            "Hide words in an explanation of one text or a pair.",
        )
    mask = torch.zeros(1, len(words), dtype=torch.bool)
    mask[0, chosen] = True
    with clf.lock:
        logits = _run_windows(clf, expl, words, mask, int(expl.baseline["token_id"]), lambda x: x)
    probs = probabilities(logits.float(), expl.head)[0]
    labels = list(expl.labels)
    got = {name: float(p) for name, p in zip(labels, probs.tolist())}
    quantity = make_quantity(
        expl.head,
        labels,
        labels.index(expl.target),
        expl.contrast,
        {"logit": "logit", "probability": "probability"}.get(expl.quantity, "auto"),
    )
    measured_f = float(quantity(logits.float())[0])
    removed = sum(words[i].score for i in chosen)
    unit_of = lambda f: shown(expl, f)
    return WordsHidden(
        words=tuple(words[i] for i in chosen),
        probabilities=got,
        predicted=labels[int(probs.argmax())],
        target=expl.target,
        before=unit_of(expl.f_input),
        claimed=unit_of(None if expl.f_input is None else expl.f_input - removed),
        measured=unit_of(measured_f),
        unit={"log-ratio": "share", "value": "value"}.get(expl.quantity, "probability"),
    )


def _measure(expl: Explanation) -> tuple[Callable[[torch.Tensor], torch.Tensor], str]:
    """The curve's quantity from logits, and its description."""
    labels = list(expl.labels)
    t = labels.index(expl.target)
    c = labels.index(expl.contrast) if expl.contrast is not None else None
    head = expl.head

    def measure(logits: torch.Tensor) -> torch.Tensor:
        v = probabilities(logits, head)
        return v[:, t] - v[:, c] if c is not None else v[:, t]

    if head == REGRESSION:
        return measure, f"the value of '{expl.target}'"
    if c is not None:
        return measure, f"p('{expl.target}') - p('{expl.contrast}')"
    return measure, f"the probability of '{expl.target}'"


def _run_windows(
    clf, expl: Explanation, words: Sequence, word_masks: torch.Tensor, ref_id: int, measure: Callable
) -> torch.Tensor:
    """The measure for every word mask, on the weighted mean of the windows' logits (the
    prediction's own aggregate)."""
    logits = None
    for w in expl.windows:
        piece = tokenize(clf, expl.text, w.start, w.end, expl.text_pair, w.segment)
        got = w.weight * _run_window(clf, piece, _token_words(piece, words), word_masks, ref_id)
        logits = got if logits is None else logits + got
    return measure(logits).double()


def _token_words(piece: Piece, words: Sequence) -> torch.Tensor:
    """Word index of each token of a window (-1 for special tokens), in the token's own
    segment. A token with no visible characters of its own goes to the next word, as in
    the word scores."""
    by_segment: dict = {}
    for j, w in enumerate(words):
        by_segment.setdefault(w.segment, []).append(j)
    out = []
    for i, (pos, _) in enumerate(piece.offsets):
        mine = by_segment.get(piece.segments[i], [])
        if bool(piece.special[0, i]) or not mine:
            out.append(-1)
            continue
        starts = [words[j].start for j in mine]
        k = bisect.bisect_right(starts, pos) - 1
        if k < 0 or pos >= words[mine[k]].end:
            k = min(k + 1, len(mine) - 1)
        out.append(mine[k])
    return torch.tensor(out, dtype=torch.long)


def _run_window(clf, piece: Piece, token_word: torch.Tensor, word_masks: torch.Tensor, ref_id: int) -> torch.Tensor:
    """The logits (rows, labels) for every word mask, on one window, in chunked batches."""
    ids = piece.inputs["input_ids"]
    is_word = token_word >= 0
    tok_masks = word_masks[:, token_word.clamp(min=0)] & is_word  # (rows, tokens)
    site_ids, x = capture(clf.model, clf.sites, piece.inputs)
    base = site_values(clf.sites, site_ids, reference_ids(ids, piece.special, ref_id))
    path = PathModel(clf.model, clf.sites, piece.inputs, lambda logits: logits.float())
    chunk = chunk_rows(clf.model.config, max(t.shape[1] for t in x), grad=False)
    out = []
    with torch.no_grad(), path.hooks():
        for i in range(0, tok_masks.shape[0], chunk):
            check_deadline()
            m = tok_masks[i : i + chunk].to(x[0].device)
            values = []
            for site, xv, bv in zip(clf.sites.sites, x, base):
                site_mask = site.overlay(torch.zeros(m.shape[0], xv.shape[1], dtype=torch.bool, device=m.device), m)
                values.append(torch.where(site_mask.unsqueeze(-1), bv, xv))
            out.append(path(*values, *path.expanded(m.shape[0])).double().cpu())
    return torch.cat(out) if out else torch.zeros(0, len(clf.labels), dtype=torch.float64)


def _mean(xs: Sequence[float]) -> Optional[float]:
    return sum(xs) / len(xs) if xs else None


def _std(xs: Sequence[float]) -> Optional[float]:
    if len(xs) < 2:
        return None
    m = sum(xs) / len(xs)
    return math.sqrt(sum((v - m) ** 2 for v in xs) / (len(xs) - 1))
