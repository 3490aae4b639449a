"""Reduced precision for the path's gradient rows: bfloat16 autocast, where the device
runs it natively, the model is big enough for it to pay, and - measured once per model,
on the calibration probes - its error stays well within the bounds.

The prediction and the explained quantity at both ends of the path always come from a
forward pass in the model's own precision (float32), so the completeness error reported
includes the rows' rounding; the per-model check bounds what the completeness check
cannot see, the error of the word scores themselves. ``auto`` decides per model, never
by timing, so the same model on the same machine always gets the same precision."""

from __future__ import annotations

from typing import Optional

import numpy as np
import torch

from ..errors import InvalidInput
from ..options import PRECISIONS

# Below this size bfloat16 rows are not faster on a CPU (measured: the bundled 4.7M-parameter
# model is ~10% slower; a BERT-base-sized one 1.1-1.5x faster on an AVX512-BF16 CPU, benchmarks/speed.py).
MIN_PARAMETERS = 50_000_000
WORD_SHARE = 0.005  # bfloat16's word-score error on every probe: at most 0.5% (a quarter of a 2% bound)
COMPLETENESS_SHARE = 0.25  # and the completeness error it adds: at most this share of the tolerance
STRIDE = 4  # the check uses every 4th point of the calibration grid (9 of 33)
MEMO_KEY = "bfloat16_check"


def native_bfloat16(device: torch.device) -> bool:
    """Whether ``device`` multiplies bfloat16 natively (AVX512-BF16 or AMX on a CPU)."""
    if device.type == "cuda":
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    if device.type != "cpu":
        return False
    cpu = getattr(torch, "cpu", None)
    probes = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in probes)


def choose_precision(clf, precision: str, tolerance: float) -> Optional[torch.dtype]:
    """The autocast dtype of the gradient rows (None: the model's own precision)."""
    if precision not in PRECISIONS:
        raise InvalidInput(f"Unknown precision {precision!r}.", f"Use one of: {', '.join(PRECISIONS)}.")
    own = next(iter(clf.parameters())).dtype
    if precision == "float32" or own != torch.float32:
        return None
    if precision == "bfloat16":
        return torch.bfloat16
    if clf.n_parameters < MIN_PARAMETERS or not native_bfloat16(clf.device):
        return None
    check = clf.memo.get(MEMO_KEY)
    if check is None:
        check = clf.memo[MEMO_KEY] = measure(clf)
    word, completeness = check
    return torch.bfloat16 if word <= WORD_SHARE and completeness <= COMPLETENESS_SHARE * tolerance else None


def measure(clf) -> tuple:
    """(word error, added completeness error) of bfloat16 rows on the calibration probes,
    the worst probe: the same spline rule on every STRIDE-th grid point, bfloat16 rows vs
    the calibration's own float32 rows."""
    from . import prior
    from .path import Item, PathRunner, activation_budget, chunk_rows
    from .quadrature import SCALE_FLOOR, spline_weights
    from .reference import reference_ids, reference_token
    from .windows import tokenize

    prof = prior.profile_of(clf)
    idx = list(range(0, len(prof.alphas), STRIDE))
    if idx[-1] != len(prof.alphas) - 1:
        idx.append(len(prof.alphas) - 1)
    alphas = [float(prof.alphas[i]) for i in idx]
    _, _, ref_id = reference_token(clf, "auto")
    items = []
    for text, target in zip(prior.PROBES, prof.targets):
        piece = tokenize(clf, text, 0, len(text))
        items.append(
            Item.single(piece.inputs, reference_ids(piece.inputs["input_ids"], piece.special, ref_id), quantity=target)
        )
    runner = PathRunner(clf.model, clf.sites, items, pad=clf.padder(), autocast=torch.bfloat16)
    chunk = chunk_rows(clf.model.config, runner.positions, grad=True, budget=activation_budget(clf.device))
    with torch.inference_mode(False), clf.frozen(), runner.hooks():
        samples = runner.evaluate([alphas] * len(items), grad=True, chunk=chunk)
    rule = spline_weights(alphas).sum(0)
    word, added = 0.0, 0.0
    for f, tokens, got in zip(prof.f, prof.tokens, samples):
        full = rule @ tokens[idx]
        low = rule @ np.stack([np.concatenate([p.reshape(1, -1)[0].numpy() for p in got[a].parts]) for a in alphas])
        change = f[-1] - f[0]
        scale = max(abs(change), SCALE_FLOOR)
        norm = max(float(np.linalg.norm(full)), scale / np.sqrt(max(len(full), 1)))
        word = max(word, float(np.linalg.norm(low - full)) / norm)
        added = max(added, (abs(low.sum() - change) - abs(full.sum() - change)) / scale)
    return word, added
