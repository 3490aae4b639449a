"""The app in a real browser (Debian Chromium driven by Playwright), read as a visitor
would (issue 12): what loads first, the caption that says which label the colours explain,
colours whose visibility grows with strength in light and dark mode (contrast measured in
the page), each word's score, the share panel on every path, errors inline, the character
counter, long texts, a phone. Screenshots go to tests/artifacts/ (or EXPLAIN_ARTIFACTS).

Skipped when Playwright or Chromium is missing, unless EXPLAIN_REQUIRE_BROWSER=1 (CI)."""

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit

import pytest
from paths import ROOT
from serve import serving

pytestmark = pytest.mark.browser  # deselect with -m "not browser"
ARTIFACTS = Path(os.environ.get("EXPLAIN_ARTIFACTS", ROOT / "tests" / "artifacts"))
WAIT_MS = 120_000  # two shared cores: model loading can be slow
ERROR = "#error .explain-error"
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


@pytest.fixture(scope="module")
def served(tiny_path):
    """(url, the app module, model typed by the test or None for the app's default, its labels)."""
    os.environ["EXPLAIN_LOCAL_MODELS"] = str(tiny_path("bert"))
    import app

    bundled = Path(app.DEFAULT_MODEL) / "config.json"  # the real default model, once it is built
    model = None if bundled.is_file() else tiny_path("bert").name
    config = json.loads((bundled if model is None else Path(model) / "config.json").read_text())
    labels = tuple(config["id2label"][str(i)] for i in range(len(config["id2label"])))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app.build_demo(), **app.launch_options()) as url:
        yield url, app, model, labels


def read_words(page, which: str = "#words") -> tuple:
    """(the text the pieces spell, [(piece, background colour) of coloured pieces])."""
    tokens = page.locator(f"{which} .textfield .token")
    pieces = tokens.evaluate_all(
        "els => els.map(e => [e.querySelector('.text').textContent, "
        "e.classList.contains('highlighted') ? getComputedStyle(e).backgroundColor : null])"
    )
    return "".join(p for p, _ in pieces), [(p, c) for p, c in pieces if c]


def wait_for_result(page, text: str, which: str = "#words") -> None:
    """Until the words spell ``text`` (and the caption is there) - or the inline error says why not.
    A timeout says what the page showed instead (its toasts: a refused queue join lands there)."""
    try:
        page.wait_for_function(
            "([t, which, error]) => { const w = [...document.querySelectorAll(which + ' .textfield "
            ".token .text')].map(e => e.textContent).join(''); return (w === t && "
            "document.querySelector('#caption [data-explain]')) || !!document.querySelector(error); }",
            arg=[text, which, ERROR],
            timeout=WAIT_MS,
        )
    except Exception as exc:
        toasts = page.locator("[data-testid='toast-body']").all_text_contents()
        caption = page.locator("#caption").text_content() if page.locator("#caption").count() else ""
        raise AssertionError(f"no result for {text[:60]!r}: toasts {toasts}, caption {caption[:200]!r}") from exc
    assert page.locator(ERROR).count() == 0, page.locator(ERROR).first.text_content()
    page.locator("[data-testid='label-output-value']").wait_for(state="attached", timeout=WAIT_MS)


def shown_result(page) -> dict:
    """The explanation the page shows, from its own download (the server's result JSON)."""
    with page.expect_download(timeout=WAIT_MS) as download:
        page.get_by_text("Download the result (JSON)").click()
    return json.loads(Path(download.value.path()).read_text(encoding="utf-8"))


def table_rows(page) -> list:
    """The word table's rows as shown (Gradio's virtual rows), cells as text."""
    return page.locator("#word-table .virtual-row").evaluate_all(
        "rs => rs.map(r => [...r.querySelectorAll('[role=gridcell]')].map(c => c.textContent.trim()))"
    )


def caption_text(page) -> str:
    return " ".join(page.locator("#caption .explain-caption-text").text_content().split())


def effect_text(page) -> str:
    """The caption's second sentence: where the label starts with every word hidden, and where the words take it."""
    return " ".join(page.locator("#caption .explain-effect").text_content().split())


