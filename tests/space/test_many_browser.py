"""The "Many texts" tab in a real browser (Debian Chromium driven by Playwright; issue 25),
on the real held-out snippets the repository ships and the bundled model: the limits
shown before upload, the cost before it starts, a finished report (accuracy against a
plain forward pass, confusion, words per label, example rows, the card's Markdown and the
downloads), an example row opened in the One text tab, the stop button keeping what
finished, files over the limits refused with what the limits are, and hostile file names
and rows shown as text, and no serious axe-core finding in light, dark or on a phone.
Screenshots go to tests/artifacts/ (many-*.png).

Skipped when Playwright or Chromium is missing, unless EXPLAIN_REQUIRE_BROWSER=1 (CI)."""

import csv
import io
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from browsing import axe_serious
from paths import ARTIFACTS, ROOT
from serve import serving
from test_many_api import plain_accuracy

pytestmark = pytest.mark.browser
WAIT_MS = 300_000  # two shared cores: 60 texts can take a while
SNIPPETS = ROOT / "examples" / "snippets.csv"


@pytest.fixture(scope="module")
def served(app_module):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serving(app_module.build_demo(), **app_module.launch_options()) as url:
        yield url, app_module


def open_tab(browser, url):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    page.get_by_role("tab", name="Many texts").click()
    page.locator("#many-limits").wait_for(timeout=WAIT_MS)
    return page


def upload(page, path) -> None:
    page.locator("#many-file input[type=file]").set_input_files(str(path))


def status(page) -> str:
    return " ".join(page.locator("#many-status").text_content().split())


def error(page) -> str:
    """The inline error (its panel only: the element also holds Gradio's progress timer)."""
    found = page.locator("#many-error .explain-error")
    return " ".join(found.first.text_content().split()) if found.count() else ""


def toasts(page) -> str:
    return " | ".join(" ".join(t.split()) for t in page.locator(".toast-body").all_text_contents())


def wait_error(page) -> str:
    """Until the inline error shows (or a toast says why it cannot); returns the error."""
    page.wait_for_function(
        "() => !!document.querySelector('#many-error .explain-error') || !!document.querySelector('.toast-body')",
        timeout=WAIT_MS,
    )
    assert error(page), toasts(page)
    return error(page)


def wait_status(page, *parts: str) -> str:
    """Until the status says one of ``parts`` - or the inline error says why not."""
    page.wait_for_function(
        "([parts]) => { const s = document.querySelector('#many-status').textContent; "
        "return parts.some(p => s.includes(p)) || "
        "!!document.querySelector('#many-error .explain-error') || "
        "!!document.querySelector('.toast-body'); }",
        arg=[list(parts)],
        timeout=WAIT_MS,
    )
    assert not error(page) and not toasts(page), error(page) or toasts(page)
    return status(page)


def test_a_report_on_the_shipped_snippets(browser, served):
    url, app = served
    page = open_tab(browser, url)
    limits = " ".join(page.locator("#many-limits").text_content().split())
    assert limits.startswith("This server explains files of up to 500 rows and 256 KB"), limits
    upload(page, SNIPPETS)
    said = wait_status(page, "to explain")
    assert said.startswith("snippets.csv: 60 rows, 60 to explain (1,575 tokens) on minilm-rt-sentiment: about ")
    assert said.endswith("s of model time on this server; labels from the column 'label'.")
    page.locator("#many-run").click()
    assert wait_status(page, "Done:", "Stopped:") == "Done: 60 of 60 rows explained."
    report = " ".join(page.locator("#many-report").text_content().split())
    correct, rows = plain_accuracy()
    assert f"Accuracy {correct / rows:.0%} ({correct} of {rows} rows; labels from the column label" in report
    cells = page.locator("#many-report table").nth(1).locator("td").all_text_contents()
    assert cells[0] == "negative" and cells[3] == "positive" and sum(int(c) for c in cells if c.isdigit()) == 60
    for text in ("Words that most often drive the wrong answers", "Pushes toward negative", "Pushes against positive"):
        assert text in report, text
    examples = page.locator("#many-examples .explain-example")
    assert examples.count() == 6  # three per label
    assert examples.nth(0).locator(".explain-lvl-t3, .explain-lvl-t2").count() > 0  # coloured words
    markdown = page.locator("#many-markdown textarea").input_value()
    assert "What drives each label" in markdown and "| Model | minilm" in markdown
    names = page.locator("#many-files a").evaluate_all("els => els.map(e => e.getAttribute('download'))")
    assert sorted(names) == ["report.html", "report.md", "report.svg", "rows.csv", "rows.jsonl"], names
    with page.expect_download(timeout=WAIT_MS) as got:
        page.locator("#many-files a[download='report.md']").click()
    assert Path(got.value.path()).read_text(encoding="utf-8").startswith("## What drives each label")
    page.screenshot(path=str(ARTIFACTS / "many-report.png"), full_page=True)
    # An example row opens in the One text tab and is explained there.
    first = examples.nth(0)
    shown = " ".join(first.locator(".explain-mark").first.text_content().split())
    row = int(shown.split(":")[0].split()[1])
    text = list(csv.DictReader(io.StringIO(SNIPPETS.read_text(encoding="utf-8"))))[row - 1]["text"]
    first.click()
    page.locator("#text textarea").wait_for(state="visible", timeout=WAIT_MS)
    assert page.locator("#text textarea").input_value() == text
    page.wait_for_function(
        "t => [...document.querySelectorAll('#words .textfield .token .text')].map(e => e.textContent).join('') === t",
        arg=text,
        timeout=WAIT_MS,
    )
    page.close()


