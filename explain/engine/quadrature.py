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

F may be a vector: several quantities explained along one path (every label of a
classifier, every candidate of a zero-shot query) share each evaluated point; the rule
refines where any of them needs it, and each gets its own error. The rules are written
as plans (generators that ask for points and receive samples), so that ``drive`` can run
the plans of many texts in lockstep, one batched pass per round for all of them.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass, field
from typing import Optional

import numpy as np

FIRST_POINTS = 10  # Gauss-Lobatto points of round 1, ends included (exact for degree 17)
REFINE_UNTIL = 0.8  # refine until the untouched intervals' |errors| sum to this share of the allowance
SCALE_FLOOR = 1e-6  # |F(1) - F(0)| below this is treated as this (a relative error needs a scale)
MIN_STEPS = 4  # the fewest points of an adaptive rule: the ends and two inside (the word estimate needs 4)
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
    """One evaluated path point: F (one value per explained quantity) and the per-site
    gradient contributions, each shaped (quantities, ...) - or without that first axis
    when there is one quantity."""

    f: np.ndarray
    parts: tuple  # float64 tensors, one per embedding call site
    g: np.ndarray = field(init=False)  # dF/dalpha per quantity: the contributions' sums

    def __post_init__(self) -> None:
        self.f = np.atleast_1d(np.asarray(self.f, dtype=np.float64))
        k = self.f.shape[0]
        g = np.zeros(k)
        for p in self.parts:
            g += p.reshape(k, -1).sum(1).numpy()
        self.g = g


@dataclass
class Quadrature:
    """A finished rule: every sample evaluated, the final rule's weights, and its cost."""

    store: dict  # alpha -> Sample, every gradient row evaluated (used or not)
    weights: dict  # alpha -> weight of the final rule
    f_input: np.ndarray  # F(1) per quantity
    f_baseline: np.ndarray  # F(0) per quantity
    errors: np.ndarray  # relative completeness error of the final rule, per quantity
    tolerance: float
    rounds: int
    steps: int  # gradient rows evaluated
    word_errors: Optional[np.ndarray] = None  # estimated relative error of the token scores, per quantity
    word_tolerance: Optional[float] = None

    @property
    def error(self) -> float:
        """The largest relative completeness error over the quantities."""
        return float(self.errors.max())

    @property
    def converged(self) -> bool:
        words = (
            self.word_errors is None or self.word_tolerance is None or bool((self.word_errors <= self.word_tolerance).all())
        )
        return bool((self.errors <= self.tolerance).all()) and words

    def parts(self) -> tuple:
        """Per-site attributions: the sum of weight x gradient contributions."""
        n_sites = len(next(iter(self.store.values())).parts)
        out = []
        for s in range(n_sites):
            acc = None
            for x, w in self.weights.items():
                term = self.store[x].parts[s] * w
                acc = term if acc is None else acc + term
            out.append(acc)
        return tuple(out)


def relative_error(total, f0, f1):
    """|total - (F(1) - F(0))| / |F(1) - F(0)| (elementwise for arrays)."""
    scale = np.maximum(np.abs(np.asarray(f1) - np.asarray(f0)), SCALE_FLOOR)
    out = np.abs(np.asarray(total) - (np.asarray(f1) - np.asarray(f0))) / scale
    return float(out) if np.ndim(out) == 0 else out


def spline_weights(x: Sequence[float]) -> np.ndarray:
    """(intervals x nodes) matrix: row i integrates, over [x_i, x_i+1], the not-a-knot cubic
    spline through the values at ``x`` (sorted). A linear rule, exact for cubics; with
    fewer than 4 nodes, the trapezoid rule. Read-only (remembered: a model's calibrated
    first round asks for the same nodes on every call)."""
    return _spline_weights(tuple(float(v) for v in x))