def model_box(page):
    return page.get_by_label("Model (a Hub ID)")


def pick_label(page, name: str) -> None:
    """The one place to pick the label explained: the results' label box."""
    page.locator("#label-switch input").click()
    page.locator("#label-switch [role=option]").filter(has_text=f"{name} (").first.click()


def set_contrast(page, name: str) -> None:
    """Options -> the contrast label (typed, then Enter)."""
    box = page.get_by_label("Why this label rather than... (contrast; empty = none)")
    if not box.is_visible():
        page.get_by_text("Options: contrast, checks, method").click()
    box.fill(name)
    box.press("Enter")


def share_link(page) -> str:
    """The Share / embed panel's link (the panel opened), once it is there."""
    if not page.locator("#share-link").is_visible():
        page.get_by_text("Share / embed").click()
    box = page.locator("#share-link textarea, #share-link input").first
    page.wait_for_function("el => el.value.startsWith('http')", arg=box.element_handle(), timeout=WAIT_MS)
    return box.input_value()


# The contrast (WCAG) of each level of the key against the words panel, and of each word's
# text against its colour, computed in the page from the styles the browser applied.
CONTRAST_JS = """
() => {
  const rgb = (s) => s.match(/[\\d.]+/g).map(Number);
  const lum = ([r, g, b]) => { const f = (c) => { c /= 255; return c <= 0.04045 ? c / 12.92 :
    ((c + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const bgOf = (el) => { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c.slice(0, 3); } return [255, 255, 255]; };
  const panel = bgOf(document.querySelector('#words'));
  const levels = {};
  for (const chip of document.querySelectorAll('#caption .explain-chip')) {
    const level = [...chip.classList].find((c) => c.startsWith('explain-lvl-')).slice(12);
    const s = getComputedStyle(chip);
    levels[level] = {background: rgb(s.backgroundColor).slice(0, 3), panel: ratio(rgb(s.backgroundColor), panel),
                     text: ratio(rgb(s.backgroundColor), rgb(s.color))};
  }
  const words = [...document.querySelectorAll('#words .token.highlighted')].map((t) => {
    const s = getComputedStyle(t);
    return {background: rgb(s.backgroundColor).slice(0, 4), text: ratio(rgb(s.backgroundColor), rgb(s.color))};
  });
  return {panel, levels, words};
}
"""


def check_contrast(page, theme: str) -> dict:
    """Visibility grows with strength on each side; every word is readable on its colour;
    the words wear exactly the key's full-opacity colours. Returns the measurements."""
    got = page.evaluate(CONTRAST_JS)
    levels = got["levels"]
    for side in "ta":
        seen = [levels[f"{side}{k}"]["panel"] for k in (1, 2, 3)]
        assert seen == sorted(seen) and seen[0] < 1.6 and seen[2] > 4.5, (theme, side, seen)
    assert all(v["text"] >= 4.5 for v in levels.values()), levels
    key = {tuple(v["background"]) for v in levels.values()}
    assert got["words"] and all(len(w["background"]) == 3 and tuple(w["background"]) in key for w in got["words"])
    assert all(w["text"] >= 4.5 for w in got["words"])
    print(
        f"\n{theme} (panel rgb{tuple(got['panel'])}): contrast with the panel, weak/medium/strong: toward "
        + ", ".join(f"{levels[f't{k}']['panel']:.2f}" for k in (1, 2, 3))
        + "; against "
        + ", ".join(f"{levels[f'a{k}']['panel']:.2f}" for k in (1, 2, 3))
    )
    return got


