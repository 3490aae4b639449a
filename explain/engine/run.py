"""Texts on one loaded classifier -> Explanations: the engine's entry points.

* ``explain_loaded``: one text, or a text pair (``tokenizer(text, text_pair)``, both
  segments attributed, special and separator tokens kept in the baseline);
* ``explain_labels_loaded``: the same path for several labels at once (every label, or
  the top k): each point of the path is evaluated once and backpropagated once per label;
* ``explain_zero_shot_loaded``: a zero-shot query (the text paired with one hypothesis per
  candidate label, scored as transformers' zero-shot pipeline does); every candidate's
  pair moves along the same path, the hypotheses stay as they are.

A text that fits the model is one window, and the first integration pass also makes
the prediction (its alpha = 1 row is the plain forward pass). A longer text (for a pair:
its segment with more tokens) is cut into overlapping windows (``windows``); each window stands
for the stretch of text up to the middles of its overlaps, and weighs in by that
stretch's share of the text. The prediction is the weighted mean of the windows' logits,
and the explained quantity the weighted mean over the windows of the target's logit (or
log-odds, probability, contrast). Its integrated gradients along the joint path (every
window's tokens moving together) are the windows' own attributions times their weights;
a token in an overlap gets its contributions from every window that contains it. So the
word scores add up to the change in that mean, and the completeness error is reported
for it: one stated quantity, no per-window scales. (Measured against whole-text
explanations, this weighting came closer to them than the plain mean or the old
per-window stitching: ``python -m benchmarks.long_texts``.) The windows of a text share
their passes: one batched pass per integration round for all of them."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Optional

import torch

from ..errors import ExplainError, InvalidInput
from ..options import DEFAULT_TEMPLATE, Options, whole_number
from ..result import Explanation, TokenScore, Window, ZeroShot
from . import cost, prior
from . import windows as windowing
from .classifier import Classifier
from .clock import check_deadline
from .heads import (
    REGRESSION,
    SIGMOID,
    SOFTMAX,
    ZeroShotQuantity,
    make_quantity,
    nli_labels,
    probabilities,
    resolve_label,
    zero_shot_scores,
)
from .path import Item, PathRunner, integrate
from .precision import PRECISIONS, choose_precision
from .quadrature import FIRST_POINTS, MIN_STEPS, SCALE_FLOOR, relative_error
from .reference import reference_ids, reference_token
from .words import has_visible, word_scores

MAX_CHARS = 100_000  # a library-wide sanity bound; servers set their own, lower one
DRAFT_AFTER_S = 2.0  # a run estimated to take longer sends a first, coarser answer (``draft``)


def check_text(text, max_chars: int = MAX_CHARS, what: str = "text") -> None:
    if not isinstance(text, str):
        raise InvalidInput(f"The {what} must be a string, not {type(text).__name__}.", f"Pass the {what} to explain.")
    if not text.strip():
        raise InvalidInput(f"The {what} is empty.", "Type or paste a sentence to explain.")
    if not has_visible(text):
        raise InvalidInput(
            f"The {what} holds only invisible characters (zero-width spaces, byte-order marks...).",
            "Type or paste a sentence to explain.",
        )
    if len(text) > max_chars:
        raise InvalidInput(
            f"The {what} has {len(text):,} characters; this server explains at most {max_chars:,}.",
            "Shorten the text or split it into parts.",
        )


# --- entry points --------------------------------------------------------------------------


def explain_loaded(
    clf: Classifier,
    text: str,
    options: Options = Options(),
    text_pair: Optional[str] = None,
    *,
    draft: Optional[Callable[[Explanation], None]] = None,
    precision: str = "auto",
) -> Explanation:
    """Explain ``clf``'s prediction on ``text`` (or the pair) - the engine alone: no
    loading, no cache. ``draft``: called at most once, before the result, with a first,
    coarser Explanation (``draft=True``) when the run is estimated to take more than
    DRAFT_AFTER_S seconds (see ``_attribute_many``); the result is the same with or
    without it. ``precision`` of the adaptive rule's gradient rows: "auto" (bfloat16
    autocast only where ``precision.choose_precision`` finds it native, paying and
    accurate enough for this model), "float32" or "bfloat16"; stated in the result's
    ``dtype``. Fixed rules (``n_steps``) and method="captum" always run in the model's
    own precision."""
    once = None if draft is None else (lambda got: draft(got[0]))
    return _classify(clf, text, text_pair, options, None, once, precision)[0]


def explain_labels_loaded(
    clf: Classifier,
    text: str,
    options: Options = Options(),
    labels="all",
    top_k: Optional[int] = None,
    text_pair: Optional[str] = None,
    *,
    draft: Optional[Callable[[tuple], None]] = None,
    precision: str = "auto",
) -> tuple:
    """One Explanation per label (``labels``: "all" or a list of names/indices; ``top_k``:
    only the k most probable of them), most probable first; one shared path. ``draft``:
    as for ``explain_loaded``, called with the tuple of drafts; ``precision`` as there."""
    return _classify(clf, text, text_pair, options, (labels, top_k), draft, precision)


def explain_many_loaded(
    clf: Classifier,
    texts: Sequence[str],
    options: Options = Options(),
    text_pairs: Optional[Sequence[Optional[str]]] = None,
    targets: Optional[Sequence] = None,
    *,
    precision: str = "auto",
) -> list:
    """Explain many texts, their paths integrated in lockstep: every round is one batched
    pass for all of them (texts of different lengths share it where the model pads
    safely). Each result equals the one-by-one ``explain_loaded`` (same rule, same nodes);
    a text that cannot be explained gets its ExplainError in its place. ``precision``: as
    for ``explain_loaded``."""
    t0 = time.perf_counter()
    n = len(texts)
    pairs = list(text_pairs) if text_pairs is not None else [None] * n
    wanted = list(targets) if targets is not None else [None] * n
    if len(pairs) != n or len(wanted) != n:
        raise InvalidInput("texts, text_pairs and targets must have the same length.", "Give one of each per text.")
    out: list = [None] * n
    with clf.lock, clf.frozen(), torch.inference_mode(False):
        ref_kind, ref_token, ref_id = reference_token(clf, options.baseline)
        resolve_label(options.contrast, clf.labels, "contrast label")
        jobs = []
        for k in range(n):
            try:
                check_text(texts[k])
                if pairs[k] is not None:
                    check_text(pairs[k], what="text pair")
                opts = replace(options, target=wanted[k] if wanted[k] is not None else options.target)
                group, choose = _classification_group(clf, texts[k], pairs[k], opts, None)
                jobs.append((k, opts, group, choose))
            except ExplainError as exc:
                out[k] = exc
        done = (
            _attribute_many(clf, [j[2] for j in jobs], [j[3] for j in jobs], options, ref_id, t0, precision=precision)
            if jobs
            else []
        )
        for (k, opts, _, _), d in zip(jobs, done):
            probs = probabilities(d.logits[0][None], clf.head)[0]
            out[k] = _explanations(
                clf, texts[k], pairs[k], d, clf.labels, probs, clf.head, (ref_kind, ref_token, ref_id), opts, t0
            )[0]
    return out


def explain_zero_shot_loaded(
    clf: Classifier,
    text: str,
    candidate_labels,
    options: Options = Options(),
    hypothesis_template: str = DEFAULT_TEMPLATE,
    multi_label: bool = False,
    every_label: bool = False,
    *,
    draft: Optional[Callable[[tuple], None]] = None,
    precision: str = "auto",
) -> tuple:
    """Zero-shot classification of ``text`` over ``candidate_labels`` with an NLI model,
    scored exactly as transformers' ``pipeline("zero-shot-classification")``; explains
    the target candidate (``options.target``, default the top one), or every candidate
    (``every_label``), most probable first. Each text token is listed once per
    candidate's pair, tagged with that candidate (``TokenScore.hypothesis``); a word's
    score sums them. ``draft``, ``precision``: as for ``explain_labels_loaded``."""
    t0 = time.perf_counter()
    check_text(text)
    options = options.but(
        candidate_labels=candidate_labels, hypothesis_template=hypothesis_template, multi_label=bool(multi_label)
    ).validate()
    candidates = list(options.candidate_labels)
    if clf.head == REGRESSION or len(clf.labels) < 2:
        raise InvalidInput(
            "Zero-shot classification needs an NLI model (entailment / contradiction labels); this "
            f"model's labels are {', '.join(clf.labels)}.",
            "Use an NLI checkpoint, e.g. facebook/bart-large-mnli or cross-encoder/nli-deberta-v3-small.",
        )
    entail, contra = nli_labels(clf.labels)
    target = resolve_label(options.target, candidates, "candidate label")
    hypotheses = [hypothesis_template.format(c) for c in candidates]
    with clf.lock, clf.frozen(), torch.inference_mode(False):
        ref_kind, ref_token, ref_id = reference_token(clf, options.baseline)
        pieces = [windowing.tokenize(clf, text, 0, len(text), h) for h in hypotheses]
        longest = max(p.inputs["input_ids"].shape[1] for p in pieces)
        limit = windowing.window_limit(clf, options.max_tokens)
        if longest > limit:
            raise InvalidInput(
                f"The text with its longest hypothesis is {longest} tokens; this model reads at most "
                f"{limit}, and a zero-shot explanation needs the whole text in every pair "
                "(the pipeline would cut it silently).",
                "Shorten the text, or explain it in parts.",
            )

        def quantities(logits) -> list:
            scores = zero_shot_scores(logits, entail, contra, multi_label)
            order = [int(i) for i in torch.argsort(scores, descending=True)]
            chosen = order if every_label else [order[0] if target is None else target]
            return [ZeroShotQuantity(c, entail, contra, multi_label, len(candidates)) for c in chosen]

        group = _Group([pieces], [1.0], attributed=(0,))
        zero = ZeroShot(
            hypothesis_template=hypothesis_template,
            multi_label=bool(multi_label),
            hypotheses=tuple(hypotheses),
            entailment=clf.labels[entail],
            contradiction=clf.labels[contra],
            model_labels=tuple(clf.labels),
        )

        def finish(done: _Done, is_draft: bool = False) -> tuple:
            scores = zero_shot_scores(done.logits, entail, contra, multi_label)
            return _explanations(
                clf,
                text,
                None,
                done,
                candidates,
                scores,
                SIGMOID if multi_label else SOFTMAX,
                (ref_kind, ref_token, ref_id),
                options,
                t0,
                zero_shot=zero,
                draft=is_draft,
            )

        early = None if draft is None else (lambda dones: draft(finish(dones[0], True)))
        done = _attribute(clf, group, quantities, options, ref_id, t0, early, precision)
    return finish(done)


# --- the shared core ------------------------------------------------------------------------


@dataclass
class _Group:
    """The items of one explanation: per window, the sequences that move together."""

    windows: list  # per window: list of Pieces (one per sequence)
    weights: list  # per window: its weight in the explained quantity
    attributed: tuple = (0, 1)  # segments moved along the path
    bounds: list = field(default_factory=list)  # per window: (owned_start, owned_end)


@dataclass
class _Done:
    group: _Group
    quantities: list  # the explained quantities (targets)
    quads: list  # per window: its Quadrature (one value per quantity)
    logits: torch.Tensor  # the prediction's logits (sequences, labels): weighted over windows
    items: list
    t_pred: float
    t_attr: float
    dtype: str = "float32"  # the precision of the gradient rows


def _classify(
    clf: Classifier,
    text: str,
    text_pair: Optional[str],
    opts: Options,
    many,
    draft: Optional[Callable[[tuple], None]] = None,
    precision: str = "auto",
) -> tuple:
    t0 = time.perf_counter()
    check_text(text)
    if text_pair is not None:
        check_text(text_pair, what="text pair")

    def finish(done: _Done, is_draft: bool = False) -> tuple:
        probs = probabilities(done.logits[0][None], clf.head)[0]
        return _explanations(
            clf, text, text_pair, done, clf.labels, probs, clf.head, (ref_kind, ref_token, ref_id), opts, t0, draft=is_draft
        )

    with clf.lock, clf.frozen(), torch.inference_mode(False):
        ref_kind, ref_token, ref_id = reference_token(clf, opts.baseline)
        group, quantities = _classification_group(clf, text, text_pair, opts, many)
        early = None if draft is None else (lambda dones: draft(finish(dones[0], True)))
        done = _attribute(clf, group, quantities, opts, ref_id, t0, early, precision)
    return finish(done)


def _classification_group(clf: Classifier, text: str, text_pair: Optional[str], opts: Options, many) -> tuple:
    """The windows of a text (or pair) and the chooser of what it explains."""
    target_index = resolve_label(opts.target, clf.labels)
    resolve_label(opts.contrast, clf.labels, "contrast label")  # refuse bad options before any model work
    chosen = top_k = None
    if many is not None:
        labels, top_k = many
        chosen = (
            list(range(len(clf.labels)))
            if labels in (None, "all")
            else [resolve_label(label, clf.labels) for label in labels]
        )
        if top_k is not None:
            top_k = whole_number(top_k, "top_k", "Give how many of the most probable labels to explain.")
    if opts.method == "captum" and chosen is not None and len(chosen) > 1:
        raise InvalidInput("method='captum' explains one label at a time.", "Use method='engine' for several labels.")
    pieces = windowing.split(clf, text, opts.max_tokens, text_pair)
    windowed = pieces[0].windowed
    length = len(text) if windowed == 0 else len(text_pair)
    bounds = windowing.ownership([(p.start, p.end) for p in pieces], length)
    weights = [(hi - lo) / max(1, length) for lo, hi in bounds] if len(pieces) > 1 else [1.0]

    def quantities(logits) -> list:
        probs = probabilities(logits[0][None], clf.head)[0]
        if chosen is None:
            predicted = int(probs.argmax()) if clf.head != REGRESSION else 0
            targets = [predicted if target_index is None else target_index]
        else:
            targets = sorted(chosen, key=lambda i: -float(probs[i]))[:top_k]
        return [make_quantity(clf.head, clf.labels, t, opts.contrast, opts.output) for t in targets]

    return _Group([[p] for p in pieces], weights, (0, 1), bounds), quantities


def _attribute(
    clf: Classifier,
    group: _Group,
    quantities: Callable,
    opts: Options,
    ref_id: int,
    t0: float,
    draft: Optional[Callable[[list], None]] = None,
    precision: str = "auto",
) -> _Done:
    """Integrate every window of ``group`` along the shared path; ``quantities(logits)``
    picks what is explained from the prediction's logits (sequences, labels)."""
    return _attribute_many(clf, [group], [quantities], opts, ref_id, t0, draft, precision)[0]


