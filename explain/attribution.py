"""Integrated gradients at the word-embedding layer, with a path-matched error bound.

The model always gets the real ``input_ids`` (plus the tokenizer's attention mask and
token types), so it builds its own position ids. Along the path only the output of
the word-embedding call sites is replaced, by ``baseline + alpha * (input - baseline)``
through a forward hook: layer integrated gradients. The gradients are computed by
Captum's ``IntegratedGradients`` over those layer values (the layer outputs of input
and baseline are computed once here, not by extra forward passes).

Integration is composite Gauss-Legendre, adaptive: a forward-only scan along the path
shows where the output changes; intervals of equal change get a few nodes each, and
each interval's own completeness check (sum of its attributions vs. the change of the
output across it) says where to refine, until the relative completeness error
|sum(attr) - (F(x) - F(x'))| / |F(x) - F(x')| is under the tolerance. F(x') is
computed on the same path (real ids, baseline embeddings), never by feeding the
baseline ids, which differ for models whose positions depend on padding.
"""

from __future__ import annotations

import contextlib
import math
from dataclasses import dataclass
from typing import Callable, Optional, Sequence

import torch
from captum.attr import IntegratedGradients

from .errors import InvalidInput
from .layers import EmbeddingSites
from .limits import check_deadline

DEFAULT_TOLERANCE = 1e-2
DEFAULT_MAX_STEPS = 256
ACTIVATION_BUDGET = 768 * 2**20  # bytes of activations per chunk of gradient rows


@dataclass(frozen=True)
class Attribution:
    token_scores: torch.Tensor  # (n_tokens,), summed over hidden size and call sites
    f_input: float
    f_baseline: float
    steps: int  # gradient evaluations spent, including refinement
    forward_rows: int  # forward-only evaluations spent (the scan)
    error: float  # relative completeness error
    converged: bool

    @property
    def sum(self) -> float:
        return float(self.token_scores.sum())