@pytest.mark.parametrize("view", ["light", "dark", "phone"])
def test_axe_finds_no_serious_violation_with_a_report_shown(browser, served, tmp_path, view):
    """axe-core on the tab with a finished report (accuracy, confusion, words per label,
    example rows, the Markdown and the downloads): light, dark and a 390 px phone."""
    url, _ = served
    rows = list(csv.DictReader(io.StringIO(SNIPPETS.read_text(encoding="utf-8"))))
    few = tmp_path / "few.csv"
    with few.open("w", encoding="utf-8", newline="") as f:
        out = csv.DictWriter(f, fieldnames=list(rows[0]))
        out.writeheader()
        out.writerows(rows[:4] + rows[-4:])  # both labels
    phone = view == "phone"
    page = browser.new_page(
        viewport={"width": 390, "height": 844} if phone else {"width": 1280, "height": 900},
        is_mobile=phone,
        has_touch=phone,
    )
    page.goto(url + ("?__theme=dark" if view == "dark" else ""))
    page.get_by_role("tab", name="Many texts").click()
    page.locator("#many-limits").wait_for(timeout=WAIT_MS)
    upload(page, few)
    wait_status(page, "to explain")
    page.locator("#many-run").click()
    assert wait_status(page, "Done:", "Stopped:") == "Done: 8 of 8 rows explained."
    found = axe_serious(page)
    print(f"\naxe (Many texts, {view}, a report shown): {len(found)} serious or critical rule(s) {found}")
    page.screenshot(path=str(ARTIFACTS / f"many-report-{view}.png"), full_page=True)
    page.close()
    assert found == []


def test_stop_keeps_what_finished(browser, served, monkeypatch):
    """The run is held after its first chunk (other visitors' explanations "waiting"), the
    visitor presses stop: the report covers exactly that chunk. Ordered by events, not time."""
    import space.many
    from explain.serving import dataset

    url, _ = served
    monkeypatch.setattr(dataset, "MAX_CHUNK", 8)
    monkeypatch.setattr(dataset, "CHUNK_S", 1e9)
    monkeypatch.setattr(dataset, "GIVE_WAY_S", 3600.0)
    parked = threading.Event()

    def probe(request, group):
        looks = []

        def busy():
            looks.append(1)
            if len(looks) > 1:
                parked.set()
                return True  # from the second chunk on, someone is always waiting
            return False

        return busy

    monkeypatch.setattr(space.many, "group_busy", probe)
    page = open_tab(browser, url)
    upload(page, SNIPPETS)
    wait_status(page, "to explain")
    page.locator("#many-run").click()
    assert parked.wait(WAIT_MS / 1000), "the run never reached its second chunk"
    page.locator("#many-stop").click()
    said = wait_status(page, "Stopped:", "Done:")
    assert said == "Stopped: stopped by the visitor after 8 of 60 texts.", said
    report = " ".join(page.locator("#many-report").text_content().split())
    assert "snippets.csv: 60 rows, 8 explained" in report and "stopped by the visitor after 8 of 60 texts" in report
    assert " of 8 rows; labels from the column label" in report  # the accuracy of the finished rows
    page.screenshot(path=str(ARTIFACTS / "many-stopped.png"), full_page=True)
    page.close()


def test_files_over_the_limits_and_hostile_files(browser, served, monkeypatch, tmp_path):
    url, app = served
    page = open_tab(browser, url)
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "A long and winding film that goes nowhere at all,negative\n" * 6000)
    upload(page, big)
    toast = page.locator(".toast-body").first
    toast.wait_for(timeout=WAIT_MS)
    said = " ".join(toast.text_content().split())
    assert 'File(s) exceed the maximum allowed size of 256.0 Kb: "big.csv"' in said, said
    print(f"\nA too-large file in the browser: {said}")
    page.screenshot(path=str(ARTIFACTS / "many-too-large.png"))
    page.close()
    # More rows than the server takes: said at upload, before anything runs.
    monkeypatch.setattr(app.SERVICE, "limits", replace(app.SERVICE.limits, report_max_rows=10))
    page = open_tab(browser, url)
    upload(page, SNIPPETS)
    assert wait_error(page).startswith(
        "This file cannot be explained here. snippets.csv has more than 10 rows; this "
        "server explains at most 10 per report. Upload its first 10 rows"
    ), error(page)
    page.close()
    monkeypatch.undo()
    # A hostile file name and hostile rows are text, never markup.
    hostile = tmp_path / "<img src=x onerror=alert(1)>.csv"
    with hostile.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(
            [
                ["<script>document.title='pwned'</script> a great film", "<b>positive</b>"],
                ['=HYPERLINK("http://x.example") a dull film', "negative"],
                ["<img src=y onerror=alert(2)> a moving film", "positive"],
            ]
        )
    page = open_tab(browser, url)
    upload(page, hostile)
    # (Gradio drops < and > from an uploaded file's name; the rest of it is shown as text.)
    assert wait_status(page, "to explain").startswith("img src=x onerror=alert(1).csv: 3 rows")
    page.locator("#many-run").click()
    wait_status(page, "Done:")
    assert page.locator("#many-results img, #many-results script, #many-form img, #many-status img").count() == 0
    assert page.title() != "pwned"
    report = page.locator("#many-report").text_content()
    assert "img src=x onerror=alert(1).csv" in report and "<b>positive</b>" in report
    page.close()