def plain_predictions(texts: list) -> list:
    """The bundled model's labels for ``texts`` from a plain transformers forward pass."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = ROOT / "examples" / "minilm-rt-sentiment"
    tok, model = AutoTokenizer.from_pretrained(folder), AutoModelForSequenceClassification.from_pretrained(folder)
    with torch.no_grad():
        return [model.config.id2label[int(model(**tok(t, return_tensors="pt")).logits.argmax())] for t in texts]


def test_first_impression_in_light_and_dark(browser, served):
    """On load: the default example already explained (no click), its caption naming the
    label and the prediction, the explained label marked in the probability panel, the
    default model's card, the examples with their expected label and the wrong ones marked;
    the colours' contrast measured in both themes."""
    from explain.render.caption import caption
    from explain.result import Explanation
    from explain.serving import catalog

    url, app, model, labels = served
    if model:
        pytest.skip("the first impression is the bundled model's")
    for theme in ("light", "dark"):
        page = browser.new_page(viewport=DESKTOP)
        page.goto(url + ("?__theme=dark" if theme == "dark" else ""))
        wait_for_result(page, app.DEFAULT_TEXT)
        result = shown_result(page)
        expl = Explanation.from_dict(result)
        assert result["text"] == app.DEFAULT_TEXT and result["predicted"] == result["target"]
        assert caption_text(page).startswith(caption(expl).plain_sentence()), caption_text(page)
        marked = page.locator("#prediction .explain-target-row dt").text_content().strip()
        assert marked == result["target"]
        check_contrast(page, theme)
        if theme == "light":
            card = page.locator("#model-card").text_content()
            accuracy = catalog.read_card(ROOT / "examples" / "minilm-rt-sentiment")["accuracy"]
            assert "minilm-rt-sentiment" in card and f"accuracy {accuracy}" in card and "negative, positive" in card
            shown = page.locator("#example-texts .explain-example").evaluate_all(
                "els => els.map(e => [e.querySelector('.explain-wrong') !== null, e.textContent])"
            )
            examples = json.loads((ROOT / "examples" / "texts.json").read_text())[: len(shown)]  # the first page
            wrong = {
                e["text"]
                for e, said in zip(examples, plain_predictions([e["text"] for e in examples]))
                if e.get("label") and said != e["label"]
            }
            assert 4 <= len(shown) <= 8  # a page of examples, not a wall of them
            marked_wrong = {text for is_wrong, text in shown if is_wrong}
            assert len(marked_wrong) == len(wrong) and all(any(t[:40] in m for m in marked_wrong) for t in wrong)
            assert all("see why the model gets this wrong" in m for m in marked_wrong)
            # The trust panel starts with one concrete sentence; the jargon is behind the experts' accordion.
            trust = page.locator("#trust").text_content().strip()
            assert trust.startswith("Can I trust this? The word scores add up") and "AOPC" not in trust
            assert not page.locator("#expert .js-plotly-plot, #expert canvas").first.is_visible()
        page.screenshot(path=str(ARTIFACTS / f"browser-{'desktop' if theme == 'light' else 'dark'}.png"), full_page=True)
        page.close()


