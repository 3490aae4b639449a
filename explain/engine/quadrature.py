"""Adaptive quadrature for the integrated-gradients path integral.

Every point ``alpha`` evaluated on the path gives F(alpha), the explained output, and
the gradient contributions per position, whose sum is g(alpha) = dF/dalpha. So the
integral of g over any interval between two evaluated points is known exactly:
F(b) - F(a). Every interval of a rule whose nodes are the evaluated points therefore
has an exact check of its own error, for free, and refinement only adds points: nothing
computed is thrown away.

Round 1 is one Gauss-Lobatto rule on [0, 1] (exact for polynomials of degree 2n - 3;
its ends give F(x') and F(x), which are needed anyway). If its relative completeness
error |sum(attr) - (F(1) - F(0))| / |F(1) - F(0)| is over the tolerance, the rule
becomes the integral of the cubic spline through all points evaluated so far (a linear
rule, so the same weights apply to every token), and the intervals with the largest
errors get their midpoints, all in one batch per round. Trained classifiers often
switch sharply somewhere along the path; this puts the points there. The reported error
is that of the final rule, exactly as defined above; every evaluated point is counted.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

FIRST_POINTS = 10  # Gauss-Lobatto points of round 1, ends included (exact for degree 17)
REFINE_UNTIL = 0.8  # refine until the untouched intervals' |errors| sum to this share of the allowance
SCALE_FLOOR = 1e-6  # |F(1) - F(0)| below this is treated as this (a relative error needs a scale)
NOISE = 2e-6  # float32 rounding of F and of the gradient sums, relative to max(1, |F|): refining below is moot


@functools.cache
def gauss_legendre(n: int) -> tuple:
    """Nodes and weights of the n-point Gauss-Legendre rule on [0, 1] (as Captum uses)."""
    x, w = np.polynomial.legendre.leggauss(n)
    return tuple(float(v) for v in (x + 1) / 2), tuple(float(v) for v in w / 2)


@functools.cache
def lobatto(n: int) -> tuple:
    """Nodes and weights of the n-point Gauss-Lobatto rule on [0, 1] (ends included);
    exact for polynomials of degree 2n - 3."""
    if n < 2:
        raise ValueError("a Gauss-Lobatto rule has at least 2 points")
    if n == 2:
        return (0.0, 1.0), (0.5, 0.5)
    leg = np.polynomial.legendre
    c = np.zeros(n)
    c[-1] = 1.0  # P_{n-1}
    inner = np.sort(np.real(leg.legroots(leg.legder(c))))
    x = np.concatenate([[-1.0], inner, [1.0]])
    w = 2.0 / (n * (n - 1) * leg.legval(x, c) ** 2)
    nodes = (x + 1) / 2
    nodes[0], nodes[-1] = 0.0, 1.0
    return tuple(float(v) for v in nodes), tuple(float(v) for v in w / 2)


@dataclass
class Sample:
    """One evaluated path point: F and the per-site, per-position gradient contributions."""

    f: float
    parts: tuple  # float64 tensors (positions,), one per embedding call site
    g: float = field(init=False)

    def __post_init__(self) -> None:
        self.g = float(sum(float(p.sum()) for p in self.parts))


@dataclass
class Quadrature:
    """A finished rule: every sample evaluated, the final rule's weights, and its cost."""

    store: dict  # alpha -> Sample, every gradient row evaluated (used or not)
    weights: dict  # alpha -> weight of the final rule
    f_input: float
    f_baseline: float
    error: float  # relative completeness error of the final rule
    converged: bool
    rounds: int
    steps: int  # gradient rows evaluated

    def parts(self) -> tuple:
        """Per-site attributions (positions,): sum of weight x gradient contributions."""
        n_sites = len(next(iter(self.store.values())).parts)
        out = []
        for s in range(n_sites):
            acc = None
            for x, w in self.weights.items():
                term = self.store[x].parts[s] * w
                acc = term if acc is None else acc + term
            out.append(acc)
        return tuple(out)


def relative_error(total: float, f0: float, f1: float) -> float:
    return abs(total - (f1 - f0)) / max(abs(f1 - f0), SCALE_FLOOR)


