"""Where a model's paths change: a per-model layout for the first round's nodes.

Trained classifiers tend to switch within a narrow band of the path from the baseline
(the same band for most texts of one model), where evenly or Lobatto-placed nodes are
sparse. Once per model, a profile on a few fixed, generic sentences (``PROBES``: gradient
rows at an even grid of alphas, one batched pass) gives the average shape of |dF/dalpha|;
the first round's nodes sit at the quantiles of that density (smoothed, mixed half and
half with uniform so that no stretch of the path is left bare), the ends included. How
many: the fewest of ``CANDIDATES`` on which the adaptive rule's own checks, tried on the
probes' gradients, would accept round 1 - a smooth model gets few nodes, one that
switches sharply more: rows are cheap next to a second pass. The exact per-interval checks and the
refinement stay as they are: a text that switches elsewhere gets its extra points there.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..options import DEFAULT_TOLERANCE, DEFAULT_WORD_TOLERANCE
from .heads import REGRESSION, make_quantity, probabilities
from .path import Item, PathRunner, activation_budget, chunk_rows
from .quadrature import SCALE_FLOOR, spline_weights, trapezoid_weights
from .reference import reference_ids, reference_token
from .windows import tokenize

PROBES = (
    "The film was wonderful and I enjoyed every minute of it.",
    "This is the worst service I have ever received.",
    "The meeting has been moved to Thursday afternoon.",
    "Not bad at all, although the ending was a little weak.",
)
GRID = 33  # alphas per probe, ends included
# Round-1 node counts tried, fewest first. A smooth model (most small or randomly
# initialised ones) passes both checks with 5 or 6 nodes: on a model whose per-row cost is
# small next to a call's fixed cost, that is the difference between ~3x and ~4x Captum-50.
CANDIDATES = (5, 6, 8, 10, 12, 14, 16, 20)
UNIFORM_SHARE = 0.5  # the density is mixed with this much of the uniform one


@dataclass(frozen=True)
class Profile:
    """The probes on an even grid: per probe, F and the token contributions at each alpha."""

    alphas: np.ndarray  # (GRID,)
    f: list  # per probe: (GRID,)
    tokens: list  # per probe: (GRID, positions)
    targets: tuple = ()  # per probe: the explained quantity (its prediction)

    def density(self) -> np.ndarray:
        """Mean normalised |F(a_j+1) - F(a_j)| over the probes, per interval of the grid."""
        shares = []
        for f in self.f:
            steps = np.abs(np.diff(f))
            if steps.sum() > 0 and np.isfinite(steps).all():
                shares.append(steps / steps.sum())
        if not shares:
            return np.full(len(self.alphas) - 1, 1.0 / (len(self.alphas) - 1))
        return np.mean(shares, axis=0)

    def accepted(self, nodes, tolerance: float, word_tolerance) -> int:
        """How many probes the adaptive rule would accept after round 1 on ``nodes``
        (snapped to the grid): the same completeness and per-token checks, on the probes'
        own gradients."""
        last = len(self.alphas) - 1
        idx = sorted({round(x * last) for x in nodes} | {0, last})
        xs = self.alphas[idx]
        rule = spline_weights(xs)
        trap = trapezoid_weights(xs)
        count = 0
        for f, g in zip(self.f, self.tokens):
            change = f[-1] - f[0]
            scores = rule.sum(0) @ g[idx]
            scale = max(abs(change), SCALE_FLOOR)
            ok = abs(scores.sum() - change) / scale <= tolerance
            if ok and word_tolerance is not None:
                sizes = np.abs((rule - trap) @ g[idx]).sum(0)
                norm = max(float(np.linalg.norm(scores)), scale / np.sqrt(max(len(scores), 1)))
                ok = float(np.linalg.norm(sizes)) / norm <= word_tolerance
            count += bool(ok)
        return count


def profile(clf, grid: int = GRID) -> Profile:
    """Gradient rows of every probe at ``grid`` even alphas (the target: its prediction),
    all in one batched pass (chunked for memory)."""
    _, _, ref_id = reference_token(clf, "auto")
    alphas = np.linspace(0.0, 1.0, grid)
    targets: list = [None] * len(PROBES)

    def chooser(k: int):
        def choose(logits: torch.Tensor):  # the probe's prediction, from its alpha = 1 row
            target = int(probabilities(logits[None], clf.head)[0].argmax()) if clf.head != REGRESSION else 0
            targets[k] = make_quantity(clf.head, clf.labels, target)
            return targets[k]

        return choose

    items = []
    for k, text in enumerate(PROBES):
        piece = tokenize(clf, text, 0, len(text))
        items.append(
            Item.single(piece.inputs, reference_ids(piece.inputs["input_ids"], piece.special, ref_id), choose=chooser(k))
        )
    runner = PathRunner(clf.model, clf.sites, items, pad=clf.padder())
    chunk = chunk_rows(clf.model.config, runner.positions, grad=True, budget=activation_budget(clf.device))
    with runner.hooks():
        samples = runner.evaluate([alphas.tolist()] * len(items), grad=True, chunk=chunk)
    f, tokens = [], []
    for got in samples:
        f.append(np.array([got[float(a)].f[0] for a in alphas]))
        tokens.append(np.stack([np.concatenate([p.reshape(1, -1)[0].numpy() for p in got[float(a)].parts]) for a in alphas]))
    return Profile(alphas, f, tokens, tuple(targets))


def nodes_from(density: np.ndarray, n_nodes: int, uniform: float = UNIFORM_SHARE) -> tuple:
    """``n_nodes`` alphas (0 and 1 included) at the quantiles of ``density`` (one value
    per even interval of [0, 1]), smoothed and mixed with the uniform density."""
    d = np.asarray(density, dtype=np.float64)
    d = np.convolve(np.pad(d, 1, mode="edge"), [0.25, 0.5, 0.25], mode="valid")  # smoothed
    d = d / d.sum() if d.sum() > 0 else np.full_like(d, 1.0 / len(d))
    d = (1 - uniform) * d + uniform / len(d)
    edges = np.linspace(0.0, 1.0, len(d) + 1)
    cdf = np.concatenate([[0.0], np.cumsum(d)])
    cdf /= cdf[-1]
    inner = np.interp(np.linspace(0.0, 1.0, n_nodes)[1:-1], cdf, edges)
    return tuple(float(x) for x in np.concatenate([[0.0], inner, [1.0]]))


def choose(prof: Profile, tolerance: float = DEFAULT_TOLERANCE, word_tolerance=DEFAULT_WORD_TOLERANCE) -> tuple:
    """The fewest candidate nodes on which round 1 would be accepted for all probes but
    one (else the most): a smooth model gets few, one that switches sharply more."""
    density = prof.density()
    need = max(1, len(prof.f) - 1)
    for n in CANDIDATES:
        nodes = nodes_from(density, n)
        if prof.accepted(nodes, tolerance, word_tolerance) >= need:
            return nodes
    return nodes_from(density, CANDIDATES[-1])


def profile_of(clf) -> Profile:
    """The model's profile (made once per classifier, then remembered)."""
    prof = clf.memo.get("profile")
    if prof is None:
        with torch.inference_mode(False), clf.frozen():
            prof = clf.memo["profile"] = profile(clf)
    return prof


def first_nodes(clf) -> tuple:
    """The model's round-1 nodes (profiled once per classifier, then remembered)."""
    nodes = clf.memo.get("first_nodes")
    if nodes is None:
        nodes = clf.memo["first_nodes"] = choose(profile_of(clf))
    return nodes
