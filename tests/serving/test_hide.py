"""Verify it yourself (issue 21): hide words and see what the model says - one forward pass
on the explanation's own baseline point, beside what the colours claim."""

import pytest

from explain import explain, load_classifier
from explain.checks import hide_words
from explain.errors import InvalidInput
from explain.render.effect import effect
from explain.serving import FolderPolicy, Request, Service
from explain.serving.pipeline import hidden_words

TEXT = "The plot was dull, but the acting was wonderful."


@pytest.fixture(scope="module")
def bundled(default_model_path):
    return load_classifier(default_model_path)


def test_hiding_every_word_is_the_baseline_and_the_claim_adds_up(bundled):
    e = explain(TEXT, bundled)
    h = hide_words(e, bundled, range(len(e.words)))
    start = effect(e).start
    assert h.measured == pytest.approx(start, abs=1e-4)  # the very point the path starts from
    assert h.claimed == pytest.approx(start, abs=0.01)  # completeness: the scores add up to the change
    assert h.before == pytest.approx(e.probabilities["positive"], abs=1e-5)


def test_hiding_the_words_for_a_label_lowers_it(bundled):
    e = explain(TEXT, bundled)
    top = hidden_words(e, top=2)
    assert {e.words[i].text for i in top} == {w.text for w in sorted(e.words, key=lambda w: -w.score)[:2]}
    h = hide_words(e, bundled, top)
    assert h.measured < h.before and h.claimed < h.before
    assert sum(h.probabilities.values()) == pytest.approx(1.0, abs=1e-5)
    wonderful = next(i for i, w in enumerate(e.words) if w.text == "wonderful")
    assert hidden_words(e, words=f"{wonderful + 1}") == [wonderful]
    assert hidden_words(e, words=[wonderful + 1]) == [wonderful]


@pytest.mark.parametrize(
    "words, top, message",
    [
        ("", 0, "No words to hide"),
        ("0", 0, "there is no word 0"),
        ("99", 0, "there is no word 99"),
        ("1; drop table", 0, "word numbers separated by commas"),
        ([True], 0, "must be word numbers"),
        ("", 65, "top must be a whole number from 1 to 64"),
        ("", 2.5, "top must be a whole number"),
        (",".join(["1"] * 65), 0, "at most 64"),
    ],
)
def test_hostile_word_lists_are_refused_plainly(bundled, words, top, message):
    e = explain(TEXT, bundled)
    with pytest.raises(InvalidInput, match=message):
        hidden_words(e, words, top)


def test_the_service_checks_an_api_request(default_model_path):
    service = Service(FolderPolicy(str(default_model_path)))
    h = service.verify(Request(TEXT), top=1)
    assert len(h.words) == 1 and h.target == "positive" and h.measured < h.before
