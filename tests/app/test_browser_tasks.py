"""The forms of issue 13 in a real browser: an NLI model offers a text pair or zero-shot
labels, both texts are shown (separated), zero-shot candidates get their own switch, a
multi-label head lists the labels present with each one's words, and changing the model
reloads the labels and resets the target. Screenshots of the pair and zero-shot forms go
to tests/artifacts/."""

import os
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from relabel import relabelled
from serve import serving
from test_browser import (
    ARTIFACTS,
    DESKTOP,
    ERROR,
    WAIT_MS,
    caption_text,
    read_words,
    share_link,
    shown_result,
    wait_for_result,
)

pytestmark = pytest.mark.browser  # deselect with -m "not browser"
PREMISE = "A man is playing a guitar on stage."
HYPOTHESIS = "A person makes music."


@pytest.fixture(scope="module")
def models(tiny_path, tmp_path_factory):
    root = tmp_path_factory.mktemp("forms")
    return {
        "nli": relabelled(tiny_path("bert"), root / "tiny-nli"),
        "multi": relabelled(
            tiny_path("bert"),
            root / "tiny-toxic",
            ("toxic", "insult", "threat"),
            "multi_label_classification",
            bias=(4.0, 3.0, -4.0),
        ),
    }


@pytest.fixture(scope="module")
def served(tiny_path, models):
    os.environ["EXPLAIN_LOCAL_MODELS"] = os.pathsep.join([str(tiny_path("bert"))] + [str(p) for p in models.values()])
    import app

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app.build_demo(), **app.launch_options()) as url:
        yield url, app


def _load_model(page, name: str) -> None:
    """Type a checkpoint and leave the box: its labels load."""
    box = page.get_by_label("Model (a Hub ID)")
    box.fill(name)
    page.get_by_label("Text", exact=True).click()  # the checkpoint box loses focus


def test_text_pair_form(browser, served, models):
    url, app = served
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    _load_model(page, "tiny-nli")
    page.locator("#task").wait_for(state="visible", timeout=WAIT_MS)
    page.wait_for_function("() => document.querySelector('#model-card').textContent.includes('tiny-nli')", timeout=WAIT_MS)
    assert page.locator("#task input[value='pair']").is_checked()
    # The pair box shows after the task's own change event (one more round trip): waited for.
    page.get_by_text("Hypothesis (the second text of the pair)").wait_for(state="visible", timeout=WAIT_MS)
    page.get_by_label("Text", exact=True).fill(PREMISE)
    page.locator("#text-pair textarea").fill(HYPOTHESIS)
    page.locator("#explain-btn").click()
    wait_for_result(page, PREMISE)
    wait_for_result(page, HYPOTHESIS, "#words-pair")
    spelled, coloured = read_words(page, "#words-pair")
    assert spelled == HYPOTHESIS
    first, second = page.locator("#words").bounding_box(), page.locator("#words-pair").bounding_box()
    assert second["y"] >= first["y"] + first["height"] + 4  # two panels, one below the other, apart
    assert page.locator("#words-pair").get_by_text("Text pair").count() >= 1
    result = shown_result(page)
    assert result["text_pair"] == HYPOTHESIS and {w["segment"] for w in result["words"]} == {0, 1}
    query = parse_qs(urlsplit(share_link(page)).query)
    assert query["text_pair"] == [HYPOTHESIS] and query["model"] == ["tiny-nli"]
    page.screenshot(path=str(ARTIFACTS / "browser-pair.png"), full_page=True)
    page.close()


