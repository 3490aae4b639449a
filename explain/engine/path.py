"""Integrated gradients at the word-embedding layer, with a path-matched error bound.

The model always gets the real ``input_ids`` (plus the tokenizer's attention mask and
token types), so it builds its own position ids. Along the path only the output of
the word-embedding call sites is replaced, by ``baseline + alpha * (input - baseline)``,
through forward hooks: layer integrated gradients. ``PathRunner`` evaluates many alphas
in one batched forward (+ backward) pass, chunked to bound memory; the input's own
layer values are read in the pass itself and the baseline's are computed once, so no
extra probe passes are spent. Gradients are taken with ``torch.autograd`` directly
(Captum's ``IntegratedGradients`` computes the same numbers for a fixed rule - the
tests check that against ``LayerIntegratedGradients`` - but needs one call per node
count and adds overhead per call).

Integration (``quadrature``) is adaptive to the relative completeness error
|sum(attr) - (F(x) - F(x'))| / |F(x) - F(x')|, with F(x') on the same path (real ids,
baseline embeddings), never the baseline ids fed to the model. In the first pass the
row at alpha = 1 is the plain forward pass of the text, so a single-window explanation
needs no separate prediction pass.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Sequence
from typing import Optional

import torch

from . import quadrature
from .clock import check_deadline
from .sites import EmbeddingSites, call_ids

DEFAULT_TOLERANCE = 1e-2
DEFAULT_MAX_STEPS = 256
ACTIVATION_BUDGET = 768 * 2**20  # bytes of activations per chunk of gradient rows


class PathRunner:
    """One text (batch 1) on one model: F and gradient contributions at any alphas.

    ``quantity`` maps logits to the explained scalar per row; when it is None,
    ``choose(logits_at_input)`` supplies it from the first pass's alpha = 1 row (the
    prediction), so a target can be picked before the backward pass."""

    def __init__(self, model: torch.nn.Module, sites: EmbeddingSites, inputs: dict, reference: torch.Tensor,
                 *, quantity: Optional[Callable] = None, choose: Optional[Callable] = None) -> None:
        self.model = model
        self.sites = sites
        self.inputs = inputs
        self.reference = reference  # baseline input ids (batch 1): specials kept, the rest replaced
        self.quantity = quantity
        self.choose = choose
        self.logits_at_input: Optional[torch.Tensor] = None
        self.positions = max(int(inputs["input_ids"].shape[1]) + 1, 1)
        n = len(sites.sites)
        self._base: list = [None] * n  # baseline layer values per site (1, positions, hidden)
        self._diff: list = [None] * n  # input - baseline per site
        self._ids: list = [None] * n
        self._alphas: Optional[torch.Tensor] = None
        self._grad = False
        self._leaves: list = [None] * n
        self._busy = False
        self.forward_rows = 0
        self.gradient_rows = 0

    @contextlib.contextmanager
    def hooks(self):
        handles = []
        with self.sites.installed():
            try:
                for i, site in enumerate(self.sites.sites):
                    handles.append(site.caller.register_forward_pre_hook(self._pre_hook(i), with_kwargs=True))
                    handles.append(site.layer.register_forward_hook(self._hook(i)))
                yield self
            finally:
                for h in handles:
                    h.remove()

    def _pre_hook(self, i: int):
        seq_first = self.sites.sites[i].seq_first

        def hook(module, args, kwargs):
            if self._busy or self._base[i] is not None:
                return None
            self._ids[i] = call_ids(args, kwargs, seq_first)[:1].detach()
            return None
        return hook

    def _hook(self, i: int):
        def hook(module, args, output):
            if self._busy or self._alphas is None:
                return None
            x = output[:1].detach()
            if self._base[i] is None:
                self._base[i] = self._baseline(i).to(x.dtype)
                self._diff[i] = x - self._base[i]
            base, diff = self._base[i], self._diff[i]
            a = self._alphas.to(x.dtype).view(-1, 1, 1)
            v = base + a * diff
            # The ends are exact: alpha = 1 is the model's own layer output (the prediction).
            v = torch.where(a == 1, x.expand_as(v), torch.where(a == 0, base.expand_as(v), v))
            if self._grad:
                v = v.detach().requires_grad_(True)
                self._leaves[i] = v
            return v.to(output.dtype)
        return hook

    def _baseline(self, i: int) -> torch.Tensor:
        site = self.sites.sites[i]
        sid = self._ids[i]
        if sid is None:
            raise RuntimeError(f"the ids reaching {site.path} were not seen")
        b = site.overlay(sid, self.reference)
        self._busy = True
        try:
            with torch.no_grad():
                return site.embedding(b).detach()
        finally:
            self._busy = False

    def evaluate(self, alphas: Sequence[float], *, grad: bool, chunk: int) -> dict:
        """{alpha: Sample}; samples carry F and (if ``grad``) the per-position gradient
        contributions (gradient x (input - baseline), summed over the hidden size)."""
        order = sorted(set(float(a) for a in alphas), reverse=True)  # alpha = 1 first: it may pick the target
        out: dict = {}
        for i in range(0, len(order), chunk):
            if i:
                check_deadline()  # long rounds are chunked: a request past its deadline stops here too
            part = order[i:i + chunk]
            f, contributions = self._rows(part, grad)
            for r, a in enumerate(part):
                parts = tuple(c[r] for c in contributions) if grad else ()
                out[a] = quadrature.Sample(float(f[r]), parts)
        if grad:
            self.gradient_rows += len(order)
        else:
            self.forward_rows += len(order)
        return out

    def logits(self, alphas: Sequence[float]) -> torch.Tensor:
        """Forward-only: the model's logits (rows, labels) at ``alphas`` (one batch), e.g.
        a long text's windows at the input and at the baseline, before a target is chosen."""
        alphas = [float(a) for a in alphas]
        ids = self.inputs["input_ids"]
        self._alphas = torch.tensor(alphas, dtype=torch.float32, device=ids.device)
        self._grad = False
        try:
            with torch.no_grad():
                rows = len(alphas)
                out = self.model(**{k: v.expand(rows, *v.shape[1:]) for k, v in self.inputs.items()}).logits
        finally:
            self._alphas = None
        out = out.detach().float()
        if 1.0 in alphas and self.logits_at_input is None:
            self.logits_at_input = out[alphas.index(1.0)]
        self.forward_rows += len(alphas)
        return out

    def _rows(self, alphas: list, grad: bool) -> tuple:
        ids = self.inputs["input_ids"]
        rows = len(alphas)
        self._alphas = torch.tensor(alphas, dtype=torch.float32, device=ids.device)
        self._grad = grad
        try:
            with torch.enable_grad() if grad else torch.no_grad():
                logits = self.model(**{k: v.expand(rows, *v.shape[1:]) for k, v in self.inputs.items()}).logits
                if 1.0 in alphas and self.logits_at_input is None:
                    self.logits_at_input = logits[alphas.index(1.0)].detach().float()
                if self.quantity is None:
                    if self.logits_at_input is None:
                        raise RuntimeError("the first pass must include alpha = 1 to pick the target")
                    self.quantity = self.choose(self.logits_at_input)
                q = self.quantity(logits)
                f = q.detach().double().cpu()
                if not grad:
                    return f, ()
                grads = torch.autograd.grad(q.sum(), list(self._leaves), allow_unused=True)
                # Reduced in float32 on the device, accumulated in float64 on the CPU.
                return f, [torch.zeros(rows, d.shape[1], dtype=torch.float64) if g is None
                           else (g.float() * d.float()).sum(-1).double().cpu() for g, d in zip(grads, self._diff)]
        finally:
            self._alphas = None
            self._leaves = [None] * len(self._leaves)


