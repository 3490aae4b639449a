"""The explainer on every architecture: prediction parity, completeness, spans."""

import math

import pytest
import tiny
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from explain import SCHEMA_VERSION, explain, load_classifier
from explain.engine.heads import probabilities
from explain.render import segments

TEXTS = [
    "It's not bad at all - actually quite charming, but too long!",
    "Le film était magnifique.",
]
ALL = list(tiny.ARCHITECTURES) + list(tiny.HEADS)
# The tiny checkpoints are the same on every build, so is which texts cannot meet the bound
# within the step cap; there the result must say the bound was missed, never claim it. (The
# tiny T5 on the first text missed it while the raw logit was explained - a 0.023 change, 2.1%
# error at 256 steps; its log-odds, explained now, meet it.)
MISSES_THE_BOUND: set = set()


def plain_probabilities(path, text, clf):
    """What a user gets from model(**tokenizer(text)) without the explainer."""
    tok = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path).eval()
    if model.config.pad_token_id is None:
        model.config.pad_token_id = clf.model.config.pad_token_id
    with torch.no_grad():
        logits = model(**tok(text, return_tensors="pt")).logits
    return probabilities(logits, clf.head)[0]


@pytest.mark.parametrize("name", [pytest.param(n, marks=pytest.mark.slow) if n == "t5" else n for n in ALL])
def test_architecture(name, tiny_path):
    path = tiny_path(name)
    clf = load_classifier(path)
    for text in TEXTS:
        result = explain(text, clf)
        mine = torch.tensor([result.probabilities[label] for label in result.labels])
        ref = plain_probabilities(path, text, clf)
        assert torch.allclose(mine, ref.float(), atol=1e-5), (mine, ref)
        if clf.head != "regression":
            assert int(mine.argmax()) == int(ref.argmax())
            assert result.predicted == result.labels[int(ref.argmax())]
        if (name, text) in MISSES_THE_BOUND:
            assert result.completeness_error > 1e-2 and not result.converged and result.steps == 256
            continue
        assert result.completeness_error <= 1e-2, result.completeness_error
        assert result.converged
        assert "".join(piece for piece, _ in segments(text, result.words)) == text
        for w in result.words:
            assert text[w.start : w.end] == w.text
            assert math.isfinite(w.score)
        assert all(math.isfinite(t.score) for t in result.tokens)
        # Word scores add up to the token scores, which add up to F(x) - F(x').
        window = result.windows[0]
        assert abs(sum(w.score for w in result.words) - window.sum_attributions) < 1e-6
        delta = window.f_input - window.f_baseline
        assert abs(window.sum_attributions - delta) <= 1e-2 * max(abs(delta), 1e-6) + 1e-9


def test_matches_captum_layer_integrated_gradients(tiny_path):
    """With a fixed rule, the engine equals Captum's own LayerIntegratedGradients."""
    from captum.attr import LayerIntegratedGradients

    clf = load_classifier(tiny_path("bert"))
    text = TEXTS[0]
    result = explain(text, clf, n_steps=16, target="positive", output="logit")
    enc = clf.tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    special = enc.pop("special_tokens_mask").bool()
    ids = enc["input_ids"]
    base = ids.clone()
    base[~special] = clf.tokenizer.mask_token_id
    target = clf.labels.index("positive")

    def forward(input_ids, attention_mask, token_type_ids):
        return clf.model(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids).logits[:, target]

    lig = LayerIntegratedGradients(forward, clf.model.get_input_embeddings())
    attr = lig.attribute(
        ids, base, additional_forward_args=(enc["attention_mask"], enc["token_type_ids"]), n_steps=16, method="gausslegendre"
    ).sum(-1)[0]
    mine = torch.tensor([t.score for t in result.tokens])
    assert torch.allclose(mine, attr.double().float(), atol=1e-6), (mine, attr)


def test_target_contrast_and_probability_output(tiny_path):
    clf = load_classifier(tiny_path("roberta"))
    text = TEXTS[0]
    a = explain(text, clf, target="negative", output="logit")
    b = explain(text, clf, target=2, output="logit")
    assert a.target == "negative" and b.target == "positive"
    c = explain(text, clf, target="positive", contrast="negative")
    assert c.contrast == "negative" and "minus" in c.explained
    # Contrast = difference of the two logit explanations (linearity of IG), up to quadrature error.
    for tc, tb, ta in zip(c.tokens, b.tokens, a.tokens):
        assert abs(tc.score - (tb.score - ta.score)) < 5e-3 * (1 + abs(tc.score))
    p = explain(text, clf, output="probability")
    assert "probability" in p.explained and p.completeness_error <= 1e-2