def test_type_submit_tooltip_table_and_contrast_caption(browser, served):
    """A word's score and rank on hover or tap, the sortable table telling repeated words
    apart, and with a contrast the caption, the key and the static embed all say that blue
    is evidence for the contrast label."""
    url, app, model, labels = served
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    text = "The plot is never dull and the jokes never miss, never."
    page.get_by_label("Text", exact=True).fill(text)
    if model:
        model_box(page).fill(model)
    page.locator("#explain-btn").click()
    wait_for_result(page, text)
    result = shown_result(page)
    spelled, coloured = read_words(page)
    assert spelled == text and coloured

    strongest = max(result["words"], key=lambda w: abs(w["score"]))
    token = page.locator("#words .token.explain-strong").first
    token.hover()
    tip = page.locator("#explain-tip")
    tip.wait_for(state="visible", timeout=5000)
    shown = tip.text_content()
    assert re.search(r"[+\u2212]\d\.\d{3}, rank \d+ of \d+", shown), shown
    if strongest["text"] == token.locator(".text").text_content():
        assert f"rank 1 of {len(result['words'])}" in shown
    page.mouse.move(5, 5)
    token.click()  # a tap shows it too
    tip.wait_for(state="visible", timeout=5000)

    page.get_by_text("Every word's score (sortable table)").click()
    table = page.locator("#word-table")
    table.get_by_text("[never]", exact=False).first.wait_for(timeout=WAIT_MS)
    rows = table_rows(page)
    nevers = [r for r in rows if len(r) > 4 and r[1] == "never"]
    assert len(nevers) == 3 and len({r[4] for r in nevers}) == 3 and len({r[5] for r in nevers}) == 3, rows
    scores = [abs(float(r[2].replace("\u2212", "-"))) for r in rows if len(r) > 2]
    assert scores == sorted(scores, reverse=True)  # strongest first until the visitor sorts
    header = table.locator("th[title='word #']")  # sort by position: the column's menu
    header.hover()
    header.locator("button.cell-menu-button").click(force=True)
    page.locator("button", has_text="Sort ascending").first.click()
    page.wait_for_function(  # the rows redrawn in word order: waited for, not slept on
        "() => { const p = [...document.querySelectorAll('#word-table .virtual-row')].map(r => "
        "Number(r.querySelectorAll('[role=gridcell]')[4]?.textContent)); "
        "return p.length > 1 && p.every((v, i) => i === 0 || p[i - 1] <= v); }",
        timeout=WAIT_MS,
    )
    positions = [int(r[4]) for r in table_rows(page)]
    assert len(positions) == len(rows) and positions == sorted(positions)

    # Target the other label (picked in the results: explained at once), with the predicted one as contrast.
    other = next(name for name in labels if name != result["predicted"])
    pick_label(page, other)
    page.wait_for_function(
        "t => document.querySelector('#caption .explain-caption-text')?.textContent.startsWith('Explaining ' + t)",
        arg=other,
        timeout=WAIT_MS,
    )
    set_contrast(page, result["predicted"])
    page.locator("#explain-btn").click()
    page.wait_for_function(
        "t => document.querySelector('#caption .explain-caption-text')?.textContent.includes('rather than')",
        arg=other,
        timeout=WAIT_MS,
    )
    said = caption_text(page)
    assert said.startswith(
        f"Explaining {other} rather than {result['predicted']} (the model predicts {result['predicted']},"
    ), said
    key = page.locator("#caption .explain-legend").text_content()
    assert f"evidence for {result['predicted']} over {other}" in key
    link = share_link(page)
    preview = page.locator("#share-preview").text_content()
    assert f"blue: evidence for {result['predicted']} over {other}" in preview
    assert parse_qs(urlsplit(link).query)["target"] == [other]
    page.screenshot(path=str(ARTIFACTS / "browser-contrast.png"), full_page=True)
    page.close()


def test_share_panel_follows_every_path_and_errors_stay_inline(browser, served):
    """The link, the static embed and the download are the server's result of the last run:
    after load, after an example click, after the button; cleared by a failure, whose message
    stays at the top of the results (one, inline) with the previous result kept, dimmed."""
    url, app, model, labels = served
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    assert parse_qs(urlsplit(share_link(page)).query)["text"] == [app.DEFAULT_TEXT]

    example = "The film was terrible."
    page.locator("#example-texts .explain-example").filter(has_text=example).first.click()
    wait_for_result(page, example)
    page.wait_for_function(
        "t => document.querySelector('#share-link textarea, #share-link input').value.includes(encodeURIComponent(t))",
        arg=example,
        timeout=WAIT_MS,
    )
    assert parse_qs(urlsplit(share_link(page)).query)["text"] == [example]
    assert page.locator("#share-preview .explain-caption-text, #share-preview div").first.text_content()
    assert shown_result(page)["text"] == example

    bad = "<img src=x onerror=alert(1)> & <b>bold</b>"
    model_box(page).fill(bad)
    page.locator("#explain-btn").click()
    page.locator(ERROR).wait_for(timeout=WAIT_MS)
    page.wait_for_timeout(6000)  # toasts would be gone by now; the inline message stays
    errors = page.locator(ERROR)
    assert errors.count() == 1 and page.locator("[data-testid='toast-body']").count() == 0
    message = errors.text_content()
    assert f"{bad!r} is not a valid Hub model ID" in message and "previous request" in message
    assert page.locator("#error img, #error b").count() == 0  # the visitor's text, as text
    opacity = float(page.locator("#words-area").evaluate("e => getComputedStyle(e).opacity"))
    assert opacity < 0.6 and read_words(page)[0] == example  # kept, dimmed
    assert page.locator("#share-link textarea, #share-link input").first.input_value() == ""
    page.screenshot(path=str(ARTIFACTS / "browser-error.png"), full_page=True)
    page.close()