def spline_weights(x: Sequence[float]) -> np.ndarray:
    """(intervals x nodes) matrix: row i integrates, over [x_i, x_i+1], the not-a-knot cubic
    spline through the values at ``x`` (sorted). A linear rule, exact for cubics; with
    fewer than 4 nodes, the trapezoid rule."""
    x = np.asarray(x, dtype=np.float64)
    n = len(x) - 1
    h = np.diff(x)
    w = np.zeros((n, n + 1))
    w[np.arange(n), np.arange(n)] += h / 2
    w[np.arange(n), np.arange(n) + 1] += h / 2
    if n < 3:
        return w
    a = np.zeros((n + 1, n + 1))
    b = np.zeros((n + 1, n + 1))
    # Not-a-knot: the third derivative is continuous at x_1 and x_{n-1}.
    a[0, :3] = (-h[1], h[0] + h[1], -h[0])
    a[n, n - 2:] = (-h[n - 1], h[n - 2] + h[n - 1], -h[n - 2])
    for i in range(1, n):  # continuity of the first derivative: second derivatives m
        a[i, i - 1:i + 2] = (h[i - 1], 2 * (h[i - 1] + h[i]), h[i])
        b[i, i - 1:i + 2] = (6 / h[i - 1], -6 / h[i - 1] - 6 / h[i], 6 / h[i])
    m = np.linalg.solve(a, b)  # second derivatives = m @ values
    w -= (h ** 3 / 24)[:, None] * (m[:-1] + m[1:])
    return w


def adaptive(evaluate: Callable[[Sequence[float]], dict], *, tolerance: float, max_steps: int,
             first_points: int = FIRST_POINTS, between_rounds: Optional[Callable[[], None]] = None) -> Quadrature:
    """Integrate to ``tolerance`` with at most ``max_steps`` gradient rows (round 1 is
    always evaluated in full). ``evaluate(alphas)`` returns {alpha: Sample} for new points;
    ``between_rounds()`` runs before each refinement round (deadline checks).

    Round 1: the Gauss-Lobatto rule on [0, 1]. Then: the cubic-spline rule through every
    point evaluated so far; each interval between neighbouring points has an exact error
    (its integral vs F(b) - F(a)); the worst intervals get their midpoints, in one batch
    per round, until the total error is within the tolerance or the cap is reached."""
    store: dict = {}
    nodes, w = lobatto(max(2, first_points))
    store.update(evaluate(list(nodes)))
    rounds = 1
    f0, f1 = store[0.0].f, store[1.0].f
    scale = max(abs(f1 - f0), SCALE_FLOOR)
    weights = dict(zip(nodes, w))
    error = relative_error(sum(wi * store[x].g for x, wi in weights.items()), f0, f1)
    # When F(1) - F(0) is tiny, the tolerance can be below float32 rounding: stop there
    # (the error is still reported as it is, and the bound as not met).
    noise = NOISE * max(1.0, abs(f0), abs(f1)) / scale
    while error > max(tolerance, noise) and math.isfinite(error):
        xs = sorted(store)
        rule = spline_weights(xs)
        g = np.array([store[x].g for x in xs])
        f = np.array([store[x].f for x in xs])
        local = rule @ g - np.diff(f)  # exact signed error of each interval
        weights = dict(zip(xs, rule.sum(0).tolist()))
        error = relative_error(float(rule.sum(0) @ g), f0, f1)
        if error <= max(tolerance, noise) or not math.isfinite(error):
            break
        new = _midpoints(xs, local, tolerance * scale, max_steps - len(store))
        if not new:
            break
        if between_rounds is not None:
            between_rounds()
        store.update(evaluate(new))
        rounds += 1
    return Quadrature(store, weights, f1, f0, error, error <= tolerance, rounds, len(store))


def _midpoints(xs: list, local: np.ndarray, allowed: float, budget: int) -> list:
    """Midpoints of the intervals with the largest errors, until the errors of the rest add
    up to at most REFINE_UNTIL of the allowance (at most ``budget`` of them)."""
    order = np.argsort(-np.abs(local), kind="stable")
    remaining = float(np.abs(local).sum())
    out: list = []
    for i in order:
        if (remaining <= allowed * REFINE_UNTIL and out) or len(out) >= budget:
            break
        mid = (xs[i] + xs[i + 1]) / 2
        if xs[i] < mid < xs[i + 1]:
            out.append(mid)
        remaining -= abs(float(local[i]))
    return out


def fixed(evaluate: Callable[[Sequence[float]], dict], ends: dict, n_steps: int, tolerance: float) -> Quadrature:
    """One n-point Gauss-Legendre rule on [0, 1], as Captum computes it; ``ends`` holds
    the samples at 0 and 1 (forward only: F values, no gradient)."""
    nodes, w = gauss_legendre(n_steps)
    store = evaluate(list(nodes))
    f0, f1 = ends[0.0], ends[1.0]
    total = sum(wi * store[x].g for x, wi in zip(nodes, w))
    error = relative_error(total, f0, f1)
    weights = {x: wi for x, wi in zip(nodes, w)}
    return Quadrature(store, weights, f1, f0, error, error <= tolerance, 1, len(store))
