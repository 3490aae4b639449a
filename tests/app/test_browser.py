"""The app in a real browser (Debian Chromium driven by Playwright): type a text, submit,
read the coloured words and the label, open the share panel, open a deep link with a
hostile text in dark mode; screenshots go to tests/artifacts/ (or EXPLAIN_ARTIFACTS).

Skipped when Playwright or Chromium is missing, unless EXPLAIN_REQUIRE_BROWSER=1 (CI)."""

import json
import os
import re
import shutil
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
from paths import ROOT
from serve import serving

CHROMIUM = os.environ.get("EXPLAIN_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("EXPLAIN_ARTIFACTS", ROOT / "tests" / "artifacts"))
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-dev-shm-usage"]
WAIT_MS = 120_000  # two shared cores: model loading can be slow


def _browser_or_skip():
    why = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        why, sync_playwright = "playwright is not installed (pip install playwright)", None
    if why is None and not Path(CHROMIUM).exists():
        why = f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    if why:
        if os.environ.get("EXPLAIN_REQUIRE_BROWSER") == "1":
            pytest.fail(why)
        pytest.skip(why)
    return sync_playwright


@pytest.fixture(scope="module")
def browser():
    sync_playwright = _browser_or_skip()
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def served(tiny_path):
    """(url, model typed by the test or None for the app's default, its labels)."""
    os.environ["EXPLAIN_LOCAL_MODELS"] = str(tiny_path("bert"))
    import app

    bundled = Path(app.DEFAULT_MODEL) / "config.json"  # the real default model, once it is built
    model = None if bundled.is_file() else str(tiny_path("bert"))
    config = json.loads((bundled if model is None else Path(model) / "config.json").read_text())
    labels = tuple(config["id2label"][str(i)] for i in range(len(config["id2label"])))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app.build_demo(), **app.launch_options()) as url:
        yield url, model, labels


def _expected_colours() -> set:
    from explain.render import categories

    return {"rgba({}, {}, {}, 0.5)".format(*(int(h[i:i + 2], 16) for i in (1, 3, 5))) for h in categories().values()}


def _read_words(page) -> tuple:
    """(the text the pieces spell, [(piece, background colour) of coloured pieces])."""
    tokens = page.locator("#words .textfield .token")
    pieces = tokens.evaluate_all("els => els.map(e => [e.querySelector('.text').textContent, "
                                 "e.classList.contains('highlighted') ? getComputedStyle(e).backgroundColor : null])")
    return "".join(p for p, _ in pieces), [(p, c) for p, c in pieces if c]


def _wait_for_result(page, text: str) -> None:
    """Until the words spell ``text`` - or an error toast says why not."""
    error = "[data-testid='toast-body'].error"
    page.wait_for_function("([t, error]) => { const w = [...document.querySelectorAll('#words .textfield .token "
                           ".text')].map(e => e.textContent).join(''); return w === t || !!document."
                           "querySelector(error); }", arg=[text, error], timeout=WAIT_MS)
    assert page.locator(error).count() == 0, page.locator(error).first.text_content()
    page.locator("[data-testid='label-output-value']").wait_for(timeout=WAIT_MS)


def test_type_submit_read_words_label_and_share(browser, served):
    url, model, labels = served
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(url)
    text = "The plot was dull, but the acting was wonderful."
    page.get_by_label("Text", exact=True).fill(text)
    if model:
        page.get_by_label("Checkpoint (Hub ID)").fill(model)
    page.get_by_role("button", name="Explain", exact=True).click()
    _wait_for_result(page, text)

    spelled, coloured = _read_words(page)
    assert spelled == text  # the untouched text, piece by piece
    assert coloured and {c for _, c in coloured} <= _expected_colours()
    shown_label = page.locator("[data-testid='label-output-value']").text_content().strip()
    assert shown_label in labels
    assert page.get_by_text(f"Predicted: {shown_label}").count() >= 1  # the details panel agrees

    with page.expect_download(timeout=WAIT_MS) as download:  # the result JSON, as shown
        page.get_by_text("Download the result (JSON)").click()
    saved = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
    assert saved["text"] == text and saved["predicted"] == shown_label and saved["schema_version"]

    page.get_by_text("Share / embed").click()
    link_box = page.locator("#share-link textarea, #share-link input").first
    page.wait_for_function("el => el.value.startsWith('http')", arg=link_box.element_handle(), timeout=WAIT_MS)
    link = link_box.input_value()
    assert link.startswith(url) and f"text={quote(text)}" in link
    assert page.locator("#share [style*='pre-wrap']").first.text_content() == text  # static HTML preview
    page.screenshot(path=str(ARTIFACTS / "browser-form.png"), full_page=True)
    page.close()