def test_zero_shot_form_and_a_switch_without_recomputing(browser, served, monkeypatch):
    url, app = served
    calls = []
    real = app.SERVICE.answer
    monkeypatch.setattr(app.SERVICE, "answer", lambda *a, **k: (calls.append(1), real(*a, **k))[1])
    page = browser.new_page(viewport=DESKTOP)
    query = {
        "model": "tiny-nli",
        "text": "The match went to penalties after extra time.",
        "labels": "sports, politics, cooking",
        "template": "This text is about {}.",
    }
    page.goto(f"{url}?{urlencode(query, quote_via=quote)}")
    wait_for_result(page, query["text"])
    assert page.locator("#task input[value='zero-shot']").is_checked()
    assert page.locator("#candidates textarea, #candidates input").first.input_value() == query["labels"]
    assert page.locator("#template textarea, #template input").first.input_value() == query["template"]
    said = caption_text(page)
    assert said.startswith("Explaining ") and "among the candidate labels" in said
    assert '"This text is about {}."' in page.locator("#caption").text_content()
    result = shown_result(page)
    assert result["zero_shot"]["hypotheses"][0] == "This text is about sports."
    switch = page.locator("#label-switch")
    switch.locator("input").click()
    options = [o.replace("✓", "").strip() for o in switch.locator("[role=option]").all_text_contents()]
    assert sorted(o.split(" (")[0].strip() for o in options) == ["cooking", "politics", "sports"]
    page.screenshot(path=str(ARTIFACTS / "browser-zero-shot.png"), full_page=True)

    before = len(calls)
    other = next(o.split(" (")[0].strip() for o in options if o.split(" (")[0].strip() != result["target"])
    switch.locator("[role=option]").filter(has_text=f"{other} (").first.click()
    page.wait_for_function(
        "t => document.querySelector('#caption .explain-caption-text').textContent.includes('Explaining ' + t)",
        arg=other,
        timeout=WAIT_MS,
    )
    assert len(calls) == before  # no model ran
    share_link(page)
    page.wait_for_function(
        "t => document.querySelector('#share-link textarea, #share-link input').value"
        ".includes('target=' + encodeURIComponent(t))",
        arg=other,
        timeout=WAIT_MS,
    )
    assert parse_qs(urlsplit(share_link(page)).query)["target"] == [other]  # the share panel follows
    assert shown_result(page)["target"] == other
    page.close()


def test_multi_label_head_lists_the_labels_present(browser, served, models):
    url, app = served
    text = "You are a wonderful and terrible person."
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{url}?{urlencode({'model': 'tiny-toxic', 'text': text}, quote_via=quote)}")
    wait_for_result(page, text)
    result = shown_result(page)
    present = [name for name, p in sorted(result["probabilities"].items(), key=lambda kv: -kv[1]) if p > 0.5]
    assert set(present) == {"toxic", "insult"}, result["probabilities"]  # set by the head's bias
    title = page.locator("#prediction [data-testid='block-label']").text_content()
    assert f"Labels present (> 50%): {', '.join(present) or 'none'}" in title and "on its own" in title
    assert not page.locator("#prediction [data-testid='label-output-value']").is_visible()  # no single winner
    assert "independent" in page.locator("#caption").text_content()
    panel = page.locator("#present")
    shown = [h.split(" - ")[0] for h in panel.locator("h4").all_text_contents()]
    assert shown == [p for p in present if p in shown] and shown  # each present label explained (most probable)
    page.close()


def test_a_model_that_does_not_load_says_so_once(browser, served):
    url, app = served
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    chip = page.locator("#hub-models .explain-example").filter(has_text="unitary/toxic-bert")
    assert "labels: toxic / severe_toxic" in chip.text_content() and "MB" in chip.text_content()
    chip.click()  # offline: the Hub cannot be reached
    page.locator(ERROR).wait_for(timeout=WAIT_MS)
    assert page.get_by_label("Model (a Hub ID)").input_value() == "unitary/toxic-bert"
    page.locator("#explain-btn").click()
    page.wait_for_function(
        "() => document.querySelector('#error').textContent.includes('Could not explain')", timeout=WAIT_MS
    )
    assert page.locator(ERROR).count() == 1 and page.locator("[data-testid='toast-body']").count() == 0
    page.close()