def test_softmax_heads_explain_log_odds_that_move_with_the_probability(tiny_path):
    """By default a softmax head's target is explained as its log-odds, log(p / (1 - p)):
    sigmoid(f) is the probability shown, at the text and with every word hidden, so the
    words' sum has the sign of the probability's change (a raw logit need not)."""
    import math

    clf = load_classifier(tiny_path("roberta"))
    for text in TEXTS:
        for target in ("negative", "neutral", "positive"):
            e = explain(text, clf, target=target, n_steps=16)
            assert e.quantity == "log-odds" and "log-odds" in e.explained
            p = e.probabilities[target]
            assert abs(1 / (1 + math.exp(-e.f_input)) - p) < 1e-5
            raw = explain(text, clf, target=target, n_steps=16, output="logit")
            assert raw.quantity == "logit" and raw.f_input != e.f_input
    two = load_classifier(tiny_path("reranker"))  # one output: sigmoid, log-odds already
    assert explain(TEXTS[0], two).quantity == "log-odds"


def test_sigmoid_and_regression_heads(tiny_path):
    ml = explain(TEXTS[0], load_classifier(tiny_path("multilabel")))
    assert ml.head == "sigmoid" and "log-odds" in ml.explained
    for p in ml.probabilities.values():
        assert 0.0 < p < 1.0
    reg = explain(TEXTS[0], load_classifier(tiny_path("regression")))
    assert reg.head == "regression" and reg.labels == ("score",)
    assert reg.explained == "the regression output"


def test_text_is_never_changed_and_specials_hidden(tiny_path):
    text = "  Odd   spacing,\ttabs\nand   “quotes” — émojis 🙂!  "
    result = explain(text, load_classifier(tiny_path("xlm-roberta")))
    assert result.text == text
    assert "".join(piece for piece, _ in segments(text, result.words)) == text
    assert all(not t.special for t in result.tokens if t.start is not None)
    assert [t for t in result.tokens if t.special and t.start is not None] == []


def test_fixed_steps_and_json(tiny_path):
    import json

    result = explain(TEXTS[1], load_classifier(tiny_path("distilbert")), n_steps=4)
    assert result.steps == 4
    data = json.loads(result.to_json())
    assert data["schema_version"] == SCHEMA_VERSION == "1.4"
    assert data["words"][0]["text"] == result.words[0].text
    assert set(data["probabilities"]) == set(result.labels)


@pytest.mark.parametrize("name", ["bert", "roberta", "bart", "t5", "xlnet", "gpt2", "multilabel", "regression"])
def test_method_captum_equals_the_fixed_rule_engine(name, tiny_path):
    """method="captum" runs Captum's own LayerIntegratedGradients on the resolved call
    sites (BART/T5: two, one shifted; XLNet: sequence-first) and the same baseline."""
    clf = load_classifier(tiny_path(name))
    text = TEXTS[0]
    mine = explain(text, clf, n_steps=12, cache=False)
    ref = explain(text, clf, method="captum", n_steps=12, cache=False)
    assert ref.method == "captum" and mine.method == "engine"
    assert (ref.target, ref.predicted, ref.probabilities) == (mine.target, mine.predicted, mine.probabilities)
    a = torch.tensor([t.score for t in ref.tokens], dtype=torch.float64)
    b = torch.tensor([t.score for t in mine.tokens], dtype=torch.float64)
    assert torch.allclose(a, b, atol=1e-5), (a - b).abs().max()
    assert abs(ref.completeness_error - mine.completeness_error) < 1e-4
    assert ref.steps == 12 and ref.windows[0].f_baseline == pytest.approx(mine.windows[0].f_baseline, abs=1e-6)
    assert ref.to_dict()["method"] == "captum"


def test_method_captum_defaults_to_50_steps_and_refuses_unknown_methods(tiny_path):
    from explain.errors import InvalidInput

    clf = load_classifier(tiny_path("distilbert"))
    assert explain(TEXTS[1], clf, method="captum", cache=False).steps == 50
    with pytest.raises(InvalidInput, match="Unknown method"):
        explain(TEXTS[1], clf, method="lime")
