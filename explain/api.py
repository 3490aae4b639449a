"""``explain()``: validate -> load -> engine -> optional checks -> result cache.

The public call behind every surface (Python, the app, the command line). It knows
the method options only; what a public server adds (text and token limits, a deadline,
which folders a visitor may name) is ``explain.serving``'s job."""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Optional, Union

from .checkpoints import load_classifier
from .checks import baselines as _baselines
from .checks.faithfulness import evaluate_faithfulness
from .engine import Classifier, Options, check_text, explain_loaded
from .engine.path import DEFAULT_MAX_STEPS, DEFAULT_TOLERANCE
from .lru import BoundedLRU
from .result import BaselineComparison, Explanation

Model = Union[str, Path, Classifier, tuple]
# Finished explanations, bounded in count and total text characters (a long text's
# result holds a score per token). Explanations are immutable: a hit is served as is,
# with only its timings replaced.
RESULTS: BoundedLRU = BoundedLRU(256, 2_000_000, weight=lambda expl: len(expl.text))


def explain(text: str, model: Model, *, target: Union[str, int, None] = None,
            contrast: Union[str, int, None] = None, baseline: str = "auto", output: str = "auto",
            method: str = "engine", n_steps: Optional[int] = None, tolerance: float = DEFAULT_TOLERANCE,
            max_steps: int = DEFAULT_MAX_STEPS, max_tokens: Optional[int] = None,
            faithfulness: bool = False, cache: bool = True) -> Explanation:
    """Explain ``model``'s prediction on ``text`` with layer integrated gradients.

    ``model``: a Hub ID (``org/name[@revision]``), a local folder, a loaded ``Classifier``
    (``load_classifier(..., device=...)``), or ``(model, tokenizer)``.
    ``target``/``contrast``: label names or indices (default: the predicted label, no
    contrast). ``baseline``: auto, mask, pad, unk or a token. ``output``: "auto"/"logit"
    explains the logit (log-odds for sigmoid heads), "probability" the probability.
    ``method``: "engine" - adaptive until the completeness error is under ``tolerance``
    (at most ``max_steps`` gradient rows), or a fixed Gauss-Legendre rule of ``n_steps`` -
    or "captum": Captum's LayerIntegratedGradients with ``n_steps`` (default 50) on the
    same call sites and baseline. ``max_tokens``: window length for long texts (default:
    the model's limit). ``faithfulness``: also deletion/insertion curves and AOPC vs
    random words, in ``extras.faithfulness``. ``cache``: reuse an identical earlier
    explanation (``timings["cache"] == "hit"``). A deadline, if any, is set by the caller
    (``with explain.deadline(seconds): ...``)."""
    t0 = time.perf_counter()
    check_text(text)
    options = Options(target=target, contrast=contrast, baseline=baseline, output=output, method=method,
                      n_steps=n_steps, tolerance=tolerance, max_steps=max_steps, max_tokens=max_tokens)
    clf = load_classifier(model)
    t_load = time.perf_counter()
    key = (identity(clf), text, options, bool(faithfulness))
    try:
        hash(key)
    except TypeError:  # an unhashable option: it gets its clear error below, uncached
        cache = False
    if cache:
        hit = RESULTS.get(key)
        if hit is not None:
            return as_hit(hit, time.perf_counter() - t0)
    expl = explain_loaded(clf, text, options)
    if faithfulness:
        expl = expl.with_extras(faithfulness=evaluate_faithfulness(expl, clf))
    expl = expl.replace(timings={"load_s": round(t_load - t0, 4), **expl.timings,
                                 "total_s": round(time.perf_counter() - t0, 4)})
    if cache:
        RESULTS.put(key, expl)
    return expl


def compare_baselines(text: str, model: Model, baselines: Sequence[str] = _baselines.DEFAULT_BASELINES, *,
                      reference: Optional[Explanation] = None, **options) -> BaselineComparison:
    """Explain ``text`` once per baseline token (same target and contrast) and compare
    the word rankings (Kendall tau, Spearman). ``reference``: an explanation already
    made (not run again; its target and contrast are used). ``options``: as for
    ``explain()`` (method options only)."""
    check_text(text)
    clf = load_classifier(model)
    options.pop("faithfulness", None)
    options.pop("cache", None)
    return _baselines.compare_baselines(clf, text, baselines, reference=reference, options=Options(**options))


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
    params = clf.memo.get("parameters")
    if params is None:  # listing a model's parameters walks its modules: once per classifier
        params = clf.memo["parameters"] = tuple(clf.model.parameters())
    version = sum(p._version for p in params)
    return ("object", token, version, str(clf.device))


def as_hit(expl: Explanation, seconds: float) -> Explanation:
    """The stored explanation, marked as served from the cache (timings only)."""
    timings = {key: 0.0 for key in expl.timings if key.endswith("_s")}  # the same keys: nothing was computed
    timings.update(total_s=round(seconds, 6), cache="hit", computed_total_s=expl.timings.get("total_s"))
    return expl.replace(timings=timings)
