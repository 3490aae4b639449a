"""``method="captum"``: Captum's own ``LayerIntegratedGradients`` on the engine's call
sites, baseline and explained quantity - the canonical reference a paper can cite.

Captum computes the baseline's layer values by running the forward function on the
baseline ids. Here that function always gives the model the *real* ids (so positions,
masks and token types are the text's own) and only the ids each word-embedding call site
looks up are the ones Captum passes: Captum's baseline point is then exactly the
engine's path-matched F(x') (real ids, baseline embeddings), and with the same
Gauss-Legendre nodes the two agree to float32 rounding (a test checks 1e-5)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .path import PathRunner, activation_budget, capture, chunk_rows
from .quadrature import relative_error


@dataclass
class CaptumRule:
    """Captum's attributions in the shape of a finished engine rule (one quantity)."""

    attributions: tuple  # float64 (1 quantity, 1 sequence, positions) per call site
    f_input: np.ndarray
    f_baseline: np.ndarray
    errors: np.ndarray
    tolerance: float
    steps: int
    rounds: int = 1

    @property
    def error(self) -> float:
        return float(self.errors.max())

    @property
    def converged(self) -> bool:
        return bool((self.errors <= self.tolerance).all())

    def parts(self) -> tuple:
        return self.attributions


def integrate_with_captum(runner: PathRunner, index: int, n_steps: int, tolerance: float) -> CaptumRule:
    """Attributions of item ``index`` of ``runner`` (one sequence, one quantity) along its
    path with Captum's LIG (n_steps Gauss-Legendre nodes). The path's ends (and the
    target, when it is the prediction) come from one forward-only pass of the engine."""
    from captum.attr import LayerIntegratedGradients

    item = runner.items[index]
    if len(item.inputs) != 1:
        raise ValueError("Captum's LIG is run on one sequence at a time")
    model, sites, inputs = runner.model, runner.sites, item.inputs[0]
    asks = [None] * len(runner.items)
    asks[index] = [1.0, 0.0]
    with runner.hooks():
        ends = runner.evaluate(asks, grad=False, chunk=2)[index]  # also picks the target
    quantity = item.quantity
    site_ids, _ = capture(model, sites, inputs)
    lookup: list = [None]  # the ids Captum asks the call sites to look up, (rows, tokens)

    def rewrite(i: int, site):
        def hook(module, args, kwargs):
            asked = lookup[0]
            if asked is None:
                return None
            ids = site.overlay(site_ids[i].expand(asked.shape[0], -1), asked)
            ids = ids.transpose(0, 1) if site.seq_first else ids
            if args:
                return (ids, *args[1:]), kwargs
            key = "input_ids" if "input_ids" in kwargs else "input"
            return args, {**kwargs, key: ids}

        return hook

    def forward(asked_ids: torch.Tensor) -> torch.Tensor:
        rows = asked_ids.shape[0]
        lookup[0] = asked_ids
        try:
            logits = model(**{k: v.expand(rows, *v.shape[1:]) for k, v in inputs.items()}).logits
        finally:
            lookup[0] = None
        return quantity(logits[:, None, :])[:, 0]

    ids = inputs["input_ids"]
    layers = [site.layer for site in sites.sites]
    budget = activation_budget(ids.device)
    chunk = chunk_rows(model.config, runner.positions, grad=True, budget=budget)
    with sites.installed():
        handles = [
            site.caller.register_forward_pre_hook(rewrite(i, site), with_kwargs=True) for i, site in enumerate(sites.sites)
        ]
        try:
            lig = LayerIntegratedGradients(forward, layers if len(layers) > 1 else layers[0])
            attr = lig.attribute(
                ids,
                baselines=item.references[0].to(ids.device),
                n_steps=n_steps,
                method="gausslegendre",
                internal_batch_size=min(chunk, n_steps),
            )
        finally:
            for h in handles:
                h.remove()
    attr = attr if isinstance(attr, (list, tuple)) else [attr]
    parts = tuple(a.detach().float().sum(-1)[0].double().cpu()[None, None, :] for a in attr)
    item.forward_rows += 2  # Captum's own passes for the layer values at the input and the baseline
    item.gradient_rows += n_steps
    f1, f0 = ends[1.0].f, ends[0.0].f
    errors = np.atleast_1d(relative_error(sum(float(p.sum()) for p in parts), f0[0], f1[0]))
    return CaptumRule(parts, f1, f0, errors, tolerance, n_steps)
