"""One text on one loaded classifier -> one Explanation: the engine's entry point.

A text that fits the model is one window, and the first integration pass also makes
the prediction (its alpha = 1 row is the plain forward pass). A longer text is cut into
overlapping windows (``windows``); each window stands for the stretch of text up to the
middles of its overlaps, and weighs in by that stretch's share of the text. The
prediction is the weighted mean of the windows' logits, and the explained quantity the
weighted mean over the windows of the target's logit (or log-odds, probability,
contrast). Its integrated gradients along the joint path (every window's tokens moving
together) are the windows' own attributions times their weights; a token in an overlap
gets its contributions from every window that contains it. So the word scores add up to
the change in that mean, and the completeness error is reported for it: one stated
quantity, no per-window scales. (Measured against whole-text explanations, this weighting
came closer to them than the plain mean or the old per-window stitching:
``python -m benchmarks.long_texts``.)"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Union, get_args

import torch

from ..errors import InvalidInput
from ..result import Explanation, MethodKind, TokenScore, Window
from . import windows as windowing
from .classifier import Classifier
from .clock import check_deadline
from .heads import OUTPUTS, REGRESSION, Quantity, make_quantity, probabilities, resolve_label
from .path import DEFAULT_MAX_STEPS, DEFAULT_TOLERANCE, PathRunner, integrate
from .quadrature import SCALE_FLOOR, relative_error
from .reference import reference_ids, reference_token
from .words import word_scores

MAX_CHARS = 100_000  # a library-wide sanity bound; servers set their own, lower one
METHODS = get_args(MethodKind)
CAPTUM_DEFAULT_STEPS = 50  # Captum's own default


@dataclass(frozen=True)
class Options:
    """What to explain and how; validated on construction (hashable: a cache key).

    ``target``/``contrast``: label names or indices (default: the predicted label, no
    contrast). ``output``: "auto"/"logit" explains the logit (log-odds for sigmoid heads),
    "probability" the probability. ``method``: "engine" (adaptive until the completeness
    error is under ``tolerance``, or a fixed Gauss-Legendre rule of ``n_steps``) or
    "captum" (Captum's own LayerIntegratedGradients, ``n_steps`` nodes, default 50).
    ``max_tokens``: the window length for long texts (default: the model's limit)."""

    target: Union[str, int, None] = None
    contrast: Union[str, int, None] = None
    baseline: str = "auto"
    output: str = "auto"
    method: str = "engine"
    n_steps: Optional[int] = None
    tolerance: float = DEFAULT_TOLERANCE
    max_steps: int = DEFAULT_MAX_STEPS
    max_tokens: Optional[int] = None

    def __post_init__(self) -> None:
        if self.output not in OUTPUTS:
            raise InvalidInput(f"Unknown output {self.output!r}.", f"Use one of: {', '.join(OUTPUTS)}.")
        if self.method not in METHODS:
            raise InvalidInput(f"Unknown method {self.method!r}.", f"Use one of: {', '.join(METHODS)}.")
        if not isinstance(self.baseline, str):
            raise InvalidInput(f"The baseline must be text, not {type(self.baseline).__name__}.",
                               "Use auto, mask, pad, unk or a token.")
        try:
            ok = not isinstance(self.tolerance, bool) and 0 < float(self.tolerance) < 1
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise InvalidInput(f"tolerance must be between 0 and 1, got {self.tolerance!r}.", "The default is 0.01.")
        object.__setattr__(self, "tolerance", float(self.tolerance))
        if self.n_steps is not None:
            object.__setattr__(self, "n_steps", _whole(self.n_steps, "n_steps", "Leave it empty for adaptive steps."))
        object.__setattr__(self, "max_steps", _whole(self.max_steps, "max_steps", "The default is 256."))
        if self.max_tokens is not None:
            object.__setattr__(self, "max_tokens", _whole(self.max_tokens, "max_tokens", "Leave it empty."))

    @property
    def steps(self) -> Optional[int]:
        """The fixed node count in force (Captum's default for method="captum")."""
        return self.n_steps if self.n_steps is not None or self.method != "captum" else CAPTUM_DEFAULT_STEPS


def _whole(value, name: str, fix: str) -> int:
    try:
        whole = not isinstance(value, bool) and float(value).is_integer() and value >= 1
    except (TypeError, ValueError):
        whole = False
    if not whole:
        raise InvalidInput(f"{name} must be a whole number of at least 1, got {value!r}.", fix)
    return int(value)


def check_text(text, max_chars: int = MAX_CHARS) -> None:
    if not isinstance(text, str):
        raise InvalidInput(f"The text must be a string, not {type(text).__name__}.", "Pass the text to explain.")
    if not text.strip():
        raise InvalidInput("The text is empty.", "Type or paste a sentence to explain.")
    if len(text) > max_chars:
        raise InvalidInput(f"The text has {len(text):,} characters; this server explains at most {max_chars:,}.",
                           "Shorten the text or split it into parts.")


def explain_loaded(clf: Classifier, text: str, options: Options = Options()) -> Explanation:
    """Explain ``clf``'s prediction on ``text`` (the engine alone: no loading, no cache)."""
    t0 = time.perf_counter()
    check_text(text)
    with clf.lock, torch.inference_mode(False):
        return _explain(clf, text, options, t0)


def _explain(clf: Classifier, text: str, opts: Options, t0: float) -> Explanation:
    tok = clf.tokenizer
    ref_kind, ref_token, ref_id = reference_token(clf, opts.baseline)
    target_index = resolve_label(opts.target, clf.labels)
    resolve_label(opts.contrast, clf.labels, "contrast label")  # refuse bad options before any model work
    pieces = windowing.split(clf, text, opts.max_tokens)
    n_windows = len(pieces)
    bounds = windowing.ownership([(p.start, p.end) for p in pieces])
    weights = [(hi - lo) / max(1, len(text)) for lo, hi in bounds] if n_windows > 1 else [1.0]

    def choose(probs) -> Quantity:
        predicted = int(probs.argmax()) if clf.head != REGRESSION else 0
        return make_quantity(clf.head, clf.labels, predicted if target_index is None else target_index,
                             opts.contrast, opts.output)

    runners = [PathRunner(clf.model, clf.sites, p.inputs, reference_ids(p.inputs["input_ids"], p.special, ref_id),
                          choose=lambda lg: choose(probabilities(lg[None], clf.head)[0])) for p in pieces]
    tolerances = [opts.tolerance]
    mean_logits = None
    if n_windows > 1:
        # A long text: the prediction and the explained quantity are weighted means over
        # the windows (of the logits, of the quantity). The target is chosen on that mean,
        # and each window's tolerance is scaled so that the mean meets the request's.
        ends = []
        for runner in runners:
            check_deadline()
            with runner.hooks():
                ends.append(runner.logits([1.0, 0.0]))
        mean_logits = sum(w * e[0] for w, e in zip(weights, ends))
        quantity = choose(probabilities(mean_logits[None], clf.head)[0])
        change = [float(quantity(e)[0] - quantity(e)[1]) for e in ends]
        mean_change = abs(sum(w * c for w, c in zip(weights, change)))
        tolerances = [min(0.5, opts.tolerance * max(mean_change, SCALE_FLOOR) / max(abs(c), SCALE_FLOOR))
                      for c in change]
        for runner in runners:
            runner.quantity = quantity
    t_pred = time.perf_counter()

    tokens: list[TokenScore] = []
    windows: list[Window] = []
    misses = []  # per window: sum of its attributions minus its change, F(x) - F(x')
    for w, (piece, runner, (lo, hi)) in enumerate(zip(pieces, runners, bounds)):
        check_deadline()
        ids = piece.inputs["input_ids"]
        tolerance = tolerances[w] if n_windows > 1 else opts.tolerance
        if opts.method == "captum":
            from .captum_lig import integrate_with_captum

            quad = integrate_with_captum(runner, opts.steps, tolerance)
        else:
            with runner.hooks():
                quad = integrate(runner, config=clf.model.config, tolerance=tolerance,
                                 max_steps=opts.max_steps, n_steps=opts.n_steps)
        scores = _token_scores(clf, quad.parts(), ids.shape[1])
        misses.append(float(scores.sum()) - (quad.f_input - quad.f_baseline))
        names = tok.convert_ids_to_tokens(ids[0].tolist())
        for i, (tid, name) in enumerate(zip(ids[0].tolist(), names)):
            special = bool(piece.special[0, i])
            s, e = piece.offsets[i]
            start = None if special else piece.start + s
            end = None if special else piece.start + max(s, e)
            tokens.append(TokenScore(i, str(name), int(tid), start, end, float(scores[i]) * weights[w], special, w))
        windows.append(Window(piece.start, piece.end, lo, hi, int(ids.shape[1]), quad.steps,
                              float(quad.error), bool(quad.converged), float(quad.f_input),
                              float(quad.f_baseline), float(scores.sum()),
                              forward_rows=runner.forward_rows, rounds=quad.rounds, weight=weights[w]))
    t_attr = time.perf_counter()
    quantity = runners[0].quantity
    logits = mean_logits if mean_logits is not None else runners[0].logits_at_input
    probs = probabilities(logits[None], clf.head)[0]
    f_input = sum(w.weight * w.f_input for w in windows)
    f_baseline = sum(w.weight * w.f_baseline for w in windows)
    error = relative_error(f_input - f_baseline + sum(w * m for w, m in zip(weights, misses)), f_baseline, f_input)
    predicted = int(probs.argmax()) if clf.head != REGRESSION else 0
    explained = quantity.describe(clf.labels)
    if n_windows > 1:
        explained = f"the mean over {n_windows} windows (each weighted by its share of the text) of {explained}"
    return Explanation(
        text=text,
        checkpoint=clf.checkpoint,
        head=clf.head,
        labels=tuple(clf.labels),
        probabilities={name: float(v) for name, v in zip(clf.labels, probs.tolist())},
        predicted=clf.labels[predicted],
        target=clf.labels[quantity.target],
        contrast=None if quantity.contrast is None else clf.labels[quantity.contrast],
        explained=explained,
        baseline={"kind": ref_kind, "token": ref_token, "token_id": ref_id,
                  "description": f"every non-special token replaced by {ref_token!r}; special tokens kept"},
        steps=sum(w.steps for w in windows),
        tolerance=opts.tolerance,
        converged=error <= opts.tolerance,
        completeness_error=float(error),
        f_input=float(f_input),
        f_baseline=float(f_baseline),
        tokens=tuple(tokens),
        words=word_scores(text, tokens),
        windows=tuple(windows),
        timings={"predict_s": round(t_pred - t0, 4), "attribution_s": round(t_attr - t_pred, 4),
                 "total_s": round(time.perf_counter() - t0, 4), "cache": "miss"},
        device=str(clf.device),
        dtype=str(next(clf.model.parameters()).dtype).replace("torch.", ""),
        method=opts.method,
    )


def _token_scores(clf: Classifier, attrs: tuple, n: int) -> torch.Tensor:
    """Per-token scores from per-site, per-position attributions (shifted sites realigned)."""
    scores = torch.zeros(n, dtype=torch.float64)
    for site, per_pos in zip(clf.sites.sites, attrs):
        scores += site.to_tokens(per_pos, n)
    return scores
