"""Faithfulness curves, AOPC, baseline comparison, rank statistics and the trust summary
(tiny checkpoints; the real-model sanity checks are in test_sanity.py)."""

import json
import math

import pytest
import torch

from explain import compare_baselines, explain, load_classifier
from explain.checks import evaluate_faithfulness, kendall_tau, spearman
from explain.checks.trust import FAIL, NOT_RUN, PASS, WARN, trust_summary, with_trust
from explain.render.views import comparison_markdown, curve_rows
from explain.result import BaselineComparison, FaithfulnessReport, RandomReference, RankAgreement

TEXT = "It's not bad at all - actually quite charming, but too long!"


# --- rank statistics -------------------------------------------------------------------


def test_kendall_tau_known_values_and_ties():
    assert kendall_tau([1, 2, 3], [1, 3, 2]) == pytest.approx(1 / 3)
    assert kendall_tau([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    # tau-b with a tie in x: C = 2, D = 0, n0 = 3, n1 = 1, n2 = 0 -> 2 / sqrt(2 * 3)
    assert kendall_tau([1, 1, 2], [1, 2, 3]) == pytest.approx(2 / math.sqrt(6))
    assert math.isnan(kendall_tau([1, 1, 1], [1, 2, 3]))
    # Blocked computation (> 1024 items) agrees with the exact value for a reversal.
    n = 1500
    assert kendall_tau(list(range(n)), list(range(n))[::-1]) == pytest.approx(-1.0)


def test_spearman_known_values_and_ties():
    # No ties: rho = 1 - 6 * sum(d^2) / (n (n^2 - 1)) = 1 - 6 * 4 / 120
    assert spearman([1, 2, 3, 4, 5], [2, 1, 4, 3, 5]) == pytest.approx(0.8)
    # Ties get average ranks: y ranks (1, 2, 3.5, 5, 3.5); Pearson of the ranks.
    rx, ry = [1, 2, 3, 4, 5], [1, 2, 3.5, 5, 3.5]
    mx, my = 3, 3
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry))
    expected = cov / math.sqrt(sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry))
    assert spearman([10, 20, 30, 40, 50], [5, 6, 7, 8, 7]) == pytest.approx(expected)
    assert math.isnan(spearman([2, 2, 2], [1, 2, 3]))


# --- curves and AOPC ---------------------------------------------------------------------


