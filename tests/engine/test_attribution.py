"""The integration engine: rules, the adaptive driver on known integrands, honest cost
counting on a real (tiny) model, the result cache and the thread helper."""

import math

import numpy as np
import pytest
import torch
from passes import count_passes

from explain import errors, explain, load_classifier
from explain.api import RESULTS
from explain.engine import quadrature as Q
from explain.engine.device import configure_threads
from explain.lru import BoundedLRU

TEXT = "It's not bad at all - actually quite charming, but too long!"


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12])
def test_lobatto_rule_is_exact_to_degree_2n_minus_3(n):
    nodes, w = Q.lobatto(n)
    assert nodes[0] == 0.0 and nodes[-1] == 1.0 and abs(sum(w) - 1) < 1e-14
    for k in range(2 * n - 2):
        assert abs(sum(wi * x**k for x, wi in zip(nodes, w)) - 1 / (k + 1)) < 1e-12
    if n <= 5:  # one degree more is not exact (the error constant is tiny for large n)
        k = 2 * n - 2
        assert abs(sum(wi * x**k for x, wi in zip(nodes, w)) - 1 / (k + 1)) > 1e-6


def test_spline_rule_exact_for_cubics_on_uneven_points():
    rng = np.random.default_rng(1)
    for n in (4, 5, 9, 30):
        x = np.sort(np.concatenate([[0.0, 1.0], rng.random(n - 2)]))
        rule = Q.spline_weights(x)
        for p in ([1, 0, 0, 0], [0.3, -2, 1.5, 4]):
            y = np.polyval(p[::-1], x)
            exact = np.diff(np.polyval(np.polyint(p[::-1]), x))
            assert np.abs(rule @ y - exact).max() < 1e-12
    # Fewer than four points: the trapezoid rule.
    assert np.allclose(Q.spline_weights([0, 0.5, 1]) @ np.array([1.0, 2.0, 5.0]), [0.75, 1.75])


def sharp_path(k=40.0, c=0.12, scale=3.0):
    """A path like a trained classifier's: F switches sharply near alpha = c. Two 'tokens'
    share the change unevenly, so per-token integrals are known exactly too."""
    calls = []

    def F(a):
        return scale * math.tanh(k * (a - c))

    def g(a):
        return scale * k / math.cosh(k * (a - c)) ** 2

    def evaluate(alphas):
        calls.append(list(alphas))
        out = {}
        for a in alphas:
            share = 0.3 + 0.4 * a  # token 0's share of the change varies along the path
            parts = (torch.tensor([share * g(a), (1 - share) * g(a)], dtype=torch.float64),)
            out[a] = Q.Sample(F(a), parts)
        return out

    return evaluate, calls, F


def test_adaptive_meets_tolerance_and_reports_honestly():
    evaluate, calls, F = sharp_path()
    quad = Q.adaptive(evaluate, tolerance=1e-2, max_steps=256)
    delta = F(1) - F(0)
    attr = quad.parts()[0]
    error = abs(float(attr.sum()) - delta) / abs(delta)
    assert quad.converged and quad.error <= 1e-2
    assert abs(error - quad.error) < 1e-12  # the reported error is the final rule's own
    # Every evaluated point is counted, once; rounds = batches asked for.
    assert quad.steps == sum(len(c) for c in calls) == len({a for c in calls for a in c}) == len(quad.store)
    assert quad.rounds == len(calls) >= 2
    assert calls[0] == list(Q.lobatto(Q.FIRST_POINTS)[0])
    # Per-token integrals are accurate too (token 0: integral of (0.3 + 0.4 a) g(a)).
    xs = np.linspace(0, 1, 200001)
    gs = 3 * 40 / np.cosh(40 * (xs - 0.12)) ** 2
    exact0 = np.trapezoid((0.3 + 0.4 * xs) * gs, xs)
    assert abs(float(attr[0]) - exact0) < 2e-2 * abs(delta)


def test_adaptive_smooth_path_is_one_round():
    def evaluate(alphas):
        return {a: Q.Sample(math.sin(a), (torch.tensor([math.cos(a)], dtype=torch.float64),)) for a in alphas}

    quad = Q.adaptive(evaluate, tolerance=1e-2, max_steps=256)
    assert quad.rounds == 1 and quad.steps == Q.FIRST_POINTS and quad.error < 1e-10


def test_step_cap_is_respected_and_failure_reported():
    evaluate, calls, _ = sharp_path(k=400.0)
    quad = Q.adaptive(evaluate, tolerance=1e-6, max_steps=20)
    assert quad.steps <= 20
    assert not quad.converged and quad.error > 1e-6


