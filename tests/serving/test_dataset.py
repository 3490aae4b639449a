"""Many texts on a public server (explain.serving.dataset, issue 25), on the real held-out
snippets the repository ships (examples/snippets.csv) and the bundled model: the file's
limits enforced before it is read or fully parsed, the cost refused up front, chunks that
give way to other visitors, a stop that keeps what finished, the report equal to the
command line's, accuracy and confusion, files in private random folders, and every
output inert against formula injection and HTML."""

import csv
import io
import json
import os
import stat
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from paths import ROOT

from explain.errors import InvalidInput, ServerBusy
from explain.serving import ServeLimits, Service
from explain.serving import dataset as ds
from explain.serving.folders import FolderPolicy

SNIPPETS = ROOT / "examples" / "snippets.csv"
FORMULA = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def reports(default_model_path, tmp_path_factory):
    """The report service on the bundled model (the default; no other folder allowed)."""
    service = Service(FolderPolicy(str(default_model_path), {}), ServeLimits())
    return ds.ReportService(
        service, ds.Folders(keep=8, parent=tmp_path_factory.mktemp("reports")), today=lambda: "2026-01-02"
    )


def first_rows(n: int, tmp_path: Path) -> Path:
    """The first ``n`` snippets as a CSV of their own."""
    lines = SNIPPETS.read_text(encoding="utf-8").splitlines(keepends=True)
    out = tmp_path / f"first{n}.csv"
    out.write_text("".join(lines[: n + 1]), encoding="utf-8")
    return out


def test_the_snippets_file_is_the_held_out_selection_it_says():
    import importlib.util

    spec = importlib.util.spec_from_file_location("make_snippets", ROOT / "examples" / "make_snippets.py")
    make = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make)
    assert SNIPPETS.read_text(encoding="utf-8") == make.snippets_csv()
    rows = list(csv.DictReader(io.StringIO(SNIPPETS.read_text(encoding="utf-8"))))
    held = {d["text"]: d["label"] for d in json.loads(make.SOURCE.read_text())["sentences"]}
    assert len(rows) == 60 and sum(r["label"] == "positive" for r in rows) == 30
    assert all(held[r["text"]] == r["label"] for r in rows)


def test_limits_come_from_the_environment_and_are_said_before_upload():
    limits = ServeLimits.from_env(
        {"EXPLAIN_REPORT_MAX_ROWS": "7", "EXPLAIN_REPORT_MAX_BYTES": "900000", "EXPLAIN_REPORT_DEADLINE_S": "30"}
    )
    assert (limits.report_max_rows, limits.report_max_bytes, limits.report_deadline_s) == (7, 900_000, 30.0)
    assert limits.max_body_bytes >= 900_000 + 64 * 1024  # the upload itself is not cut by the body limit
    line = ds.limits_line(limits)
    assert "up to 7 rows and 879 KB" in line and "30 s of model time" in line
    assert ServeLimits().report_max_rows == 500 and ServeLimits().report_max_bytes == 256 * 1024


def test_a_file_over_the_size_limit_is_refused_before_a_byte_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "a fine film,positive\n" * 100, encoding="utf-8")
    limits = ServeLimits(report_max_bytes=1000)

    def no_reading(*args, **kwargs):
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    monkeypatch.setattr(Path, "read_bytes", no_reading)
    with pytest.raises(InvalidInput) as refused:
        ds.read_upload(limits, str(big))
    message = str(refused.value)
    assert message.startswith("big.csv is 2,111 bytes (2 KB); this server reads files of up to 1,000 bytes")
    assert "Upload a part of it (its first rows), or run the command line on your own machine" in message
    with pytest.raises(InvalidInput, match="pasted texts is 1,001 bytes"):
        ds.read_upload(limits, None, "x" * 1001)


def test_parsing_stops_at_the_row_limit(tmp_path, monkeypatch):
    lines = tmp_path / "rows.jsonl"
    lines.write_text("".join(json.dumps({"text": f"text {k}", "label": "positive"}) + "\n" for k in range(50)))
    parsed = []
    real = json.loads
    monkeypatch.setattr(ds.json, "loads", lambda s, *a, **k: parsed.append(s) or real(s, *a, **k))
    with pytest.raises(
        InvalidInput,
        match=r"rows\.jsonl has more than 3 rows; this server explains at most 3 per "
        r"report\.",
    ) as refused:
        ds.read_upload(ServeLimits(report_max_rows=3), str(lines))
    assert len(parsed) == 3  # the fourth row ended it; the other 46 were never parsed
    assert "Upload its first 3 rows" in str(refused.value)


