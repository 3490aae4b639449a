"""Reduced precision for the gradient rows: stated in the result, the prediction and the
path's ends always in float32, and "auto" only where the per-model check allows it."""

import math

import pytest
import torch

from explain import load_classifier
from explain.engine import precision
from explain.engine.run import Options, explain_loaded
from explain.errors import InvalidInput

TEXT = "It's not bad at all - actually quite charming, but too long!"


def test_bfloat16_rows_keep_the_float32_prediction_and_ends(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    full = explain_loaded(clf, TEXT, precision="float32")
    low = explain_loaded(clf, TEXT, precision="bfloat16")
    assert full.dtype == "float32" and low.dtype == "bfloat16"
    assert low.probabilities == pytest.approx(full.probabilities, abs=1e-6)  # a float32 forward pass
    assert low.f_input == pytest.approx(full.f_input, abs=1e-6)
    assert low.f_baseline == pytest.approx(full.f_baseline, abs=1e-6)
    # The completeness error is measured against the float32 ends: it includes the rows' rounding.
    total = sum(t.score for t in low.tokens)
    change = low.f_input - low.f_baseline
    assert low.completeness_error == pytest.approx(abs(total - change) / abs(change), rel=1e-6, abs=1e-9)
    a = torch.tensor([w.score for w in full.words])
    b = torch.tensor([w.score for w in low.words])
    assert 0 < float((a - b).norm() / a.norm()) < 0.2  # rounded, and still the same explanation


def test_auto_keeps_float32_for_small_models_and_fixed_rules(tiny_path):
    clf = load_classifier(tiny_path("roberta"))
    assert clf.n_parameters < precision.MIN_PARAMETERS
    auto = explain_loaded(clf, TEXT)
    assert auto.dtype == "float32"
    assert [w.score for w in auto.words] == [w.score for w in explain_loaded(clf, TEXT, precision="float32").words]
    fixed = explain_loaded(clf, TEXT, Options(n_steps=8), precision="bfloat16")
    assert fixed.dtype == "float32"  # a fixed rule is Captum's rule, in full precision
    with pytest.raises(InvalidInput, match="precision"):
        explain_loaded(clf, TEXT, precision="float16")


def test_auto_follows_the_per_model_check(tiny_path, monkeypatch):
    clf = load_classifier(tiny_path("bert"))
    monkeypatch.setattr(precision, "MIN_PARAMETERS", 0)
    monkeypatch.setattr(precision, "native_bfloat16", lambda device: True)
    word, added = precision.measure(clf)  # the real check, on the calibration probes
    assert math.isfinite(word) and math.isfinite(added) and word >= 0
    for check, want in (((0.001, 0.0), "bfloat16"), ((0.02, 0.0), "float32"), ((0.001, 0.01), "float32")):
        clf.memo[precision.MEMO_KEY] = check
        assert explain_loaded(clf, TEXT).dtype == want
    monkeypatch.setattr(precision, "native_bfloat16", lambda device: False)
    clf.memo[precision.MEMO_KEY] = (0.0, 0.0)
    assert explain_loaded(clf, TEXT).dtype == "float32"  # never where the device emulates it
