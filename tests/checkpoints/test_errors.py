"""Bad input gives one clear message naming the problem and the fix."""

import shutil

import pytest
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, BertForMaskedLM

from explain import explain, load_classifier
from explain.errors import CheckpointNotFound, InvalidInput, NotAClassifier, UnsafeCheckpoint


def test_empty_and_whitespace_text(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    for text in ("", "   \n\t "):
        with pytest.raises(InvalidInput, match="empty") as err:
            explain(text, clf)
        assert err.value.fix


def test_unknown_target_lists_the_labels(tiny_path):
    with pytest.raises(InvalidInput, match="negative, neutral, positive"):
        explain("fine", load_classifier(tiny_path("bert")), target="joy")
    with pytest.raises(InvalidInput, match="contrast"):
        explain("fine", load_classifier(tiny_path("bert")), target="positive", contrast="positive")


def test_folder_that_is_not_a_checkpoint(tmp_path):
    with pytest.raises(CheckpointNotFound, match=r"no config\.json"):
        load_classifier(tmp_path)
    with pytest.raises(CheckpointNotFound, match="no folder"):
        load_classifier(str(tmp_path / "missing"))


def test_checkpoint_that_is_not_a_classifier(tiny_path, tmp_path):
    src = tiny_path("bert")
    config = AutoModelForSequenceClassification.from_pretrained(src).config
    config.architectures = None
    BertForMaskedLM(config).save_pretrained(tmp_path)
    AutoTokenizer.from_pretrained(src).save_pretrained(tmp_path)
    with pytest.raises(NotAClassifier, match="BertForMaskedLM, not a sequence classifier"):
        load_classifier(tmp_path)


def test_pickle_only_checkpoint_is_refused(tiny_path, tmp_path):
    shutil.copytree(tiny_path("bert"), tmp_path / "ckpt")
    (tmp_path / "ckpt" / "model.safetensors").rename(tmp_path / "ckpt" / "pytorch_model.bin")
    with pytest.raises(UnsafeCheckpoint, match="safetensors"):
        load_classifier(tmp_path / "ckpt")


def test_in_memory_model_is_explained_and_left_trainable(tiny_path):
    path = tiny_path("distilbert")
    model = AutoModelForSequenceClassification.from_pretrained(path)
    tok = AutoTokenizer.from_pretrained(path)
    result = explain("A charming film.", (model, tok))
    assert result.completeness_error <= 1e-2
    assert all(p.requires_grad for p in model.parameters())
    with torch.no_grad():
        ref = torch.softmax(model(**tok("A charming film.", return_tensors="pt")).logits, -1)[0]
    assert torch.allclose(torch.tensor(list(result.probabilities.values())), ref, atol=1e-5)