def test_columns_labels_and_formats(tmp_path):
    limits = ServeLimits()
    up = ds.read_upload(limits, str(SNIPPETS))
    assert (up.name, up.fmt, len(up.rows), up.label_column) == ("snippets.csv", "csv", 60, "label")
    assert up.given[:2] == ("negative", "positive")
    tsv = tmp_path / "t.tsv"
    tsv.write_text("review\tgold\nA moving film.\tpositive\n\nDull.\tnegative\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match=r"t\.tsv has no 'text' column \(its columns: 'review', 'gold'\)"):
        ds.read_upload(limits, str(tsv))
    with pytest.raises(InvalidInput, match="has no 'stars' column"):
        ds.read_upload(limits, str(tsv), text_column="review", label_column="stars")
    plain = ds.read_upload(limits, str(tsv), text_column="review")  # the default "label" may be missing
    assert plain.label_column == "" and [r.text for r in plain.rows] == ["A moving film.", "Dull."]
    gold = ds.read_upload(limits, str(tsv), text_column="review", label_column="gold")
    assert gold.given == ("positive", "negative") and gold.label_column == "gold"
    jl = tmp_path / "t.jsonl"
    jl.write_text('{"text": "Great.", "label": 1}\n"Just a string."\n{"nope": 1}\n', encoding="utf-8")
    up = ds.read_upload(limits, str(jl))
    assert up.given == ("1", None, None) and up.rows[2].problem == "Line 3 has no 'text' string field."
    pasted = ds.read_upload(limits, None, "First text.\n\n  \nSecond text.\r\n")
    assert [r.text for r in pasted.rows] == ["First text.", "Second text."] and pasted.label_column == ""
    with pytest.raises(InvalidInput, match="no file and no pasted text"):
        ds.read_upload(limits, None, "")
    with pytest.raises(InvalidInput, match=r"Cannot tell the format of 'data\.xlsx'"):
        ds.read_upload(limits, str(tmp_path / "data.xlsx"))


def test_the_files_labels_are_matched_by_name_case_or_number():
    labels = ["negative", "positive"]
    assert ds.match_labels({"negative", "positive"}, labels) == ({"negative": "negative", "positive": "positive"}, "by name")
    assert ds.match_labels({"NEGATIVE", "Positive"}, labels)[0] == {"NEGATIVE": "negative", "Positive": "positive"}
    mapping, how = ds.match_labels({"0", "1"}, labels)
    assert mapping == {"0": "negative", "1": "positive"} and how == "as label numbers: 0 = negative, 1 = positive"
    assert ds.match_labels({"good", "bad"}, labels) == ({}, "")


def test_a_report_that_cannot_finish_in_time_is_refused_before_it_starts(reports):
    slow = replace(reports, service=replace(reports.service, limits=ServeLimits(report_deadline_s=0.5)))
    up = slow.read(str(SNIPPETS))
    with pytest.raises(ServerBusy) as refused:
        slow.estimate(up)
    message = str(refused.value)
    assert (
        message.startswith("This report would take about ")
        and "(60 texts, 1,575 tokens); a report may run for 0.5 s." in message
    )
    assert "Upload its first " in message and "or run the command line" in message
    line = reports.estimate(up)
    assert line.startswith("snippets.csv: 60 rows, 60 to explain (1,575 tokens) on minilm-rt-sentiment: about ")


def test_the_report_is_the_command_lines_with_accuracy_and_private_files(reports, tmp_path, default_model_path):
    from explain import api
    from explain.corpus import dataset_report, explain_file

    path = first_rows(16, tmp_path)
    up = reports.read(str(path))
    done = reports.run(up, "", min_texts=2)
    # The same rows through the command line's engine and report (explained afresh, not from
    # the result cache): the same words and numbers.
    api.RESULTS.clear()
    explain_file(path, tmp_path / "cli.jsonl", str(default_model_path), progress=False)
    cli = dataset_report(tmp_path / "cli.jsonl", min_texts=2, top_k=10)
    assert [lab.label for lab in done.report.labels] == [lab.label for lab in cli.labels]
    for ours, theirs in zip(done.report.labels, cli.labels):
        assert [(w.word, w.texts, w.count) for w in ours.toward] == [(w.word, w.texts, w.count) for w in theirs.toward]
        assert [w.mean for w in ours.against] == pytest.approx([w.mean for w in theirs.against], abs=1e-4)
    ev = done.evaluation
    gold = [r["label"] for r in csv.DictReader(io.StringIO(path.read_text()))]
    predicted = [json.loads(line)["result"]["predicted"] for line in (tmp_path / "cli.jsonl").read_text().splitlines()]
    assert ev.matched == 16 and ev.correct == sum(g == p for g, p in zip(gold, predicted))
    assert sum(n for _, _, n in ev.confusion) == 16 and ev.how == "by name"
    wrong = [(g, p) for g, p in zip(gold, predicted) if g != p]
    assert {(w.given, w.predicted) for w in ev.wrong_words} == set(wrong)
    # The card states model, revision, data size, method and date.
    md = done.markdown
    assert md.startswith("## What drives each label\\: minilm\\-rt\\-sentiment on first16\\.csv\n")
    for fact in (
        "| Model | minilm\\-rt\\-sentiment |",
        "| Revision | a folder on this server; weights sha256 ",
        "| Data | first16\\.csv\\: 16 rows, 16 explained |",
        "| Method | layer integrated gradients",
        "| Date | 2026\\-01\\-02 |",
        "### Accuracy and confusion",
        "### What drives each label",
    ):
        assert fact in md, fact
    # Files: one folder per run, random name, private, under the service's own folder.
    files = done.files
    assert sorted(p.name for p in files.values()) == ["report.html", "report.md", "report.svg", "rows.csv", "rows.jsonl"]
    folder = files["md"].parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700 and folder.parent == reports.folders.root
    assert files["md"].read_text() == md
    records = [json.loads(line) for line in files["jsonl"].read_text().splitlines()]
    assert len(records) == 16 and all(r["ok"] for r in records)
    assert str(default_model_path) not in files["jsonl"].read_text()  # the server's path is never written
    assert {r["result"]["checkpoint"]["source"] for r in records} == {"minilm-rt-sentiment"}
    again = reports.run(up, "", min_texts=2)
    assert again.files["md"].parent != folder and again.markdown == md  # identical numbers, a new folder


@pytest.fixture
def chunks_of_four(monkeypatch):
    """Chunks of 4 rows whatever this machine's measured speed (the estimate's chunk size is not tested here)."""
    monkeypatch.setattr(ds, "MAX_CHUNK", 4)
    monkeypatch.setattr(ds, "CHUNK_S", 1e9)


def test_stop_keeps_the_finished_rows(reports, tmp_path, chunks_of_four):
    up = reports.read(str(first_rows(12, tmp_path)))
    stop = threading.Event()
    said = []

    def progress(fraction, what):
        said.append(what)
        if what.startswith("Explained 4 of 12"):
            stop.set()  # the visitor presses stop while the second chunk waits its turn

    done = reports.run(up, "", n_steps=8, progress=progress, stop=stop)
    assert done.report.explained == 4 and done.facts.stopped == "stopped by the visitor after 4 of 12 texts"
    assert "| Stopped early | stopped by the visitor after 4 of 12 texts |" in done.markdown
    rows = list(csv.DictReader(io.StringIO(done.files["csv"].read_text())))
    assert len(rows) == 12 and sum(bool(r["predicted"]) for r in rows) == 4
    assert {r["error"] for r in rows[4:]} == {"not explained (the run stopped before this row)"}
    assert len(done.files["jsonl"].read_text().splitlines()) == 4
    assert any("about" in s and "s left" in s for s in said)


def test_each_chunk_gives_way_to_waiting_visitors(reports, tmp_path, monkeypatch, chunks_of_four):
    monkeypatch.setattr(ds.time, "sleep", lambda s: None)
    up = reports.read(str(first_rows(8, tmp_path)))
    asked = []
    busy_answers = iter([False, True, True, True])  # before chunk 1: free; before chunk 2: three visitors first

    def busy():
        asked.append(len(asked))
        return next(busy_answers, False)

    said = []
    done = reports.run(up, "", n_steps=8, give_way=busy, progress=lambda f, w: said.append(w))
    assert done.report.explained == 8 and len(asked) == 1 + 4  # one look before chunk 1, four before chunk 2
    assert said.count("Letting other visitors' explanations go first...") == 1
    # A stop while giving way ends the run there, with the first chunk kept.
    stop = threading.Event()
    looks = []

    def busy_until_stopped():
        looks.append(1)
        if len(looks) == 3:
            stop.set()  # pressed while the second chunk waits for other visitors
        return len(looks) > 1

    done = reports.run(up, "", n_steps=8, give_way=busy_until_stopped, stop=stop)
    assert done.report.explained == 4 and done.facts.stopped.startswith("stopped by the visitor after 4 of 8")


def test_every_output_is_inert_against_formulas_and_html(reports, tmp_path):
    hostile = [
        '=HYPERLINK("http://x.example","click") a great film',
        "<script>alert(1)</script> a dull film",
        "+cmd|' /C calc'!A0 what a bad film",
        "@SUM(1+1) a moving film",
        "-2+3 a boring film",
        "\tA tab first, then a fine film",
        "<img src=x onerror=alert(1)> a lovely film",
    ]
    path = tmp_path / "hostile.csv"
    with path.open("w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for k, text in enumerate(hostile):
            w.writerow([text, ["=1+1", "positive", "<b>negative</b>", "-1"][k % 4]])
    done = reports.run(reports.read(str(path)), "", n_steps=8, min_texts=1)
    cells = list(csv.reader(io.StringIO(done.files["csv"].read_text(encoding="utf-8"))))
    assert len(cells) == 1 + len(hostile)
    assert not [c for row in cells for c in row if c.startswith(FORMULA)]
    assert {row[1] for row in cells[1:]} >= {
        '\'=HYPERLINK("http://x.example","click") a great film',
        "'@SUM(1+1) a moving film",
        "'\tA tab first, then a fine film",
    }
    from explain.render import dataset as card

    page = card.page_html(done.facts, done.report, done.evaluation)
    examples = "".join(card.example_html(x) for x in done.examples)
    for html in (done.files["html"].read_text(), page, examples, done.files["svg"].read_text()):
        assert "<script" not in html and "<img" not in html and "<b>negative" not in html
    assert "&lt;script&gt;" in done.files["html"].read_text() and "&lt;b&gt;negative&lt;/b&gt;" in page
    md = done.markdown
    assert "<script" not in md and "<img" not in md and "<b>" not in md
    # The labels in the file that the model does not have are named, safely, and no accuracy is invented.
    assert done.evaluation.unknown and done.evaluation.matched == sum(n for _, _, n in done.evaluation.confusion)


def test_report_folders_are_random_private_and_bounded(tmp_path):
    folders = ds.Folders(keep=2, parent=tmp_path)
    made = [folders.new() for _ in range(3)]
    assert len({p.name for p in made}) == 3 and not made[0].exists() and made[1].is_dir() and made[2].is_dir()
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o700 for p in made[1:])
    assert stat.S_IMODE(folders.root.stat().st_mode) == 0o700 and folders.root.parent == tmp_path
    assert sorted(os.listdir(folders.root)) == sorted(p.name for p in made[1:])


def test_the_packed_rate_is_learnt_from_chunks_without_compounding():
    """Each chunk's measured over estimated time scales the rate its estimate used; the first
    chunk (warm-up) and chunks served from the cache are not used; the fastest counts."""
    from types import SimpleNamespace

    fresh = SimpleNamespace(cache="miss")  # what the learning reads of an Explanation
    clf = SimpleNamespace(memo={})
    for seconds in (9.0, 3.0, 2.0, 4.0):  # chunks estimated at 1 s each with a rate of 0.01
        ds._learn(clf, [fresh], seconds, 1.0, 0.01)
    assert clf.memo[ds.RATE_KEY] == pytest.approx(0.02)  # 0.01 x 2 s / 1 s: the fastest, the first one skipped
    ds._learn(clf, [SimpleNamespace(cache="hit")], 0.001, 1.0, 0.01)
    ds._learn(clf, [fresh, InvalidInput("no", "fix")], 0.001, 1.0, 0.01)  # a failed row: not a clean timing
    assert clf.memo[ds.RATE_KEY] == pytest.approx(0.02)


def test_stop_reaches_every_report_of_the_session():
    """Run pressed twice (the second waits behind the first), then Stop: both stop - the
    running one after its chunk, the waiting one as it starts. Each run takes its own flag,
    in the order the presses came; a finished run's flag is gone."""
    sessions = ds.Sessions(ServeLimits())
    assert sessions.stop("tab") is False
    sessions.start("tab")  # first press
    running = sessions.current("tab")  # the first run starts
    sessions.start("tab")  # second press, while it runs
    assert sessions.stop("tab") is True
    waiting = sessions.current("tab")
    assert running is not waiting and running.is_set() and waiting.is_set()
    sessions.done("tab", running, None)
    sessions.done("tab", waiting, None)
    assert sessions.stop("tab") is False and "tab" not in sessions.stops
    # An API call without a press gets a fresh flag of its own; another session is untouched.
    api = sessions.current("api")
    other = sessions.current("other")
    assert sessions.stop("api") and api.is_set() and not other.is_set()