@functools.lru_cache(maxsize=512)
def _spline_weights(x: tuple) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    n = len(x) - 1
    h = np.diff(x)
    w = trapezoid_weights(x).copy()
    if n < 3:
        w.flags.writeable = False
        return w
    a = np.zeros((n + 1, n + 1))
    b = np.zeros((n + 1, n + 1))
    # Not-a-knot: the third derivative is continuous at x_1 and x_{n-1}.
    a[0, :3] = (-h[1], h[0] + h[1], -h[0])
    a[n, n - 2 :] = (-h[n - 1], h[n - 2] + h[n - 1], -h[n - 2])
    for i in range(1, n):  # continuity of the first derivative: second derivatives m
        a[i, i - 1 : i + 2] = (h[i - 1], 2 * (h[i - 1] + h[i]), h[i])
        b[i, i - 1 : i + 2] = (6 / h[i - 1], -6 / h[i - 1] - 6 / h[i], 6 / h[i])
    m = np.linalg.solve(a, b)  # second derivatives = m @ values
    w -= (h**3 / 24)[:, None] * (m[:-1] + m[1:])
    w.flags.writeable = False
    return w


# A plan asks for points (a list of alphas), receives {alpha: Sample} for them, and
# finally returns its Quadrature.
Plan = Generator[list, dict, Quadrature]


def adaptive_plan(
    *,
    tolerance: float,
    max_steps: int,
    first_points: int = FIRST_POINTS,
    word_tolerance: Optional[float] = None,
    first_nodes: Optional[Sequence[float]] = None,
    draft: Optional[Callable[[Quadrature], None]] = None,
    ends: Optional[dict] = None,
) -> Plan:
    """Integrate to ``tolerance`` (the completeness error of every quantity) and to
    ``word_tolerance`` (the estimated error of the per-token scores; None: not checked)
    with at most ``max_steps`` gradient rows, round 1 included (a first round with more
    nodes than that keeps ``max_steps`` of them, spread over it, the ends included).

    Round 1: the Gauss-Lobatto rule on [0, 1] (or ``first_nodes``, ends included, with the
    spline rule through them). Then: the cubic-spline rule through every point evaluated
    so far. Each interval between neighbouring points has an exact error for the sum (its
    integral vs F(b) - F(a)), and, per token, an estimated one: the difference between the
    spline and the trapezoid rule on that interval (a lower-order rule: conservative).
    Errors of opposite sign cancel in the sum, never in the per-token estimate, which
    adds their sizes. The worst intervals (relative to each bound, the worst quantity
    deciding) get their midpoints, in one batch per round, until both errors are within
    their bounds for every quantity, or the cap is reached.

    ``draft``: round 1 is asked in two parts - a third of its nodes first (at least 3,
    the ends included), then the rest - and ``draft(q)`` gets the coarse rule through the
    first part (the spline rule; its own completeness error; a word estimate from 4
    points on) in between. The final rule is the same as
    without it (the same points, the same weights, the same refinement): the split only
    changes when the points of round 1 are evaluated (counted as one round, like a
    chunked pass).

    ``ends``: F at 0 and 1 measured apart (gradient rows in reduced precision, ends in
    full): they replace the rows' own F there."""
    if max_steps < MIN_STEPS:
        raise ValueError(f"the adaptive rule needs at least {MIN_STEPS} points, got max_steps={max_steps}")
    store: dict = {}
    if first_nodes is None:
        nodes, w = lobatto(max(2, min(first_points, max_steps)))
        weights = dict(zip(nodes, w))
    else:
        nodes = thinned(sorted({0.0, 1.0, *(float(x) for x in first_nodes)}), max_steps)
        weights = dict(zip(nodes, spline_weights(nodes).sum(0).tolist()))

    def receive(got: dict) -> None:
        store.update(got)
        for a in (0.0, 1.0):
            if ends is not None and a in got:
                got[a].f = np.atleast_1d(np.asarray(ends[a], dtype=np.float64))

    coarse = thinned(nodes, max(3, round(len(nodes) / 3))) if draft is not None else nodes
    if len(coarse) < len(nodes):
        receive((yield list(coarse)))
        draft(snapshot(store, tolerance, word_tolerance))
        receive((yield [x for x in nodes if x not in store]))
    else:
        receive((yield list(nodes)))
    rounds = 1
    f0, f1 = store[0.0].f, store[1.0].f
    scale = np.maximum(np.abs(f1 - f0), SCALE_FLOOR)
    errors = relative_error(sum(wi * store[x].g for x, wi in weights.items()), f0, f1)
    # When F(1) - F(0) is tiny, the tolerance can be below float32 rounding: stop there
    # (the error is still reported as it is, and the bound as not met).
    noise = NOISE * np.maximum(1.0, np.maximum(np.abs(f0), np.abs(f1))) / scale
    limit = np.maximum(tolerance, noise)
    word_limit = None if word_tolerance is None else np.maximum(word_tolerance, noise)
    words = _word_errors(store, scale) if word_tolerance is not None else None

    def unmet(errors, words) -> bool:
        if not np.isfinite(errors).all():
            return False
        return bool((errors > limit).any() or (words is not None and (words[0] > word_limit).any()))

    while unmet(errors, words):
        xs = sorted(store)
        rule = spline_weights(xs)
        g = np.array([store[x].g for x in xs])  # (points, quantities)
        f = np.array([store[x].f for x in xs])
        local = (rule @ g - np.diff(f, axis=0)) / scale  # exact signed error of each interval, relative
        weights = dict(zip(xs, rule.sum(0).tolist()))
        errors = relative_error(rule.sum(0) @ g, f0, f1)
        words = _word_errors(store, scale) if word_tolerance is not None else None
        if not unmet(errors, words):
            break
        # Each interval's need, in units of its bound; the quantity furthest from a bound decides.
        need = np.abs(local) / limit
        if words is not None:
            need = np.maximum(need, words[1] / word_limit)
        worst = need[:, np.argmax(need.max(0))]
        new = _midpoints(xs, worst, 1.0, max_steps - len(store))
        if not new:
            break
        receive((yield new))
        rounds += 1
    word = None if words is None else words[0]
    return Quadrature(store, weights, f1, f0, errors, tolerance, rounds, len(store), word, word_tolerance)