def test_a_long_paste_is_counted_and_refused_never_cut(browser, served):
    url, app, model, labels = served
    limit = app.SERVICE.limits.max_chars
    page = browser.new_page(viewport=DESKTOP)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    counter = page.locator("#char-count .explain-count")
    assert counter.text_content().startswith(f"{len(app.DEFAULT_TEXT)} / {limit:,} characters")
    long = ("A sentence of a long review. " * (limit // 28 + 2))[: limit + 1]
    page.get_by_label("Text", exact=True).fill(long)
    assert len(page.get_by_label("Text", exact=True).input_value()) == limit + 1  # nothing cut
    page.wait_for_function(
        "n => document.querySelector('#char-count .explain-count').textContent.startsWith(n)",
        arg=f"{limit + 1:,} / {limit:,}",
        timeout=5000,
    )
    assert "1 over this server's limit" in counter.text_content() and "over" in counter.get_attribute("class")
    page.locator("#explain-btn").click()
    page.locator(ERROR).wait_for(timeout=WAIT_MS)
    assert (
        f"The text has {limit + 1:,} characters; this server explains at most {limit:,}."
        in page.locator(ERROR).text_content()
    )
    page.close()


def test_long_text_windows_scroll_box_and_jumps(browser, served, monkeypatch):
    """A text longer than the model reads (real review snippets, about 1,500 tokens for the
    bundled model: several windows): the prediction above the words, the words in a scroll
    box under the caption and its key, each window's start marked, the caption saying how the
    windows combine, and the button that jumps to the next strong word."""
    from dataclasses import replace

    url, app, model, labels = served
    if model:
        pytest.skip("long texts are read on the bundled model")
    monkeypatch.setattr(app.SERVICE, "limits", replace(app.SERVICE.limits, deadline_s=900))  # a busy test box
    data = json.loads((ROOT / "tests" / "support" / "data" / "rt_heldout.json").read_text())["sentences"]
    text = " ".join(d["text"] for d in data) * 2
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{url}?{urlencode({'text': text}, quote_via=quote)}")
    wait_for_result(page, text)
    result = shown_result(page)
    assert len(result["windows"]) > 2
    assert (
        f"read in {len(result['windows'])} overlapping windows, each explained on its own"
        in page.locator("#caption").text_content()
    )
    marks = page.locator("#words .token.explain-window")
    assert marks.count() == len(result["windows"]) - 1
    assert sorted(int(m) for m in marks.evaluate_all("els => els.map(e => e.dataset.window)")) == list(
        range(2, len(result["windows"]) + 1)
    )
    box = page.locator("#words")
    assert box.evaluate("e => e.scrollHeight > e.clientHeight + 50")  # a scroll box, not a wall
    prediction, words_top = page.locator("#prediction").bounding_box(), box.bounding_box()
    assert prediction["y"] + prediction["height"] <= words_top["y"]  # the prediction comes first
    caption = page.locator("#caption").bounding_box()
    assert caption["y"] + caption["height"] <= words_top["y"] + 1
    strong = page.locator("#words .token.explain-top")  # the ten strongest words, strongest first
    assert strong.count() == 10
    jump = page.locator("#explain-jump")
    page.locator("#caption").evaluate("e => e.scrollIntoView({block: 'start'})")  # the words box below it shows
    caption_top = page.locator("#caption").evaluate("e => e.getBoundingClientRect().top")
    for k in (1, 2):
        jump.click()
        assert jump.text_content().startswith(f"Next top word \u2193 ({k} of {strong.count()})")
        assert page.locator("#words .token.explain-jumped").get_attribute("data-rank") == str(k)
        jumped = page.locator("#words .token.explain-jumped")
        assert jumped.count() == 1
        inside = jumped.evaluate(
            "t => { const b = document.querySelector('#words').getBoundingClientRect(); "
            "const r = t.getBoundingClientRect(); return r.top >= b.top && r.bottom <= b.bottom; }"
        )
        assert inside
        # the words' own box scrolls, not the page: the caption stays where it was
        assert page.locator("#caption").evaluate("e => e.getBoundingClientRect().top") == pytest.approx(caption_top, abs=2)
    page.screenshot(path=str(ARTIFACTS / "browser-long.png"), full_page=True)
    page.close()


def test_phone_scrolls_to_the_results_and_shows_examples_below_them(browser, served):
    url, app, model, labels = served
    page = browser.new_page(viewport=PHONE, is_mobile=True, has_touch=True)
    page.goto(url)
    wait_for_result(page, app.DEFAULT_TEXT)
    results, examples = page.locator("#results").bounding_box(), page.locator("#example-texts").bounding_box()
    assert examples["y"] >= results["y"] + results["height"] - 1  # the outputs first, then the examples
    page.screenshot(path=str(ARTIFACTS / "browser-mobile.png"), full_page=True)
    text = "Not bad at all."
    page.get_by_label("Text", exact=True).fill(text)
    page.locator("#explain-btn").tap()
    page.wait_for_function(
        "() => { const r = document.querySelector('#results').getBoundingClientRect(); "
        "return r.top < window.innerHeight / 3 && r.bottom > 0; }",
        timeout=10_000,
    )
    wait_for_result(page, text)
    top = page.locator("#results").evaluate("e => e.getBoundingClientRect().top")
    assert -5 <= top < PHONE["height"] / 3, top
    page.screenshot(path=str(ARTIFACTS / "browser-mobile-result.png"))
    page.close()


def test_deep_link_runs_on_load_in_dark_mode_with_hostile_text(browser, served):
    url, app, model, labels = served
    text = 'Not bad <img src=x onerror=alert(1)> at "all" & </textarea><script>alert(2)</script>'
    target = labels[-1]
    query = {"text": text, "target": target, **({"model": model} if model else {})}
    page = browser.new_page(viewport=DESKTOP)
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}?{urlencode(query, quote_via=quote)}&__theme=dark")
    wait_for_result(page, text)

    assert page.get_by_label("Text", exact=True).input_value() == text
    assert page.locator("#label-switch input").input_value().startswith(f"{target} (")
    assert caption_text(page).startswith(f"Explaining {target}")  # it explained the linked target
    spelled, coloured = read_words(page)
    assert spelled == text and coloured
    assert dialogs == [] and page.locator("img[src='x']").count() == 0
    page.close()


def test_label_names_are_never_links(browser, served, tiny_path, tmp_path, monkeypatch):
    """A checkpoint's label names reach the details and trust panels (Markdown): one that
    looks like a web address must show as text, not as a link Gradio's renderer made."""
    url, _, _, _ = served
    folder = shutil.copytree(tiny_path("bert"), tmp_path / "url-labels")
    names = {"0": "https://evil.example/x", "1": "www.evil.example", "2": "mail@evil.example"}
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(id2label=names, label2id={v: int(k) for k, v in names.items()})
    (folder / "config.json").write_text(json.dumps(cfg))
    monkeypatch.setenv("EXPLAIN_LOCAL_MODELS", os.pathsep.join([os.environ["EXPLAIN_LOCAL_MODELS"], str(folder)]))
    text = "The film was terrible."
    page = browser.new_page(viewport=DESKTOP)
    page.goto(f"{url}?{urlencode({'model': folder.name, 'text': text, 'target': names['0']}, quote_via=quote)}")
    wait_for_result(page, text)
    page.get_by_text("Details for experts").click()
    details = page.locator("#details").text_content()
    assert f"the log-odds of '{names['0']}'" in details, details  # shown, as text
    links = page.locator("a").evaluate_all("els => els.map(e => e.href)")
    assert not [h for h in links if "evil" in h], links
    page.close()
