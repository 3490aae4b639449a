"""``explain()``: one text, one checkpoint -> one Explanation.

Texts longer than the model's limit are explained in overlapping windows (``windows``),
each window on its own, and stitched back on character spans; the result lists the
windows. A text that fits is one window, and then the first integration pass also makes
the prediction (its alpha = 1 row is the plain forward pass). Finished explanations are
kept in a bounded cache (``cache``)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Optional, Union

import torch

from . import windows as windowing
from .attribution import DEFAULT_MAX_STEPS, DEFAULT_TOLERANCE, PathRunner, integrate, reference_ids
from .cache import RESULTS, as_hit, identity
from .errors import InvalidInput
from .faithfulness import evaluate_faithfulness
from .heads import OUTPUTS, REGRESSION, make_quantity, probabilities, resolve_label
from .limits import check_deadline, check_tokens, deadline
from .loading import Classifier, load_classifier
from .result import Explanation, TokenScore, Window
from .words import word_scores

MAX_CHARS = 100_000
BASELINES = ("auto", "mask", "pad", "unk")


@dataclass
class _Piece:
    """One model-sized window of the text, tokenized, with its forward pass done."""

    start: int
    end: int
    inputs: dict
    offsets: list
    special: torch.Tensor
    logits: torch.Tensor
    site_ids: list
    site_out: tuple


def explain(text: str, model: Union[str, Classifier, tuple], *, target: Union[str, int, None] = None,
            contrast: Union[str, int, None] = None, baseline: str = "auto", output: str = "auto",
            n_steps: Optional[int] = None, tolerance: float = DEFAULT_TOLERANCE,
            max_steps: int = DEFAULT_MAX_STEPS, revision: Optional[str] = None, device=None,
            max_chars: int = MAX_CHARS, max_tokens: Optional[int] = None,
            faithfulness: bool = False, deadline_s: Optional[float] = None,
            max_text_tokens: Optional[int] = None, cache: bool = True) -> Explanation:
    """Explain ``model``'s prediction on ``text`` with layer integrated gradients.

    ``model``: a Hub ID, a local folder, a loaded ``Classifier``, or ``(model, tokenizer)``.
    ``target``/``contrast``: label names or indices (default: the predicted label, no
    contrast). ``output``: "auto"/"logit" explains the logit (log-odds for sigmoid
    heads), "probability" the probability. ``n_steps``: a fixed Gauss-Legendre rule;
    default adaptive until the completeness error is under ``tolerance``. ``faithfulness``:
    also deletion/insertion curves and AOPC vs random words, in ``extras["faithfulness"]``.
    ``max_text_tokens``: refuse longer texts (tokens, after tokenizing). ``deadline_s``:
    stop with errors.ServerBusy once the explanation (after loading) takes longer.
    ``cache``: reuse an identical earlier explanation (``timings["cache"] == "hit"``)."""
    t0 = time.perf_counter()
    check_text(text, max_chars)
    if not (0 < tolerance < 1):
        raise InvalidInput(f"tolerance must be between 0 and 1, got {tolerance}.", "The default is 0.01.")
    clf = load_classifier(model, revision=revision, device=device)
    t_load = time.perf_counter()
    if max_text_tokens is not None:
        check_tokens(clf.tokenizer, text, max_text_tokens)
    key = (identity(clf), text, target, contrast, baseline, output, n_steps, float(tolerance), max_steps,
           max_tokens, bool(faithfulness))
    try:
        hash(key)
    except TypeError:  # an unhashable option: it gets its clear error below, uncached
        cache = False
    if cache:
        hit = RESULTS.get(key)
        if hit is not None:
            return as_hit(hit, time.perf_counter() - t0)
    with clf.lock, torch.inference_mode(False), deadline(deadline_s):
        expl = _explain(clf, text, target, contrast, baseline, output, n_steps, tolerance, max_steps,
                        max_tokens, t0, t_load)
        if faithfulness:
            expl = expl.replace(extras={**expl.extras, "faithfulness": evaluate_faithfulness(expl, clf)})
    if cache:
        RESULTS.put(key, expl)
    return expl


def check_text(text, max_chars: int = MAX_CHARS) -> None:
    if not isinstance(text, str):
        raise InvalidInput(f"The text must be a string, not {type(text).__name__}.", "Pass the text to explain.")
    if not text.strip():
        raise InvalidInput("The text is empty.", "Type or paste a sentence to explain.")
    if len(text) > max_chars:
        raise InvalidInput(f"The text has {len(text):,} characters; this server explains at most {max_chars:,}.",
                           "Shorten the text or split it into parts.")


def _explain(clf: Classifier, text, target, contrast, baseline, output, n_steps, tolerance, max_steps,
             max_tokens, t0, t_load) -> Explanation:
    tok = clf.tokenizer
    ref_kind, ref_token, ref_id = reference_token(clf, baseline)
    target_index = resolve_label(target, clf.labels)
    resolve_label(contrast, clf.labels, "contrast label")  # refuse bad options before any model work
    if output not in OUTPUTS:
        raise InvalidInput(f"Unknown output {output!r}.", f"Use one of: {', '.join(OUTPUTS)}.")
    pieces = windowing.split(clf, text, max_tokens)
    owned = windowing.ownership([(p.start, p.end) for p in pieces])
    probs = None
    quantity = None
    predictions = 0
    if len(pieces) > 1:  # the target is chosen on all windows' average, before attributing any
        with torch.no_grad():
            logits = [clf.model(**p.inputs).logits.detach().float() for p in pieces]
        predictions = len(pieces)
        probs = torch.stack([probabilities(lg, clf.head)[0] for lg in logits]).mean(0)

    def choose(probs) -> object:
        predicted = int(probs.argmax()) if clf.head != REGRESSION else 0
        return make_quantity(clf.head, clf.labels, predicted if target_index is None else target_index,
                             contrast, output)

    if probs is not None:
        quantity = choose(probs)
    t_pred = time.perf_counter()

    tokens: list[TokenScore] = []
    windows: list[Window] = []
    for w, (piece, (own_lo, own_hi)) in enumerate(zip(pieces, owned)):
        check_deadline()
        ids = piece.inputs["input_ids"]
        runner = PathRunner(clf.model, clf.sites, piece.inputs, reference_ids(ids, piece.special, ref_id),
                            quantity=quantity, choose=lambda lg: choose(probabilities(lg[None], clf.head)[0]))
        with runner.hooks():
            quad = integrate(runner, config=clf.model.config, tolerance=tolerance, max_steps=max_steps,
                             n_steps=n_steps)
        if probs is None:  # one window: its first pass made the prediction
            probs = probabilities(runner.logits_at_input[None], clf.head)[0]
            quantity = runner.quantity
        scores = _token_scores(clf, quad.parts(), ids.shape[1])
        names = tok.convert_ids_to_tokens(ids[0].tolist())
        for i, (tid, name) in enumerate(zip(ids[0].tolist(), names)):
            special = bool(piece.special[0, i])
            s, e = piece.offsets[i]
            start = None if special else piece.start + s
            end = None if special else piece.start + max(s, e)
            if len(pieces) > 1 and (start is None or not own_lo <= start < own_hi):
                continue
            tokens.append(TokenScore(i, str(name), int(tid), start, end, float(scores[i]), special, w))
        windows.append(Window(piece.start, piece.end, own_lo, own_hi, int(ids.shape[1]), quad.steps,
                              float(quad.error), bool(quad.converged), float(quad.f_input),
                              float(quad.f_baseline), float(scores.sum()),
                              forward_rows=runner.forward_rows + (1 if predictions else 0), rounds=quad.rounds))
    t_attr = time.perf_counter()
    words = word_scores(text, tokens)
    predicted = int(probs.argmax()) if clf.head != REGRESSION else 0
    return Explanation(
        text=text,
        checkpoint=clf.checkpoint,
        head=clf.head,
        labels=tuple(clf.labels),
        probabilities={name: float(v) for name, v in zip(clf.labels, probs.tolist())},
        predicted=clf.labels[predicted],
        target=clf.labels[quantity.target],
        contrast=None if quantity.contrast is None else clf.labels[quantity.contrast],
        explained=quantity.describe(clf.labels),
        baseline={"kind": ref_kind, "token": ref_token, "token_id": ref_id,
                  "description": f"every non-special token replaced by {ref_token!r}; special tokens kept"},
        steps=sum(w.steps for w in windows),
        tolerance=tolerance,
        converged=all(w.converged for w in windows),
        completeness_error=float(max(w.completeness_error for w in windows)),
        tokens=tuple(tokens),
        words=words,
        windows=tuple(windows),
        timings={"load_s": round(t_load - t0, 4), "predict_s": round(t_pred - t_load, 4),
                 "attribution_s": round(t_attr - t_pred, 4), "total_s": round(time.perf_counter() - t0, 4),
                 "cache": "miss"},
        device=str(clf.device),
    )


def _forward(clf: Classifier, text: str, start: int, end: int) -> _Piece:
    """Tokenize text[start:end] as the model would and run the plain forward pass,
    recording what enters each embedding call site."""
    piece = windowing.tokenize(clf, text, start, end)
    ids_seen: list = [None] * len(clf.sites.sites)
    out_seen: list = [None] * len(clf.sites.sites)
    handles = []

    def grab(i):
        def hook(module, args, output):
            out_seen[i] = output.detach()
        return hook

    def grab_ids(i, site):
        def hook(module, args, kwargs):
            ids = args[0] if args else kwargs.get("input_ids", kwargs.get("input"))
            ids_seen[i] = ids.transpose(0, 1) if site.seq_first else ids
        return hook

    with clf.sites.installed():
        for i, site in enumerate(clf.sites.sites):
            handles.append(site.layer.register_forward_hook(grab(i)))
            handles.append(site.caller.register_forward_pre_hook(grab_ids(i, site), with_kwargs=True))
        try:
            with torch.no_grad():
                logits = clf.model(**piece.inputs).logits.detach().float()
        finally:
            for h in handles:
                h.remove()
    return _Piece(start, end, piece.inputs, piece.offsets, piece.special, logits, ids_seen, tuple(out_seen))


def _token_scores(clf: Classifier, attrs: tuple, n: int) -> torch.Tensor:
    """Per-token scores from per-site, per-position attributions (shifted sites realigned)."""
    scores = torch.zeros(n, dtype=torch.float64)
    for site, per_pos in zip(clf.sites.sites, attrs):
        lo, hi = site.shift, min(per_pos.shape[0], n + site.shift)
        scores[:hi - lo] += per_pos[lo:hi]
    return scores


def reference_token(clf: Classifier, baseline: str) -> tuple:
    """(kind, token, id) of the baseline's reference token. Auto: mask, else pad, else
    unk - never a token whose embedding row is (near) zero. Remembered per classifier
    (the norm check reads the whole embedding table) until the table changes."""
    weight = clf.sites.weight
    version = None if weight is None else (weight.data_ptr(), weight._version)
    memo = clf.__dict__.setdefault("_reference_tokens", {})
    if memo.get("version") != version:
        memo.clear()
        memo["version"] = version
    if baseline not in memo:
        memo[baseline] = _reference_token(clf, baseline)
    return memo[baseline]


def _reference_token(clf: Classifier, baseline: str) -> tuple:
    tok = clf.tokenizer
    weight = clf.sites.weight
    norms = weight.detach().float().norm(dim=-1) if weight is not None else None
    floor = 1e-3 * float(norms.median()) if norms is not None else 0.0

    def usable(tid):
        return tid is not None and (norms is None or (0 <= tid < norms.shape[0] and float(norms[tid]) > floor))

    names = {"mask": (tok.mask_token, tok.mask_token_id), "pad": (tok.pad_token, tok.pad_token_id),
             "unk": (tok.unk_token, tok.unk_token_id)}
    choice = (baseline or "auto").strip()
    if choice == "auto":
        names.update(eos=(tok.eos_token, tok.eos_token_id), bos=(tok.bos_token, tok.bos_token_id))
        for kind in ("mask", "pad", "unk", "eos", "bos"):
            token, tid = names[kind]
            if usable(tid):
                return kind, str(token), int(tid)
        if norms is None:
            raise InvalidInput("The tokenizer has no mask, pad or unk token with a usable embedding.",
                               "Pass baseline='<some token>' naming a neutral token of the vocabulary.")
        # Last resort: the real token closest to the average embedding, a neutral point.
        w = weight.detach().float()
        dist = (w - w.mean(0)).norm(dim=-1)
        dist[norms <= floor] = float("inf")
        tid = int(dist.argmin())
        return "nearest-mean", str(tok.convert_ids_to_tokens(tid)), tid
    if choice in names:
        token, tid = names[choice]
        if tid is None:
            raise InvalidInput(f"This tokenizer has no {choice} token.", "Use baseline='auto'.")
        if not usable(tid):
            raise InvalidInput(f"The {choice} token's embedding is all zeros, which makes the attributions "
                               "meaningless.", "Use baseline='auto' or another token.")
        return choice, str(token), int(tid)
    ids = tok(choice, add_special_tokens=False)["input_ids"]
    vocab_id = tok.convert_tokens_to_ids(choice)
    if isinstance(vocab_id, int) and vocab_id != tok.unk_token_id:
        ids = [vocab_id]
    if len(ids) != 1:
        raise InvalidInput(f"The baseline {choice!r} is {len(ids)} tokens for this tokenizer, not one.",
                           "Give a single token (e.g. 'mask', 'pad', 'unk', or a word in the vocabulary).")
    if not usable(ids[0]):
        raise InvalidInput(f"The baseline token {choice!r} has an all-zero embedding.", "Pick another token.")
    return "token", tok.convert_ids_to_tokens(ids[0]), int(ids[0])