def integrate(runner: PathRunner, *, config, tolerance: float = DEFAULT_TOLERANCE,
              max_steps: int = DEFAULT_MAX_STEPS, n_steps: Optional[int] = None) -> quadrature.Quadrature:
    """Attributions along the path of ``runner`` (inside ``runner.hooks()``).

    ``n_steps`` given: one Gauss-Legendre rule of that many nodes, as Captum computes it
    (plus a forward-only pass for F at both ends). Otherwise adaptive to ``tolerance`` with
    at most ``max_steps`` gradient rows (at least the first round's)."""
    budget = activation_budget(runner.inputs["input_ids"].device)
    grad_chunk = chunk_rows(config, runner.positions, grad=True, budget=budget)
    if n_steps is not None:
        ends = runner.evaluate([1.0, 0.0], grad=False,
                               chunk=chunk_rows(config, runner.positions, grad=False, budget=budget))
        return quadrature.fixed(lambda a: runner.evaluate(a, grad=True, chunk=grad_chunk),
                                {k: s.f for k, s in ends.items()}, n_steps, tolerance)
    return quadrature.adaptive(lambda a: runner.evaluate(a, grad=True, chunk=grad_chunk), tolerance=tolerance,
                               max_steps=max_steps, between_rounds=check_deadline)


