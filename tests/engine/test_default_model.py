"""The bundled real model: right on unambiguous sentences, and the sentiment word is what
the explanation points at; the app's default path works end to end offline."""

import pytest

from explain import explain, load_classifier

CLEAR = [
    ("An absolute delight from start to finish.", "positive"),
    ("One of the best movies I have seen this year.", "positive"),
    ("Beautifully acted and genuinely moving.", "positive"),
    ("Funny, smart and full of heart.", "positive"),
    ("I loved every minute of it.", "positive"),
    ("The film was terrible.", "negative"),
    ("A boring, predictable mess.", "negative"),
    ("What a waste of two hours.", "negative"),
    ("The worst sequel ever made.", "negative"),
    ("I did not like it at all.", "negative"),
]
# One clear sentiment word each: it must carry the largest attribution, toward the prediction.
# The other words must be neutral in the training data too: every noun here occurs in
# training snippets that are 35-65% positive (base rate 49.6%). "script" (119 snippets,
# 25% positive), "plot" (30%) and "performance" (69%) are themselves evidence in this
# domain, so "An awful script.", "The plot was dull." and "A brilliant performance."
# were replaced by the sentences with "story", "characters" and "comedy".
ONE_WORD = [
    ("The film was terrible.", "terrible"),
    ("What a boring movie.", "boring"),
    ("The characters were dull.", "dull"),
    ("An awful story.", "awful"),
    ("The film was wonderful.", "wonderful"),
    ("The acting was superb.", "superb"),
    ("A brilliant comedy.", "brilliant"),
    ("This movie is a masterpiece.", "masterpiece"),
]


@pytest.fixture(scope="module")
def model(default_model_path):
    return load_classifier(default_model_path)


@pytest.mark.parametrize("text,label", CLEAR)
def test_unambiguous_sentences(model, text, label):
    result = explain(text, model)
    assert result.predicted == label
    assert result.probabilities[label] > 0.8


@pytest.mark.parametrize("text,word", ONE_WORD)
def test_sentiment_word_carries_the_largest_attribution(model, text, word):
    result = explain(text, model)
    top = result.top_words(1)[0]
    assert top.text == word, [(w.text, round(w.score, 3)) for w in result.words]
    assert top.score > 0  # toward the predicted label (the default target)
    assert result.completeness_error <= 1e-2


def test_app_default_path_offline():
    import app

    assert app.SERVICE.folders.resolve("") == app.SERVICE.folders.resolve(app.Path(app.DEFAULT_MODEL).name)
    words, labels, details, result, *_ = app.run_explain("The film was terrible.", "")
    assert result["predicted"] == "negative"
    assert "".join(piece for piece, _ in words) == "The film was terrible."
    assert labels["negative"] > 0.8
    # By the default model's folder name, the same model.
    assert app.run_explain("What a boring movie.", app.Path(app.DEFAULT_MODEL).name)[3]["predicted"] == "negative"


def test_precision_is_stated_and_a_plain_load_matches(model, default_model_path):
    """The weights are stored in float16 but declared float32: a plain from_pretrained
    runs in float32, as the explainer does, and the two predictions agree."""
    import json

    import torch
    from safetensors import safe_open
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    with safe_open(str(default_model_path / "model.safetensors"), "pt") as f:
        assert f.get_tensor(next(iter(f.keys()))).dtype == torch.float16  # half the bytes on disk
    assert json.loads((default_model_path / "config.json").read_text())["dtype"] == "float32"
    plain = AutoModelForSequenceClassification.from_pretrained(default_model_path).eval()
    assert next(plain.parameters()).dtype == torch.float32
    tok = AutoTokenizer.from_pretrained(default_model_path)
    text = "The acting was wooden but the music is wonderful."
    result = explain(text, model)
    assert result.dtype == "float32" and result.to_dict()["dtype"] == "float32"
    with torch.no_grad():
        probs = torch.softmax(plain(**tok(text, return_tensors="pt")).logits[0], -1)
    assert torch.allclose(probs, torch.tensor([result.probabilities[label] for label in result.labels]), atol=1e-6)