def snapshot(store: dict, tolerance: float, word_tolerance: Optional[float]) -> Quadrature:
    """The spline rule through the points of ``store`` as a finished rule (a draft: its
    own completeness error and word estimate, as the final rule would report them)."""
    xs = sorted(store)
    f0, f1 = store[0.0].f, store[1.0].f
    scale = np.maximum(np.abs(f1 - f0), SCALE_FLOOR)
    weights = spline_weights(xs).sum(0)
    errors = relative_error(weights @ np.array([store[x].g for x in xs]), f0, f1)
    words = _word_errors(store, scale)[0] if word_tolerance is not None and len(xs) >= 4 else None
    return Quadrature(
        dict(store),
        dict(zip(xs, weights.tolist())),
        f1,
        f0,
        np.atleast_1d(errors),
        tolerance,
        1,
        len(store),
        words,
        word_tolerance,
    )


def thinned(nodes: Sequence[float], most: int) -> list:
    """At most ``most`` of the sorted ``nodes``, evenly spread over them, both ends kept."""
    if len(nodes) <= most:
        return list(nodes)
    picks = sorted({round(i * (len(nodes) - 1) / (most - 1)) for i in range(most)})
    return [nodes[i] for i in picks]


def _word_errors(store: dict, scale: np.ndarray) -> tuple:
    """The estimated error of the per-token scores, per quantity: the L2 norm over tokens
    of the summed sizes of (spline - trapezoid) on every interval, relative to the L2 norm
    of the scores (at least |F(1) - F(0)| / sqrt(tokens)); and per interval, its share
    (intervals, quantities) in the same units."""
    xs = sorted(store)
    k = store[xs[0]].f.shape[0]
    if len(xs) < 4:  # the spline rule is the trapezoid rule: no estimate
        return np.zeros(k), np.zeros((len(xs) - 1, k))
    tokens = np.stack(
        [np.concatenate([p.reshape(k, -1).numpy() for p in store[x].parts], axis=1) for x in xs]
    )  # (points, quantities, tokens)
    rule = spline_weights(xs)
    diff = np.einsum("ip,pqt->iqt", rule - trapezoid_weights(xs), tokens)  # (intervals, quantities, tokens)
    scores = np.einsum("p,pqt->qt", rule.sum(0), tokens)
    n = tokens.shape[2]
    norm = np.maximum(np.linalg.norm(scores, axis=1), scale / math.sqrt(max(n, 1)))
    total = np.linalg.norm(np.abs(diff).sum(0), axis=1) / norm  # (quantities,)
    per_interval = np.linalg.norm(diff, axis=2) / norm  # (intervals, quantities)
    return total, per_interval