class PathModel:
    """Runs a model with the word-embedding outputs replaced by given tensors (used to
    evaluate arbitrary points, e.g. words removed, with the attribution's own hooks)."""

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
        """(site values..., model inputs...) -> quantity per row."""
        n = len(self.sites.sites)
        values, extra = tensors[:n], tensors[n:]
        self._inject = values
        try:
            out = self.model(**dict(zip(self.keys, extra)))
        finally:
            self._inject = None
        return self.quantity(out.logits)


def capture(model: torch.nn.Module, sites: EmbeddingSites, inputs: dict) -> tuple:
    """The plain forward pass on ``inputs`` (batch 1), recording per call site the ids
    that reach it and its output: (site ids, site outputs)."""
    ids_seen: list = [None] * len(sites.sites)
    out_seen: list = [None] * len(sites.sites)
    handles = []

    def grab_ids(i, site):
        def hook(module, args, kwargs):
            ids_seen[i] = call_ids(args, kwargs, site.seq_first)
        return hook

    def grab(i):
        def hook(module, args, output):
            out_seen[i] = output.detach()
        return hook

    with sites.installed():
        for i, site in enumerate(sites.sites):
            handles.append(site.layer.register_forward_hook(grab(i)))
            handles.append(site.caller.register_forward_pre_hook(grab_ids(i, site), with_kwargs=True))
        try:
            with torch.no_grad():
                model(**inputs)
        finally:
            for h in handles:
                h.remove()
    return ids_seen, tuple(out_seen)


def site_values(sites: EmbeddingSites, site_ids: list, base_ids: torch.Tensor) -> tuple:
    """Baseline layer values: each site's own ids with the input positions swapped."""
    with torch.no_grad():
        return tuple(site.embedding(site.overlay(sid, base_ids)).detach() for site, sid in zip(sites.sites, site_ids))


def activation_budget(device: torch.device) -> int:
    """Bytes of activations one chunk of rows may use: ACTIVATION_BUDGET on the CPU (keeps
    a BERT-base-sized model under ~2.5 GB resident); on a GPU a quarter of its free
    memory, at most 8 GiB, so that short texts run all their rows in one batch."""
    if device.type == "cuda" and torch.cuda.is_available():
        free, _ = torch.cuda.mem_get_info(device)
        return int(max(ACTIVATION_BUDGET, min(free // 4, 8 * 2**30)))
    return ACTIVATION_BUDGET


def chunk_rows(config, n_positions: int, grad: bool = True, budget: int = ACTIVATION_BUDGET) -> int:
    """Rows per batch so that one chunk's activations stay near ``budget`` bytes: a
    coarse count of what a transformer layer keeps for the backward pass (projections,
    feed-forward, attention scores), from the config's sizes."""
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
