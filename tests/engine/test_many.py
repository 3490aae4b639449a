"""Many texts per pass: explain_many equals one-by-one explain (same rule, same nodes),
on models that pad safely (texts of different lengths in one call) and on ones that do
not (only equal lengths share a call)."""

import pytest
import torch

from explain import explain, explain_many, load_classifier
from explain.errors import InvalidInput

TEXTS = [
    "Great.",
    "The film was terrible and far too long.",
    "Not bad at all - actually quite charming.",
    "Boring.",
    "Brilliant performances, sharp dialogue and a moving ending, but the second half drags.",
    "It's fine.",
    "The soundtrack is great but the story drags.",
    "Meh.",
]


def count_passes(model):
    seen = []
    handle = model.register_forward_pre_hook(
        lambda module, args, kwargs: seen.append((kwargs["input_ids"].shape, torch.is_grad_enabled())), with_kwargs=True
    )
    return seen, handle


@pytest.mark.parametrize(
    "name", ["bert", "roberta", *(pytest.param(n, marks=pytest.mark.slow) for n in ("xlnet", "gpt2", "bart"))]
)
def test_packed_equals_one_by_one(name, tiny_path):
    clf = load_classifier(tiny_path(name))
    ones = [explain(t, clf, cache=False) for t in TEXTS]
    seen, handle = count_passes(clf.model)
    try:
        many = explain_many(TEXTS, clf, cache=False)
    finally:
        handle.remove()
    for a, b in zip(ones, many):
        assert b.text == a.text and b.steps == a.steps and b.target == a.target
        assert [t.score for t in b.tokens] == pytest.approx([t.score for t in a.tokens], abs=1e-5)
        assert [w.score for w in b.words] == pytest.approx([w.score for w in a.words], abs=1e-5)
        assert b.probabilities == pytest.approx(a.probabilities, abs=1e-5)
    rounds = max(sum(w.rounds for w in e.windows) for e in ones)
    calls = sum(1 for _, grad in seen if grad)
    one_by_one = sum(sum(w.rounds for w in e.windows) for e in ones)
    lengths = {e.windows[0].n_tokens for e in ones}
    if clf.padder() is not None:  # texts of different lengths share calls: per round, a few length buckets
        assert calls < one_by_one and calls <= rounds * len(lengths)
    else:  # (XLNet pads on the left) only texts of one length share a call
        assert calls <= one_by_one


@pytest.mark.slow
def test_packed_pairs_targets_windows_and_errors(tiny_path):
    clf = load_classifier(tiny_path("bert"))
    long = " ".join(TEXTS * 4)
    texts = ["A cat sleeps.", long, "   ", "Short one."]
    pairs = ["An animal rests.", None, None, None]
    targets = [None, "positive", None, 0]
    got = explain_many(texts, clf, text_pairs=pairs, targets=targets, errors="return", cache=False)
    assert isinstance(got[2], InvalidInput)
    for k in (0, 1, 3):
        alone = explain(texts[k], clf, text_pair=pairs[k], target=targets[k], cache=False)
        assert got[k].target == alone.target and len(got[k].windows) == len(alone.windows)
        assert [w.score for w in got[k].words] == pytest.approx([w.score for w in alone.words], abs=1e-5)
    assert len(got[1].windows) > 1 and got[0].text_pair == "An animal rests."
    with pytest.raises(InvalidInput, match="empty"):
        explain_many(texts, clf, cache=False)
    # The result cache is shared with explain(): a packed result serves a later single call.
    packed = explain_many(["Cached once."], clf)[0]
    assert explain("Cached once.", clf).cache == "hit" and packed.cache == "miss"