class PathModel:
    """Runs a model with the word-embedding outputs replaced by given tensors."""

    def __init__(self, model: torch.nn.Module, sites: EmbeddingSites, inputs: dict,
                 quantity: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.model = model
        self.sites = sites
        self.keys = list(inputs)
        self.inputs = inputs
        self.quantity = quantity
        self._inject: Optional[Sequence[torch.Tensor]] = None

    @contextlib.contextmanager
    def hooks(self):
        def make(i):
            def hook(module, args, output):
                if self._inject is None:
                    return None
                value = self._inject[i]
                return value.to(output.dtype) if value.dtype != output.dtype else value
            return hook

        with self.sites.installed():
            handles = [s.layer.register_forward_hook(make(i)) for i, s in enumerate(self.sites.sites)]
            try:
                yield self
            finally:
                for h in handles:
                    h.remove()

    def expanded(self, rows: int) -> tuple:
        return tuple(self.inputs[k].expand(rows, *self.inputs[k].shape[1:]) for k in self.keys)

    def __call__(self, *tensors: torch.Tensor) -> torch.Tensor:
        """Captum's forward function: (site values..., model inputs...) -> quantity per row."""
        n = len(self.sites.sites)
        values, extra = tensors[:n], tensors[n:]
        self._inject = values
        try:
            out = self.model(**dict(zip(self.keys, extra)))
        finally:
            self._inject = None
        return self.quantity(out.logits)

    def values_along(self, x: tuple, base: tuple, alphas: Sequence[float], chunk: int) -> list[float]:
        """F(baseline + alpha * (input - baseline)) for each alpha, forward only."""
        out: list[float] = []
        with torch.no_grad():
            for i in range(0, len(alphas), chunk):
                a = torch.tensor(alphas[i:i + chunk], dtype=x[0].dtype, device=x[0].device)
                pts = tuple(b + a.view(-1, 1, 1) * (v - b) for v, b in zip(x, base))
                out.extend(self(*pts, *self.expanded(len(a))).double().tolist())
        return out


def reference_ids(input_ids: torch.Tensor, special: torch.Tensor, reference_id: int) -> torch.Tensor:
    """Baseline ids: every non-special token replaced by the reference token."""
    out = input_ids.clone()
    out[~special] = reference_id
    return out


def site_values(sites: EmbeddingSites, site_ids: list, ids: torch.Tensor, base_ids: torch.Tensor) -> tuple:
    """Baseline layer values: each site's own ids with the input positions swapped."""
    out = []
    n = ids.shape[1]
    with torch.no_grad():
        for site, sid in zip(sites.sites, site_ids):
            b = sid.clone()
            lo, hi = site.shift, min(sid.shape[1], n + site.shift)
            b[:, lo:hi] = base_ids[:, :hi - lo]
            out.append(site.embedding(b).detach())
    return tuple(out)


def chunk_rows(config, n_positions: int, grad: bool = True, budget: int = ACTIVATION_BUDGET) -> int:
    """Rows per batch so that one chunk's activations stay near ``budget`` bytes."""
    hidden = _cfg(config, ("hidden_size", "d_model", "n_embd", "dim"), 768)
    layers = _cfg(config, ("num_hidden_layers", "n_layer", "num_layers", "n_layers"), 12)
    layers += _cfg(config, ("decoder_layers", "num_decoder_layers"), 0)
    heads = _cfg(config, ("num_attention_heads", "n_head", "num_heads", "encoder_attention_heads"), 12)
    inter = _cfg(config, ("intermediate_size", "d_ff", "n_inner", "encoder_ffn_dim", "ffn_dim"), 4 * hidden)
    per_row = 4 * n_positions * layers * (16 * hidden + 2 * inter + 3 * heads * n_positions)
    if not grad:
        per_row //= 6
    return max(1, int(budget // max(per_row, 1)))


def _cfg(config, names, default):
    for name in names:
        v = getattr(config, name, None)
        if isinstance(v, int) and v > 0:
            return v
    return default


@dataclass
class _Interval:
    a: float
    b: float
    fa: float
    fb: float
    nodes: int
    attr: Optional[tuple] = None  # per-site tensors (positions, hidden)

    @property
    def error(self) -> float:
        if self.attr is None:
            return math.inf
        return float(sum(t.sum() for t in self.attr)) - (self.fb - self.fa)


def integrate(path: PathModel, x: tuple, base: tuple, f_input: float, *, config,
              tolerance: float = DEFAULT_TOLERANCE, max_steps: int = DEFAULT_MAX_STEPS,
              n_steps: Optional[int] = None, scan_points: int = 8) -> tuple:
    """Per-site attributions (positions, hidden) and the integration record.

    ``n_steps`` given: one Gauss-Legendre rule of that many nodes, as Captum would.
    Otherwise adaptive to ``tolerance`` with at most ``max_steps`` gradient evaluations."""
    if n_steps is not None and n_steps < 1:
        raise InvalidInput(f"n_steps must be at least 1, got {n_steps}.", "Leave it empty for adaptive steps.")
    positions = max(t.shape[1] for t in x)
    grad_chunk = chunk_rows(config, positions, grad=True)
    fwd_chunk = chunk_rows(config, positions, grad=False)
    ig = IntegratedGradients(path, multiply_by_inputs=True)
    spent = {"grad": 0, "fwd": 0}

    if n_steps is not None:
        f0 = path.values_along(x, base, [0.0], fwd_chunk)[0]
        spent["fwd"] += 1
        intervals = [_Interval(0.0, 1.0, f0, f_input, n_steps)]
    else:
        alphas = [j / scan_points for j in range(scan_points)]
        fs = path.values_along(x, base, alphas, fwd_chunk) + [f_input]
        spent["fwd"] += len(alphas)
        grid = alphas + [1.0]
        intervals = _partition(grid, fs, parts=2, nodes=4)
        f0 = fs[0]

    delta = f_input - f0
    scale = max(abs(delta), 1e-6)
    while True:
        check_deadline()  # a request's deadline (explain(deadline_s=...)) is checked every round
        todo = [iv for iv in intervals if iv.attr is None]
        _compute(ig, path, x, base, todo, grad_chunk)
        spent["grad"] += sum(iv.nodes for iv in todo)
        total = sum(float(sum(t.sum() for t in iv.attr)) for iv in intervals)
        error = abs(total - delta) / scale
        if error <= tolerance or n_steps is not None:
            break
        # Refine the intervals carrying the largest local error until the rest fit.
        ranked = sorted(intervals, key=lambda iv: -abs(iv.error))
        budget = max_steps - spent["grad"]
        refined = []
        remaining = sum(abs(iv.error) for iv in ranked)
        for iv in ranked:
            if remaining <= tolerance * scale * 0.5 or iv.nodes * 2 > budget:
                refined.append(iv)
                continue
            remaining -= abs(iv.error)
            budget -= iv.nodes * 2
            refined.extend(_refine(iv))
        if all(a is b for a, b in zip(refined, ranked)) and len(refined) == len(ranked):
            break  # nothing left to refine within the step cap
        intervals = sorted(refined, key=lambda iv: iv.a)
    attrs = tuple(sum(iv.attr[s] for iv in intervals) for s in range(len(x)))
    record = dict(f_baseline=f0, steps=spent["grad"], forward_rows=spent["fwd"],
                  error=error, converged=error <= tolerance)
    return attrs, record


def _partition(grid: list, fs: list, parts: int, nodes: int) -> list:
    """Split [0, 1] at scan points into ``parts`` intervals of about equal output change."""
    var = [abs(fs[i + 1] - fs[i]) for i in range(len(grid) - 1)]
    total = sum(var)
    cuts = [0]
    if total > 0:
        acc = 0.0
        want = 1
        for i, v in enumerate(var[:-1]):
            acc += v
            if acc >= total * want / parts and len(cuts) < parts:
                cuts.append(i + 1)
                want += 1
    cuts.append(len(grid) - 1)
    cuts = sorted(set(cuts))
    return [_Interval(grid[i], grid[j], fs[i], fs[j], nodes) for i, j in zip(cuts, cuts[1:])]


def _refine(iv: _Interval) -> list:
    """Twice the nodes on the same interval (Gauss-Legendre nodes do not nest)."""
    return [_Interval(iv.a, iv.b, iv.fa, iv.fb, iv.nodes * 2)]


def _compute(ig, path: PathModel, x: tuple, base: tuple, todo: list, chunk: int) -> None:
    """Gradients for intervals without them, one Captum call per node count."""
    by_nodes: dict[int, list] = {}
    for iv in todo:
        by_nodes.setdefault(iv.nodes, []).append(iv)
    for nodes, group in by_nodes.items():
        k = len(group)
        lo = torch.tensor([iv.a for iv in group], dtype=x[0].dtype, device=x[0].device).view(-1, 1, 1)
        hi = torch.tensor([iv.b for iv in group], dtype=x[0].dtype, device=x[0].device).view(-1, 1, 1)
        starts = tuple(b + lo * (v - b) for v, b in zip(x, base))
        ends = tuple(b + hi * (v - b) for v, b in zip(x, base))
        batch = max(k, (max(chunk, k) // k) * k)
        attrs = ig.attribute(ends, baselines=starts, additional_forward_args=path.expanded(k),
                             n_steps=nodes, method="gausslegendre", internal_batch_size=batch)
        if isinstance(attrs, torch.Tensor):
            attrs = (attrs,)
        for i, iv in enumerate(group):
            iv.attr = tuple(a[i].detach().double() for a in attrs)