def test_deep_link_runs_on_load_in_dark_mode_with_hostile_text(browser, served):
    url, model, labels = served
    text = 'Not bad <img src=x onerror=alert(1)> at "all" & </textarea><script>alert(2)</script>'
    target = labels[-1]
    query = {"text": text, "target": target, **({"model": model} if model else {})}
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(f"{url}?{urlencode(query, quote_via=quote)}&__theme=dark")
    _wait_for_result(page, text)

    assert page.get_by_label("Text", exact=True).input_value() == text
    assert page.get_by_label("Explain which label (empty = the predicted one)").input_value() == target
    assert page.get_by_text(f"the logit of '{target}'").count() >= 1  # it explained the linked target
    spelled, coloured = _read_words(page)
    assert spelled == text and coloured
    assert dialogs == [] and page.locator("img[src='x']").count() == 0
    # Dark mode: coloured words are drawn in white on the half-opaque shades.
    colour = page.locator("#words .token.highlighted").first.evaluate("e => getComputedStyle(e).color")
    assert re.sub(r"\s", "", colour) == "rgb(255,255,255)"
    page.screenshot(path=str(ARTIFACTS / "browser-deeplink-dark.png"), full_page=True)
    page.close()


def test_label_names_are_never_links(browser, served, tiny_path, tmp_path, monkeypatch):
    """A checkpoint's label names reach the details and trust panels (Markdown): one that
    looks like a web address must show as text, not as a link Gradio's renderer made."""
    url, _, _ = served
    folder = shutil.copytree(tiny_path("bert"), tmp_path / "url-labels")
    names = {"0": "https://evil.example/x", "1": "www.evil.example", "2": "mail@evil.example"}
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(id2label=names, label2id={v: int(k) for k, v in names.items()})
    (folder / "config.json").write_text(json.dumps(cfg))
    monkeypatch.setenv("EXPLAIN_LOCAL_MODELS", os.pathsep.join([os.environ["EXPLAIN_LOCAL_MODELS"], str(folder)]))
    text = "The film was terrible."
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    page.goto(f"{url}?{urlencode({'model': str(folder), 'text': text, 'target': names['0']}, quote_via=quote)}")
    _wait_for_result(page, text)
    assert page.get_by_text(f"the logit of '{names['0']}'").count() >= 1  # shown, as text
    links = page.locator("a").evaluate_all("els => els.map(e => e.href)")
    assert not [h for h in links if "evil" in h], links
    page.close()


def test_error_toast_shows_the_message_as_text(browser, served):
    """The page gets messages HTML-escaped exactly once: the visitor reads their own input
    back as typed, and no markup in it becomes an element."""
    url, _, _ = served
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(url)
    bad = "<img src=x onerror=alert(1)> & <b>bold</b>"
    page.get_by_label("Checkpoint (Hub ID)").fill(bad)
    page.get_by_role("button", name="Explain", exact=True).click()
    toast = page.locator("[data-testid='toast-text'].error").filter(has_text="is not a valid Hub model ID")
    toast.wait_for(state="attached", timeout=WAIT_MS)  # stacked toasts may be collapsed, not "visible"
    shown = toast.text_content()
    assert f"{bad!r} is not a valid Hub model ID" in shown, shown
    assert "&lt;" not in shown and "&amp;" not in shown
    assert page.locator("img[src='x']").count() == 0 and page.locator("[data-testid='toast-body'] b").count() == 0
    assert dialogs == []
    page.close()