def _attribute_many(
    clf: Classifier,
    groups: list,
    choosers: list,
    opts: Options,
    ref_id: int,
    t0: float,
    draft: Optional[Callable[[list], None]] = None,
    precision: str = "auto",
) -> list:
    """Integrate the windows of several texts (``groups``) in lockstep, one batched pass
    per round for all of them; ``choosers[g](logits)`` picks what text g explains.

    ``draft(dones)``: for an adaptive rule estimated (``cost.estimated_seconds``) to take
    more than DRAFT_AFTER_S seconds, a third of round 1's nodes run first and ``draft``
    gets the groups' coarse results (``_Done``) in between; the final rules are the same.
    ``precision``: see ``explain_loaded``."""
    adaptive = opts.method == "engine" and opts.n_steps is None
    rows_dtype = precision_of(clf, precision, opts.tolerance if adaptive else None)
    if adaptive and opts.max_steps < MIN_STEPS:
        raise InvalidInput(
            f"max_steps is {opts.max_steps}, but the adaptive rule needs at least {MIN_STEPS} points "
            "of the path (its two ends and two inside) to check its own error.",
            f"Use max_steps of at least {MIN_STEPS}, or a fixed rule with n_steps.",
        )

    def stack(targets: list) -> Callable:
        return lambda logits: torch.stack([t.values(logits) for t in targets], dim=1)

    items, owner = [], []  # every window of every text; the text it belongs to
    for g, group in enumerate(groups):
        for seqs in group.windows:
            items.append(
                Item(
                    inputs=[p.inputs for p in seqs],
                    references=[reference_ids(p.inputs["input_ids"], ~p.attributed(group.attributed), ref_id) for p in seqs],
                )
            )
            owner.append(g)
    picked: list = [[] for _ in groups]
    means: list = [None] * len(groups)

    def chooser(g: int) -> Callable:
        def choose(logits):
            picked[g][:] = choosers[g](logits)
            return stack(picked[g])

        return choose

    lengths = {p.inputs["input_ids"].shape[1] for group in groups for seqs in group.windows for p in seqs}
    # The model's round-1 layout (profiled on first use, before this path's hooks go in).
    nodes = prior.first_nodes(clf) if opts.first_round == "calibrated" and adaptive else None
    runner = PathRunner(clf.model, clf.sites, items, pad=clf.padder() if len(lengths) > 1 else None, autocast=rows_dtype)
    owned = [[i for i in range(len(items)) if owner[i] == g] for g in range(len(groups))]

    def done(quads: list, t_pred: float) -> list:
        dtype = str(rows_dtype or next(iter(clf.parameters())).dtype).replace("torch.", "")
        return [
            _Done(
                group,
                list(picked[g]),
                [quads[i] for i in owned[g]],
                means[g] if means[g] is not None else items[owned[g][0]].logits_at_input,
                [items[i] for i in owned[g]],
                t_pred,
                time.perf_counter(),
                dtype,
            )
            for g, group in enumerate(groups)
        ]

    early = None
    if draft is not None and adaptive:
        first = min(opts.max_steps, len(nodes) if nodes is not None else FIRST_POINTS)
        row_tokens = sum(int(x["input_ids"].shape[1]) for item in items for x in item.inputs)
        if cost.estimated_seconds(clf, first * row_tokens) > DRAFT_AFTER_S:
            early = lambda rules: draft(done(rules, t_pred))  # t_pred is set before integration starts
    tolerances = [opts.tolerance] * len(items)
    long = [g for g, group in enumerate(groups) if len(group.windows) > 1]
    with runner.hooks():
        if long:
            # Long texts: the target is chosen on the weighted mean of the windows' logits at
            # the text, and each window's tolerance is scaled so that the mean meets the
            # request's for every quantity.
            check_deadline()
            ends = runner.logits([[1.0, 0.0] if owner[i] in long else None for i in range(len(items))])
        for g, group in enumerate(groups):
            mine = [i for i in range(len(items)) if owner[i] == g]
            if g not in long:
                items[mine[0]].choose = chooser(g)
                continue
            means[g] = sum(w * ends[i][1.0] for w, i in zip(group.weights, mine))
            picked[g][:] = choosers[g](means[g])
            changes = [[float(t.values(ends[i][1.0][None]) - t.values(ends[i][0.0][None])) for t in picked[g]] for i in mine]
            for k in range(len(picked[g])):
                overall = abs(sum(w * c[k] for w, c in zip(group.weights, changes)))
                for i, c in zip(mine, changes):
                    allowed = opts.tolerance * max(overall, SCALE_FLOOR) / max(abs(c[k]), SCALE_FLOOR)
                    tolerances[i] = min(tolerances[i], allowed, 0.5)
            for i in mine:
                items[i].quantity = stack(picked[g])
        t_pred = time.perf_counter()
        check_deadline()
        if opts.method == "captum":
            from .captum_lig import integrate_with_captum

            quads = []
            for i in range(len(items)):
                check_deadline()
                quads.append(integrate_with_captum(runner, i, opts.steps, tolerances[i]))
        else:
            quads = integrate(
                runner,
                config=clf.model.config,
                tolerances=tolerances,
                max_steps=opts.max_steps,
                n_steps=opts.n_steps,
                word_tolerance=opts.word_tolerance,
                first_nodes=nodes,
                draft=early,
            )
    if opts.method == "engine":
        cost.learn(clf, runner.grad_seconds, runner.grad_row_tokens)
    return done(quads, t_pred)