def test_curves_match_the_explanation_and_plain_model(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    expl = explain(TEXT, clf, output="probability", faithfulness=True)
    f = expl.extras.faithfulness
    n = len(expl.words)
    assert f.n_words == n and n < 21
    curve = f.curve
    assert curve.k == list(range(n + 1))  # short text: every k
    # Nothing removed = the prediction; everything removed = F(x') on the attribution path.
    assert f.full == pytest.approx(expl.probabilities[expl.target], abs=1e-6)
    assert curve.deletion[0] == pytest.approx(f.full) and curve.insertion[-1] == pytest.approx(f.full)
    assert f.empty == pytest.approx(expl.windows[0].f_baseline, abs=1e-5)
    assert curve.deletion[-1] == pytest.approx(f.empty) and curve.insertion[0] == pytest.approx(f.empty)
    # ERASER AOPC: mean over the bins of full - value at k_b (k_b = ceil(b * n), at least 1).
    assert f.bin_k == [max(1, math.ceil(b * n)) for b in (0.01, 0.05, 0.10, 0.20, 0.50)]
    comp = sum(f.full - curve.deletion[k] for k in f.bin_k) / 5
    suff = sum(f.full - curve.insertion[k] for k in f.bin_k) / 5
    assert f.comprehensiveness == pytest.approx(comp) and f.sufficiency == pytest.approx(suff)
    assert f.random.permutations == 5 and f.random.comprehensiveness_std >= 0
    # Independent check for an absolute-position model: removing the top word by swapping
    # its ids for the mask id in a plain forward pass gives the same deletion value.
    top = max(expl.words, key=lambda w: (w.score, -w.start))
    enc = clf.tokenizer(TEXT, return_tensors="pt", return_offsets_mapping=True)
    offsets = enc.pop("offset_mapping")[0].tolist()
    ids = enc["input_ids"].clone()
    for i, (s, e) in enumerate(offsets):
        if e > s and top.start <= s < top.end:
            ids[0, i] = clf.tokenizer.mask_token_id
    with torch.no_grad():
        p = torch.softmax(clf.model(**{**enc, "input_ids": ids}).logits, -1)[0, clf.labels.index(expl.target)]
    assert curve.deletion[1] == pytest.approx(float(p), abs=1e-5)


def test_random_reference_is_seeded_and_rankings_differ(tiny_path):
    clf = load_classifier(tiny_path("roberta"))
    expl = explain(TEXT, clf, n_steps=8)
    a = evaluate_faithfulness(expl, clf)
    b = evaluate_faithfulness(expl, clf)
    c = evaluate_faithfulness(expl, clf, seed=1)
    assert a.random == b.random and a.curve == b.curve
    assert a.random.comprehensiveness != c.random.comprehensiveness
    # Reversing the explanation's ranking changes the deletion curve (ranking is used).
    flipped = expl.replace(words=tuple(w.__class__(w.text, w.start, w.end, -w.score, w.n_tokens) for w in expl.words))
    d = evaluate_faithfulness(flipped, clf)
    assert d.curve.deletion != a.curve.deletion
    assert d.random == a.random


@pytest.mark.parametrize("name", ["bart", "gpt2", "xlnet"])
def test_curves_on_shifted_decoder_and_sequence_first_models(name, tiny_path):
    clf = load_classifier(tiny_path(name))
    expl = explain(TEXT, clf, output="probability", n_steps=16, faithfulness=True)
    f = expl.extras.faithfulness
    assert f.full == pytest.approx(expl.probabilities[expl.target], abs=1e-5)
    assert f.empty == pytest.approx(expl.windows[0].f_baseline, abs=1e-5)


def test_contrast_regression_and_multilabel_measures(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    c = explain(TEXT, clf, target="positive", contrast="negative", n_steps=8, faithfulness=True)
    f = c.extras.faithfulness
    assert f.measured == "p('positive') - p('negative')"
    assert f.full == pytest.approx(c.probabilities["positive"] - c.probabilities["negative"], abs=1e-6)
    reg = explain(TEXT, load_classifier(tiny_path("regression")), n_steps=8, faithfulness=True)
    fr = reg.extras.faithfulness
    assert fr.measured == "the value of 'score'" and fr.full == pytest.approx(reg.probabilities["score"], abs=1e-5)
    ml = explain(TEXT, load_classifier(tiny_path("multilabel")), n_steps=8, faithfulness=True)
    fm = ml.extras.faithfulness
    assert fm.full == pytest.approx(ml.probabilities[ml.target], abs=1e-6)
    assert all(0.0 <= v <= 1.0 for v in fm.curve.deletion)


def test_long_text_windows_and_coarse_grid(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    text = " ".join(["The soundtrack is great but the story drags, and the ending is lovely."] * 6)
    expl = explain(text, clf, max_tokens=40, n_steps=4, faithfulness=True)
    assert len(expl.windows) > 1
    f = expl.extras.faithfulness
    assert len(f.curve.k) == 21 and f.curve.k[0] == 0 and f.curve.k[-1] == len(expl.words)
    # The curve starts at the prediction, which averages the windows' probabilities.
    assert f.full == pytest.approx(expl.probabilities[expl.target], abs=1e-5)
    assert f.forward_rows > len(expl.windows)


def test_too_costly_is_skipped_with_a_reason(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    expl = explain(TEXT, clf, n_steps=4)
    f = evaluate_faithfulness(expl, clf, max_forward_tokens=10)
    assert f.skipped and "token positions" in f.skipped
    item = trust_summary(expl.with_extras(faithfulness=f))[1]
    assert item.status == NOT_RUN and "skipped" in item.text


def test_past_the_deadline_the_check_stops_and_the_explanation_stays(tiny_path):
    from explain import deadline

    clf = load_classifier(tiny_path("bert"))
    expl = explain(TEXT, clf, n_steps=4)
    with deadline(0.0):
        f = evaluate_faithfulness(expl, clf)
    assert "time limit" in f.skipped and f.curve is None
    assert "curve" not in expl.with_extras(faithfulness=f).to_dict()["extras"]["faithfulness"]
    assert evaluate_faithfulness(expl, clf).comprehensiveness is not None


# --- baselines -----------------------------------------------------------------------------


def test_compare_baselines(tiny_path):
    clf = load_classifier(tiny_path("xlnet"))
    ref = explain(TEXT, clf, target="positive", n_steps=16)
    cmp = compare_baselines(TEXT, clf, ("mask", "pad", "unk", "nonexistent-multi-token-word"), reference=ref, n_steps=16)
    names = [b.baseline for b in cmp.baselines]
    assert names[0] == "mask (<mask>)" and len(names) == 3  # mask is the reference's own (auto)
    assert cmp.target == "positive"
    reasons = " ".join(s.reason for s in cmp.skipped)
    assert "same token" in reasons and "not one" in reasons
    assert len(cmp.pairs) == 3
    for p in cmp.pairs:
        a, b = cmp.scores[p.a], cmp.scores[p.b]
        assert p.kendall_tau == pytest.approx(kendall_tau(a, b)) and -1 <= p.kendall_tau <= 1
    assert cmp.min_kendall_tau == min(p.kendall_tau for p in cmp.pairs)
    # The reference's scores are reused, not recomputed.
    assert cmp.scores["mask (<mask>)"] == [w.score for w in ref.words]
    md = comparison_markdown(cmp)
    assert "Kendall tau" in md and "&lt;pad&gt;" in md


def test_compare_baselines_without_reference_keeps_one_target(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    cmp = compare_baselines(TEXT, clf, ("mask", "unk"), n_steps=8)
    assert len(cmp.baselines) == 2 and cmp.target in clf.labels
    assert any("all zeros" in s.reason for s in compare_baselines(TEXT, clf, ("pad", "mask")).skipped)


# --- trust summary -------------------------------------------------------------------------


def _report(comp, rand, sd=0.01, head="softmax"):
    return FaithfulnessReport(
        measured="the probability of 'x'",
        ranking="",
        removal="",
        head=head,
        n_words=10,
        bins=[],
        bin_k=[],
        full=0.9,
        empty=0.2,
        comprehensiveness=comp,
        sufficiency=0.1,
        random=RandomReference(5, 0, comprehensiveness=rand, comprehensiveness_std=sd, sufficiency=0.3),
    )


def test_trust_summary_statuses(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    expl = explain(TEXT, clf, n_steps=8)
    items = trust_summary(expl)
    assert [i.check for i in items] == ["completeness", "faithfulness", "baselines"]
    assert items[0].status == (PASS if expl.converged else FAIL)
    assert items[1].status == NOT_RUN and items[2].status == NOT_RUN
    status = lambda rep: trust_summary(expl.with_extras(faithfulness=rep))[1].status
    assert status(_report(0.30, 0.05)) == PASS
    assert status(_report(0.055, 0.05)) == WARN  # better, but within the random spread
    assert status(_report(0.04, 0.05)) == FAIL
    pairs = lambda tau: BaselineComparison("x", None, "", (), [], {}, (RankAgreement("mask", "unk", tau, tau),), tau, tau)
    assert trust_summary(expl, pairs(0.9))[2].status == PASS
    assert trust_summary(expl, pairs(0.5))[2].status == WARN
    assert trust_summary(expl, pairs(0.1))[2].status == FAIL
    bad = expl.replace(completeness_error=0.2, converged=False)
    assert trust_summary(bad)[0].status == FAIL and "NOT met" in trust_summary(bad)[0].text


def test_json_carries_curves_comparison_and_summary(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    expl = explain(TEXT, clf, n_steps=8, faithfulness=True)
    expl = with_trust(expl, compare_baselines(TEXT, clf, ("unk",), reference=expl, n_steps=8))
    data = json.loads(json.dumps(expl.to_dict(), allow_nan=False))
    assert set(data["extras"]) == {"faithfulness", "baselines", "trust"}
    assert data["extras"]["faithfulness"]["curve"]["deletion"][0] == pytest.approx(expl.probabilities[expl.target])
    assert len(curve_rows(expl)) == 4 * len(data["extras"]["faithfulness"]["curve"]["k"])