def test_deadline_hook_runs_between_rounds():
    evaluate, calls, _ = sharp_path()

    def stop():
        raise errors.ServerBusy("past the deadline")

    with pytest.raises(errors.ServerBusy):
        Q.adaptive(evaluate, tolerance=1e-2, max_steps=256, between_rounds=stop)
    assert len(calls) == 1  # round 1 ran, the refinement did not start


@pytest.mark.parametrize("name", ["bert", "bart", "xlnet"])
def test_every_row_is_counted_and_no_probe_passes(name, tiny_path):
    from explain.engine import prior

    clf = load_classifier(tiny_path(name))
    prior.first_nodes(clf)  # the model's round-1 layout is profiled once, on first use
    seen, handle = count_passes(clf.model)
    try:
        result = explain(TEXT, clf, cache=False)
        fixed = explain(TEXT, clf, n_steps=5, cache=False)
    finally:
        handle.remove()
    n_adaptive = sum(w.rounds for w in result.windows)
    adaptive, rest = seen[:n_adaptive], seen[n_adaptive:]
    assert all(grad for _, grad in adaptive)  # the prediction is the first pass's alpha = 1 row
    assert sum(rows for rows, _ in adaptive) == result.steps
    assert result.windows[0].forward_rows == 0
    # Fixed rule: one forward-only pass for F at both ends, then the n gradient rows.
    assert rest == [(2, False), (5, True)]
    assert fixed.steps == 5 and fixed.windows[0].forward_rows == 2


def test_attributions_accumulate_in_float64(tiny_path):
    from explain.engine.heads import make_quantity
    from explain.engine.path import Item, PathRunner
    from explain.engine.reference import reference_ids
    from explain.engine.windows import tokenize

    clf = load_classifier(tiny_path("bert"))
    piece = tokenize(clf, TEXT, 0, len(TEXT))
    item = Item.single(
        piece.inputs,
        reference_ids(piece.inputs["input_ids"], piece.special, clf.tokenizer.mask_token_id),
        quantity=make_quantity(clf.head, clf.labels, 0, output="logit"),
    )
    runner = PathRunner(clf.model, clf.sites, [item])
    with runner.hooks():
        out = runner.evaluate([[1.0, 0.5, 0.0]], grad=True, chunk=2)[0]
    assert item.gradient_rows == 3
    assert all(p.dtype == torch.float64 for s in out.values() for p in s.parts)
    with torch.no_grad():
        plain = clf.model(**piece.inputs).logits[0, 0].item()
    assert abs(out[1.0].f[0] - plain) < 1e-5  # alpha = 1 is the plain forward pass


def test_result_cache_hit_is_visible_and_bounded(tiny_path):
    RESULTS.clear()
    clf = load_classifier(tiny_path("roberta"))
    first = explain(TEXT, clf)
    again = explain(TEXT, clf)
    assert first.cache == "miss" and again.cache == "hit"
    assert again.words is first.words and again.tokens is first.tokens  # the same immutable result
    assert again.timings["computed_total_s"] == first.timings["total_s"]
    assert set(first.timings) <= set(again.timings) and again.timings["attribution_s"] == 0.0
    assert explain(TEXT, clf, target="negative").cache == "miss"  # options are in the key
    assert explain(TEXT, clf, cache=False).cache == "miss"
    # Weights changed in place (an optimizer step): never a stale hit.
    with torch.no_grad():
        clf.model.get_input_embeddings().weight.mul_(1.0)
    assert explain(TEXT, clf).cache == "miss"
    small = BoundedLRU(2, 2_000_000, weight=lambda e: len(e.text))
    for k in "abc":
        small.put(k, first)
    assert len(small) == 2 and small.get("a") is None and small.get("c") is first
    by_size = BoundedLRU(100, 2 * len(TEXT) + 1, weight=lambda e: len(e.text))
    for k in "abc":
        by_size.put(k, first)
    assert len(by_size) == 2 and by_size.get("a") is None


def test_configure_threads(monkeypatch):
    before = torch.get_num_threads()
    try:
        monkeypatch.setenv("EXPLAIN_THREADS", "1")
        assert configure_threads() == 1 and torch.get_num_threads() == 1
        monkeypatch.delenv("EXPLAIN_THREADS")
        monkeypatch.setenv("OMP_NUM_THREADS", "3")
        torch.set_num_threads(2)
        assert configure_threads() == 2  # the user's own setting is left alone
        monkeypatch.delenv("OMP_NUM_THREADS")
        monkeypatch.delenv("MKL_NUM_THREADS", raising=False)
        assert 1 <= configure_threads() <= 16
    finally:
        torch.set_num_threads(before)


