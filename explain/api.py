"""``explain()``: validate -> load -> engine -> optional checks -> result cache.

The public call behind every surface (Python, the app, the command line). It knows
the method options only; what a public server adds (text and token limits, a deadline,
which folders a visitor may name) is ``explain.serving``'s job."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Optional, Union

from .checkpoints import load_classifier
from .checks import baselines as _baselines
from .checks.faithfulness import evaluate_faithfulness
from .engine import Classifier, check_text, explain_loaded
from .engine.run import explain_labels_loaded, explain_many_loaded, explain_zero_shot_loaded
from .errors import ExplainError, InvalidInput
from .lru import BoundedLRU
from .options import Options, with_overrides
from .result import BaselineComparison, Explanation

Model = Union[str, Path, Classifier, tuple]
# Finished explanations, bounded in count and total text characters (a long text's
# result holds a score per token). Explanations are immutable: a hit is served as is,
# with only its timings replaced.
RESULTS: BoundedLRU = BoundedLRU(
    256,
    2_000_000,
    weight=lambda got: sum(len(e.text) + len(e.text_pair or "") for e in (got if isinstance(got, tuple) else (got,))),
)


def explain(
    text: str,
    model: Model,
    options: Optional[Options] = None,
    *,
    text_pair: Optional[str] = None,
    faithfulness: bool = False,
    cache: bool = True,
    draft: Optional[Callable[[Explanation], None]] = None,
    **overrides,
) -> Explanation:
    """Explain ``model``'s prediction on ``text`` with layer integrated gradients.

    ``model``: a Hub ID (``org/name[@revision]``), a local folder, a loaded ``Classifier``
    (``load_classifier(..., device=...)``), or ``(model, tokenizer)``. ``options``: an
    ``explain.Options`` (what to explain and how: target, contrast, baseline, method,
    n_steps, zero-shot candidate_labels ...); ``overrides``: the same by name, on top of
    it - ``explain(text, model, target="positive", n_steps=32)``. With candidate_labels,
    a zero-shot query (see ``explain_zero_shot``). ``text_pair``: a second text (an NLI
    hypothesis, a reranker's passage), given to the tokenizer as ``tokenizer(text,
    text_pair)``; both are attributed (words carry ``segment`` 0 or 1). ``faithfulness``:
    also deletion/insertion curves and AOPC vs random words, in ``extras.faithfulness``.
    ``cache``: reuse an identical earlier explanation (then ``result.cache == "hit"``).
    ``draft``: called at most once, before the result, with a first, coarser explanation
    (``draft=True``) when the run is estimated to take more than a few seconds (never for a
    cache hit). A deadline, if any, is set by the caller (``with explain.deadline(seconds): ...``)."""
    t0 = time.perf_counter()
    options = with_overrides(options, **overrides).validate(text_pair=text_pair is not None)
    _check_texts(text, text_pair)
    clf = load_classifier(model)

    def compute():
        if options.zero_shot:
            first = (lambda got: draft(got[0])) if draft is not None else None
            expl = explain_zero_shot_loaded(
                clf,
                text,
                options.candidate_labels,
                options,
                options.hypothesis_template,
                options.multi_label,
                draft=first,
                precision=options.precision,
            )[0]
        else:
            expl = explain_loaded(clf, text, options, text_pair, draft=draft, precision=options.precision)
        if faithfulness:
            expl = expl.with_extras(faithfulness=evaluate_faithfulness(expl, clf))
        return expl

    return _cached(("one", text, text_pair, options, bool(faithfulness)), clf, compute, t0, cache)


def explain_labels(
    text: str,
    model: Model,
    labels="all",
    options: Optional[Options] = None,
    *,
    top_k: Optional[int] = None,
    text_pair: Optional[str] = None,
    cache: bool = True,
    draft: Optional[Callable[[tuple], None]] = None,
    **overrides,
) -> tuple:
    """Every label at once (``labels="all"`` or a list; ``top_k``: only the k most
    probable): one Explanation per label, most probable first, all from one path - each
    point of it evaluated once and backpropagated once per label - each with its own
    completeness error. With ``candidate_labels`` (in ``options`` or ``overrides``): every
    candidate of a zero-shot query (``labels`` is then ignored). Options as ``explain``'s
    (a target or contrast does not apply: every label is explained); ``draft`` as there,
    with a tuple."""
    t0 = time.perf_counter()
    options = with_overrides(options, **overrides).validate(text_pair=text_pair is not None)
    _check_texts(text, text_pair)
    clf = load_classifier(model)
    if options.zero_shot:
        key = ("zero-shot-all", text, options)
        return _cached(
            key,
            clf,
            lambda: explain_zero_shot_loaded(
                clf,
                text,
                options.candidate_labels,
                options,
                options.hypothesis_template,
                options.multi_label,
                every_label=True,
                draft=draft,
                precision=options.precision,
            ),
            t0,
            cache,
        )
    wanted = labels if isinstance(labels, str) or labels is None else tuple(labels)
    return _cached(
        ("labels", text, text_pair, _labels_key(wanted), top_k, options),
        clf,
        lambda: explain_labels_loaded(
            clf, text, options, wanted, top_k, text_pair, draft=draft, precision=options.precision
        ),
        t0,
        cache,
    )


def explain_zero_shot(
    text: str,
    model: Model,
    candidate_labels=None,
    options: Optional[Options] = None,
    *,
    cache: bool = True,
    draft: Optional[Callable[[Explanation], None]] = None,
    **overrides,
) -> Explanation:
    """Zero-shot classification with an NLI model, explained.

    ``candidate_labels``: a list or a comma-separated string (or in ``options``). The scores
    (``probabilities``) are transformers' ``pipeline("zero-shot-classification")``'s for the
    same model, text, labels, ``hypothesis_template`` and ``multi_label``. Explained, for
    ``target`` (default: the top candidate), is the quantity behind its score:
    single-label, its log-softmax over every candidate's entailment logit (every
    candidate's pair moves along one path); multi-label, its own entailment-vs-contradiction
    log-odds. Words are the text's; the hypotheses stay as they are (``zero_shot`` in the
    result lists them)."""
    if candidate_labels is not None:
        overrides["candidate_labels"] = candidate_labels
    options = with_overrides(options, **overrides)
    if not options.zero_shot:
        raise InvalidInput(
            "The candidate labels are empty: no label was given.", "Give labels like 'sports, politics, cooking'."
        )
    return explain(text, model, options, cache=cache, draft=draft)


def explain_many(
    texts: Sequence[str],
    model: Model,
    options: Optional[Options] = None,
    *,
    text_pairs: Optional[Sequence[Optional[str]]] = None,
    targets: Optional[Sequence] = None,
    batch_size: int = 32,
    errors: str = "raise",
    cache: bool = True,
    **overrides,
) -> list:
    """Explain many texts, packed: texts of similar length share each batched pass (up
    to ``batch_size`` texts at a time), with results equal to one-by-one ``explain()``
    calls (the same rule and nodes; float32 batching differences ~1e-6). Returns the
    Explanations in input order. ``targets``: one per text (None: the options' target).
    ``errors="return"``: a text that cannot be explained gets its ExplainError in its place
    instead of stopping the run. Zero-shot options explain the texts one by one."""
    if errors not in ("raise", "return"):
        raise InvalidInput(f"errors must be 'raise' or 'return', not {errors!r}.", "Use errors='return' to go on.")
    texts = list(texts)
    options = with_overrides(options, **overrides).validate(
        text_pair=text_pairs is not None and any(p is not None for p in text_pairs)
    )
    batch_size = max(1, int(batch_size))
    pairs = list(text_pairs) if text_pairs is not None else [None] * len(texts)
    wanted = list(targets) if targets is not None else [None] * len(texts)
    if len(pairs) != len(texts) or len(wanted) != len(texts):
        raise InvalidInput("texts, text_pairs and targets must have the same length.", "Give one of each per text.")
    clf = load_classifier(model)
    if options.zero_shot or options.method == "captum":
        return [_one_of_many(texts[k], clf, options, pairs[k], wanted[k], errors, cache) for k in range(len(texts))]
    out: list = [None] * len(texts)
    keys = []
    for k, text in enumerate(texts):
        opts = replace(options, target=wanted[k]) if wanted[k] is not None else options
        key = (identity(clf), "one", text, pairs[k], opts, False)
        try:
            hash(key)
        except TypeError:
            key = None
        keys.append(key)
        hit = RESULTS.get(key) if cache and key is not None else None
        if hit is not None:
            out[k] = as_hit(hit, 0.0)
    todo = sorted(
        (k for k in range(len(texts)) if out[k] is None),
        key=lambda k: len(texts[k]) + len(pairs[k] or "") if isinstance(texts[k], str) else 0,
    )
    for start in range(0, len(todo), batch_size):
        part = todo[start : start + batch_size]
        got = explain_many_loaded(
            clf,
            [texts[k] for k in part],
            options,
            [pairs[k] for k in part],
            [wanted[k] for k in part],
            precision=options.precision,
        )
        for k, result in zip(part, got):
            out[k] = result
            if cache and keys[k] is not None and isinstance(result, Explanation):
                RESULTS.put(keys[k], result)
    if errors == "raise":
        failed = next((r for r in out if isinstance(r, ExplainError)), None)
        if failed is not None:
            raise failed
    return out


def _one_of_many(text, clf, options: Options, pair, target, errors: str, cache: bool):
    """One text of ``explain_many`` explained on its own (zero-shot, Captum)."""
    try:
        return explain(
            text, clf, replace(options, target=target) if target is not None else options, text_pair=pair, cache=cache
        )
    except ExplainError as exc:
        if errors == "raise":
            raise
        return exc


def _check_texts(text, text_pair) -> None:
    check_text(text)
    if text_pair is not None:
        check_text(text_pair, what="text pair")


def _labels_key(labels):
    if isinstance(labels, (list, tuple)):
        return tuple(str(x) if not isinstance(x, int) else x for x in labels)
    return labels


def _cached(key: tuple, clf: Classifier, compute, t0: float, cache: bool):
    """``compute()`` (an Explanation or a tuple of them), through the result cache."""
    t_load = time.perf_counter()
    key = (identity(clf), *key)
    try:
        hash(key)
    except TypeError:  # an unhashable option: it gets its clear error below, uncached
        cache = False
    if cache:
        hit = RESULTS.get(key)
        if hit is not None:
            seconds = time.perf_counter() - t0
            return tuple(as_hit(e, seconds) for e in hit) if isinstance(hit, tuple) else as_hit(hit, seconds)
    got = compute()

    def timed(expl: Explanation) -> Explanation:
        return expl.replace(
            timings={"load_s": round(t_load - t0, 4), **expl.timings, "total_s": round(time.perf_counter() - t0, 4)}
        )

    got = tuple(timed(e) for e in got) if isinstance(got, tuple) else timed(got)
    if cache:
        RESULTS.put(key, got)
    return got


def compare_baselines(
    text: str,
    model: Model,
    baselines: Sequence[str] = _baselines.DEFAULT_BASELINES,
    options: Optional[Options] = None,
    *,
    reference: Optional[Explanation] = None,
    **overrides,
) -> BaselineComparison:
    """Explain ``text`` once per baseline token (same target and contrast) and compare
    the word rankings (Kendall tau, Spearman). ``reference``: an explanation already
    made (not run again; its target and contrast are used). Options as ``explain``'s."""
    options = with_overrides(options, **overrides).validate()
    check_text(text)
    clf = load_classifier(model)
    return _baselines.compare_baselines(clf, text, baselines, reference=reference, options=options)


# --- the result cache's key and hits -------------------------------------------------------

_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TOKENS = itertools.count(1)
_IDENTITY_LOCK = threading.Lock()


def identity(clf: Classifier) -> tuple:
    """What makes two loaded classifiers give the same explanations.

    A checkpoint pinned to a Hub commit is (source, commit, device): its entries survive
    the model being unloaded and loaded again. Anything else (a local folder, a model in
    memory) is the loaded object itself and its weights' version counters, so neither a
    re-saved folder, once reloaded, nor a model trained in place serves stale results."""
    if isinstance(clf.revision, str) and _COMMIT.match(clf.revision):
        return ("hub", clf.source, clf.revision, str(clf.device))
    with _IDENTITY_LOCK:  # a number that lives on the object (unique for the process's lifetime)
        token = clf.memo.get("result_cache_token")
        if token is None:
            token = clf.memo["result_cache_token"] = next(_TOKENS)
    # In-place changes to the weights (an optimizer step) bump the parameters' version counters.
    version = sum(p._version for p in clf.parameters())
    return ("object", token, version, str(clf.device))


def as_hit(expl: Explanation, seconds: float) -> Explanation:
    """The stored explanation, marked as served from the cache (timings only)."""
    timings = {key: 0.0 for key in expl.timings if key.endswith("_s")}  # the same keys: nothing was computed
    timings.update(total_s=round(seconds, 6), computed_total_s=expl.timings.get("total_s", 0.0))
    return expl.replace(timings=timings, cache="hit")