def trapezoid_weights(xs: Sequence[float]) -> np.ndarray:
    """(intervals x nodes) matrix of the trapezoid rule on each interval (read-only, remembered)."""
    return _trapezoid_weights(tuple(float(v) for v in xs))


@functools.lru_cache(maxsize=512)
def _trapezoid_weights(xs: tuple) -> np.ndarray:
    x = np.asarray(xs, dtype=np.float64)
    n = len(x) - 1
    h = np.diff(x)
    w = np.zeros((n, n + 1))
    w[np.arange(n), np.arange(n)] = h / 2
    w[np.arange(n), np.arange(n) + 1] = h / 2
    w.flags.writeable = False
    return w


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


def fixed_plan(n_steps: int, tolerance: float, ends: dict) -> Plan:
    """One n-point Gauss-Legendre rule on [0, 1], as Captum computes it; ``ends`` holds F
    at 0 and 1 (forward only: no gradient)."""
    nodes, w = gauss_legendre(n_steps)
    store = yield list(nodes)
    f0, f1 = np.atleast_1d(ends[0.0]), np.atleast_1d(ends[1.0])
    total = sum(wi * store[x].g for x, wi in zip(nodes, w))
    errors = relative_error(total, f0, f1)
    return Quadrature(store, dict(zip(nodes, w)), f1, f0, np.atleast_1d(errors), tolerance, 1, len(store))


def drive(plans: list, evaluate: Callable[[list], list], between_rounds: Optional[Callable[[], None]] = None) -> list:
    """Run plans in lockstep: each round, every unfinished plan's points go to one call
    ``evaluate([alphas of plan 0, alphas of plan 1, ...])`` (None for finished plans)
    which returns their samples in the same order. ``between_rounds()`` runs before
    every round after the first (deadline checks). Returns the Quadratures."""
    asks = [next(p) for p in plans]
    done: list = [None] * len(plans)
    first = True
    while any(a is not None for a in asks):
        if not first and between_rounds is not None:
            between_rounds()
        first = False
        got = evaluate(asks)
        for i, plan in enumerate(plans):
            if asks[i] is None:
                continue
            try:
                asks[i] = plan.send(got[i])
            except StopIteration as stop:
                done[i], asks[i] = stop.value, None
    return done


def adaptive(
    evaluate: Callable[[Sequence[float]], dict],
    *,
    tolerance: float,
    max_steps: int,
    first_points: int = FIRST_POINTS,
    between_rounds: Optional[Callable[[], None]] = None,
) -> Quadrature:
    """``adaptive_plan`` for one path: ``evaluate(alphas)`` returns {alpha: Sample}."""
    plan = adaptive_plan(tolerance=tolerance, max_steps=max_steps, first_points=first_points)
    return drive([plan], lambda asks: [evaluate(asks[0])], between_rounds)[0]


def fixed(evaluate: Callable[[Sequence[float]], dict], ends: dict, n_steps: int, tolerance: float) -> Quadrature:
    """``fixed_plan`` for one path."""
    return drive([fixed_plan(n_steps, tolerance, ends)], lambda asks: [evaluate(asks[0])])[0]