def precision_of(clf: Classifier, name: str, tolerance: Optional[float]) -> Optional[torch.dtype]:
    """The gradient rows' autocast dtype: None for a fixed rule (``tolerance`` None) or
    where ``precision.choose_precision`` keeps the model's own."""
    if name not in PRECISIONS:
        raise InvalidInput(f"Unknown precision {name!r}.", f"Use one of: {', '.join(PRECISIONS)}.")
    return None if tolerance is None else choose_precision(clf, name, tolerance)


def _explanations(
    clf: Classifier,
    text: str,
    text_pair: Optional[str],
    done: _Done,
    labels: Sequence[str],
    probs: torch.Tensor,
    head: str,
    baseline: tuple,
    opts: Options,
    t0: float,
    *,
    zero_shot: Optional[ZeroShot] = None,
    draft: bool = False,
) -> tuple:
    """One Explanation per explained quantity."""
    ref_kind, ref_token, ref_id = baseline
    pieces, weights, bounds = done.group.windows, done.group.weights, done.group.bounds
    tok = clf.tokenizer
    ids = [[p.inputs["input_ids"][0].tolist() for p in seqs] for seqs in pieces]
    names = [[tok.convert_ids_to_tokens(x) for x in window] for window in ids]
    parts = [q.parts() for q in done.quads]
    attributed = (0,) if zero_shot is not None else (0, 1)
    predicted = int(probs.argmax()) if head != REGRESSION else 0
    out = []
    for k, quantity in enumerate(done.quantities):
        tokens: list = []
        windows: list = []
        misses = []
        for w, (seqs, quad) in enumerate(zip(pieces, done.quads)):
            total = 0.0
            for j, piece in enumerate(seqs):
                n = piece.inputs["input_ids"].shape[1]
                scores = torch.zeros(n, dtype=torch.float64)
                for site, part in zip(clf.sites.sites, parts[w]):
                    scores += site.to_tokens(part[k, j] if part.dim() == 3 else part[j], n)
                total += float(scores.sum())
                values = (scores * weights[w]).tolist()
                tag = j if zero_shot is not None else None
                for i, (tid, name, seg, (s, e), v) in enumerate(
                    zip(ids[w][j], names[w][j], piece.segments, piece.offsets, values)
                ):
                    if seg is not None and seg not in attributed:
                        continue  # a zero-shot hypothesis: not on the path, no score
                    if seg is None:  # special
                        tokens.append(TokenScore(i, str(name), tid, None, None, v, True, w, 0, tag))
                    else:
                        tokens.append(TokenScore(i, str(name), tid, s, max(s, e), v, False, w, seg, tag))
            f1, f0 = float(quad.f_input[k]), float(quad.f_baseline[k])
            misses.append(total - (f1 - f0))
            lo, hi = bounds[w] if bounds else (0, len(text))
            first = seqs[0]
            word = getattr(quad, "word_errors", None)
            word = None if word is None else float(word[k])
            windows.append(
                Window(
                    first.start,
                    first.end,
                    lo,
                    hi,
                    int(first.inputs["input_ids"].shape[1]),
                    quad.steps,
                    float(quad.errors[k]),
                    bool(quad.errors[k] <= quad.tolerance),
                    f1,
                    f0,
                    total,
                    forward_rows=done.items[w].forward_rows,
                    rounds=quad.rounds,
                    weight=weights[w],
                    segment=first.windowed,
                    word_error=word,
                )
            )
        f_input = sum(w.weight * w.f_input for w in windows)
        f_baseline = sum(w.weight * w.f_baseline for w in windows)
        error = relative_error(f_input - f_baseline + sum(wt * m for wt, m in zip(weights, misses)), f_baseline, f_input)
        word_error = None if any(w.word_error is None for w in windows) else max(w.word_error for w in windows)
        met = error <= opts.tolerance and (
            word_error is None or opts.word_tolerance is None or word_error <= opts.word_tolerance
        )
        explained = quantity.describe(labels)
        if len(windows) > 1:
            explained = f"the mean over {len(windows)} windows (each weighted by its share of the text) of {explained}"
        unk = getattr(tok, "unk_token_id", None)
        words = word_scores(text, [t for t in tokens if t.segment == 0], unk)
        if text_pair is not None:
            words += tuple(replace(u, segment=1) for u in word_scores(text_pair, [t for t in tokens if t.segment == 1], unk))
        out.append(
            Explanation(
                text=text,
                text_pair=text_pair,
                checkpoint=clf.checkpoint,
                head=head,
                labels=tuple(labels),
                probabilities={name: float(v) for name, v in zip(labels, probs.tolist())},
                predicted=labels[predicted],
                target=labels[quantity.target],
                contrast=None if quantity.contrast is None else labels[quantity.contrast],
                explained=explained,
                baseline={
                    "kind": ref_kind,
                    "token": ref_token,
                    "token_id": ref_id,
                    "description": f"every non-special token replaced by {ref_token!r}; special tokens kept"
                    + ("; the hypotheses kept" if zero_shot is not None else ""),
                },
                steps=sum(w.steps for w in windows),
                tolerance=opts.tolerance,
                converged=bool(met),
                completeness_error=float(error),
                word_error=word_error,
                word_tolerance=opts.word_tolerance if word_error is not None else None,
                f_input=float(f_input),
                f_baseline=float(f_baseline),
                tokens=tuple(tokens),
                words=words,
                windows=tuple(windows),
                timings={
                    "predict_s": round(done.t_pred - t0, 4),
                    "attribution_s": round(done.t_attr - done.t_pred, 4),
                    "total_s": round(time.perf_counter() - t0, 4),
                    "cache": "miss",
                },
                draft=draft,
                device=str(clf.device),
                dtype=done.dtype,
                method=opts.method,
                quantity=quantity.kind,
                zero_shot=zero_shot,
            )
        )
    return tuple(out)
