"""How much the words did, and from where (issue 21): the caption says, in probabilities,
where the explained label stands with every word hidden and where the text takes it; a
negligible effect is said and never painted deep; near-ties and long texts are flagged."""

import math

from explain.render import highlighted_levels
from explain.render.caption import caption
from explain.render.effect import effect, near_tie
from explain.render.scale import level, pieces
from explain.result import Explanation, Window, WordScore

TEXT = "The match went to penalties after extra time."


def logit(p: float) -> float:
    return math.log(p / (1 - p))


def made(
    scores,
    p_start: float,
    p_end: float,
    quantity="log-odds",
    probabilities=None,
    contrast=None,
    windows=(),
    head="softmax",
    zero_shot=None,
    labels=("negative", "positive"),
) -> Explanation:
    """A hand-made explanation whose words carry ``scores`` and whose quantity goes from
    ``p_start`` (every word hidden) to ``p_end`` (the text), as probabilities."""
    words, pos = [], 0
    for token, score in zip(TEXT.split(), scores):
        start = TEXT.index(token, pos)
        words.append(WordScore(token, start, start + len(token), score, 1))
        pos = start + len(token)
    to_f = {"log-odds": logit, "log-ratio": logit, "log-score": math.log, "value": float, "logit": float}[quantity]
    probs = probabilities or {labels[0]: 1 - p_end, labels[-1]: p_end}
    return Explanation(
        text=TEXT,
        checkpoint={"source": "m"},
        head=head,
        labels=tuple(labels),
        probabilities=probs,
        predicted=max(probs, key=probs.get),
        target=labels[-1],
        contrast=contrast,
        explained="q",
        baseline={"kind": "mask", "token": "[MASK]", "token_id": 4},
        steps=16,
        tolerance=0.01,
        converged=True,
        completeness_error=0.001,
        tokens=(),
        words=tuple(words),
        windows=tuple(windows),
        timings={},
        device="cpu",
        f_input=to_f(p_end),
        f_baseline=to_f(p_start),
        quantity=quantity,
        zero_shot=zero_shot,
    )


def test_the_words_lower_a_label_the_model_already_leans_to():
    """The README's example: positive 95% with every word hidden, 79% for the text."""
    e = made([0.1, -4.3, 0.2, 0.1, 0.3, 0.1, 1.2, 0.9], 0.95, 0.79)
    text = caption(e).text()
    assert "With every word hidden the model says positive 95%; your words bring it down to 79%." in text
    assert "Deepest colour: at least 70% of the strongest word's score (match -4.3)" in text


def test_words_that_barely_matter_are_said_so_and_stay_faint():
    """The zero-shot tie: the words change the score by hundredths of a point."""
    tiny = [0.000246, 0.0001, -0.00005, 0.0002, 0.00018, 0.0001, 0.00009, 0.00012]
    e = made(
        tiny,
        0.3330,
        0.3335,
        probabilities={"negative": 0.3335, "neutral": 0.3330, "positive": 0.3335},
        labels=("negative", "neutral", "positive"),
    )
    assert effect(e).negligible
    text = caption(e).text()
    assert "The words barely matter to this model here" in text and "Colours stay faint" in text
    assert all(level(s) == 0 for _, s in pieces(e))  # not one word coloured
    assert all(cat is None for _, cat in highlighted_levels(e))
    assert "Near tie" in text


def test_a_clear_effect_keeps_its_deep_colours():
    e = made([0.1, -4.3, 0.2, 0.1, 0.3, 0.1, 1.2, 0.9], 0.2, 0.9)
    assert not effect(e).negligible and "bring it up to 90%" in caption(e).text()
    assert min(level(s) for _, s in pieces(e) if s is not None) == -3


def test_small_but_real_effects_are_not_painted_strong():
    """The strongest word moves the log-odds by 0.05 (about a point): relative to itself it
    would be 'strong'; against the floor it is weak."""
    e = made([0.05, 0.01, -0.02, 0.0, 0.0, 0.0, 0.0, 0.0], 0.50, 0.51)
    assert max(abs(level(s)) for _, s in pieces(e) if s is not None) == 1


def test_near_ties_contrast_shares_scores_and_values_each_in_their_unit():
    tie = made([0.3] * 8, 0.3, 0.51, probabilities={"negative": 0.49, "positive": 0.51})
    assert near_tie(tie) == ("positive", "negative", 0.51, 0.49)
    assert "Near tie: positive 51%, negative 49%" in caption(tie).text()
    share = made([0.3] * 8, 0.6, 0.9, quantity="log-ratio", contrast="negative")
    assert "positive against negative stand at 60:40; your words bring it up to 90:10" in caption(share).text()
    value = made(
        [0.3] * 8, 0.42, 0.87, quantity="value", head="regression", labels=("score",), probabilities={"score": 0.87}
    )
    assert "the model's value is 0.42; your words bring it up to 0.87" in caption(value).text()


def test_a_raw_logit_is_stated_as_what_it_is():
    e = made([0.3] * 8, 1.53, 2.06, quantity="logit")
    assert "from +1.53 with every word hidden to +2.06" in caption(e).text()


def test_long_texts_say_how_windows_combine_and_which_lean_the_other_way():
    w = lambda f: Window(0, 10, 0, 10, 12, 8, 0.001, True, f, 0.0, f, weight=1 / 3)
    e = made([0.3] * 8, 0.5, 0.7, windows=(w(1.2), w(-0.4), w(1.7)))
    text = caption(e).text()
    assert "read in 3 overlapping windows, each explained on its own" in text
    assert "window 2 of 3 lean the other way about positive" in text