def test_no_refinement_below_float32_noise():
    """F(1) - F(0) = 1e-8 on logits near 5: no rule can resolve that in float32, so the
    driver stops after round 1 instead of spending the step cap, and says so."""
    rng = np.random.default_rng(0)

    def evaluate(alphas):
        return {
            a: Q.Sample(5.0 + 1e-8 * a, (torch.tensor([1e-8 + 1e-6 * rng.standard_normal()], dtype=torch.float64),))
            for a in alphas
        }

    quad = Q.adaptive(evaluate, tolerance=1e-2, max_steps=256)
    assert quad.steps == Q.FIRST_POINTS and quad.rounds == 1
    assert not quad.converged and quad.error > 1e-2


def cancelling_path(k=60.0, c=0.3):
    """Two tokens with large, sharp, opposite contributions that cancel exactly in the sum:
    the sum's integrand (a smooth cosine) is integrated perfectly by round 1 while each
    token's is badly under-resolved."""

    def evaluate(alphas):
        out = {}
        for a in alphas:
            sharp = 5 * k / math.cosh(k * (a - c)) ** 2
            smooth = math.cos(a)
            parts = (torch.tensor([sharp + smooth / 2, -sharp + smooth / 2], dtype=torch.float64),)
            out[a] = Q.Sample(math.sin(a), parts)
        return out

    exact = 5 * (math.tanh(k * (1 - c)) + math.tanh(k * c))  # the sharp part's integral
    return evaluate, np.array([exact + math.sin(1) / 2, -exact + math.sin(1) / 2])


def test_a_path_whose_sum_cancels_does_not_stop_early():
    evaluate, exact = cancelling_path()
    summed = Q.adaptive(evaluate, tolerance=1e-2, max_steps=256)  # completeness only
    assert summed.rounds == 1 and summed.error < 1e-6
    wrong = np.abs(summed.parts()[0].numpy() - exact).max() / np.abs(exact).max()
    assert wrong > 0.05  # the sum is right, the tokens are not
    plan = Q.adaptive_plan(tolerance=1e-2, max_steps=256, word_tolerance=2e-2)
    checked = Q.drive([plan], lambda asks: [evaluate(asks[0])])[0]
    assert checked.rounds > 1 and checked.word_errors[0] <= 2e-2 and checked.converged
    right = np.linalg.norm(checked.parts()[0].numpy() - exact) / np.linalg.norm(exact)
    assert right <= 2e-2, right  # the estimate is honest: the true error is within the bound


def test_calibrated_first_round(tiny_path, default_model_path):
    """Round 1 on the model's own layout: profiled once, ends included, as many nodes as
    the probes need; both first rounds meet the same bounds."""
    from explain.engine import prior

    clf = load_classifier(default_model_path)
    clf.memo.pop("first_nodes", None)
    clf.memo.pop("profile", None)
    clf.padder()  # (its own probe: two forward passes, once per classifier)
    seen, handle = count_passes(clf.model)
    try:
        nodes = prior.first_nodes(clf)
    finally:
        handle.remove()
    # The profile: the probes' gradient rows in batched passes (chunked for memory), nothing else.
    assert all(grad for _, grad in seen) and len(seen) <= 2
    assert sum(rows for rows, _ in seen) == len(prior.PROBES) * prior.GRID
    assert nodes[0] == 0.0 and nodes[-1] == 1.0 and list(nodes) == sorted(nodes)
    assert len(nodes) in prior.CANDIDATES and prior.first_nodes(clf) is nodes  # remembered
    calibrated = explain(TEXT, clf, cache=False)
    lobatto = explain(TEXT, clf, cache=False, first_round="lobatto")
    for result in (calibrated, lobatto):
        assert result.converged and result.completeness_error <= 1e-2 and result.word_error <= 0.1
    assert calibrated.steps >= len(nodes)
    with pytest.raises(errors.InvalidInput, match="first_round"):
        explain(TEXT, clf, first_round="random")


def test_layout_follows_where_the_probes_switch():
    """Nodes gather where |dF/dalpha| is large; a smooth profile needs the fewest."""
    from explain.engine import prior

    alphas = np.linspace(0, 1, prior.GRID)
    sharp = np.tanh(40 * (alphas - 0.15))
    grads = 40 / np.cosh(40 * (alphas - 0.15)) ** 2
    prof = prior.Profile(alphas, [sharp], [np.stack([0.4 * grads, 0.6 * grads], axis=1)])
    nodes = prior.nodes_from(prof.density(), 12)
    assert sum(0.05 < x < 0.25 for x in nodes) >= 5  # half the nodes near the switch at 0.15
    smooth = prior.Profile(alphas, [np.sin(alphas)], [np.stack([np.cos(alphas)] * 2, axis=1) / 2])
    assert len(prior.choose(smooth)) == prior.CANDIDATES[0]
    assert len(prior.choose(prof)) > prior.CANDIDATES[0]
