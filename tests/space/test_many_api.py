"""The /report endpoint (issue 25) over gradio_client on loopback, on the real held-out
snippets the repository ships: the documented snippet runs as written, the answer's JSON
and files agree with each other and with a plain forward pass, and a file over the limits
gets a message that says the limit and what to do."""

import csv
import io
import json
import re
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from paths import ROOT
from serve import serving

DOC = ROOT / "docs" / "dataset-tab.md"
SNIPPETS = ROOT / "examples" / "snippets.csv"


@pytest.fixture(scope="module")
def served(app_module):
    with serving(app_module.build_demo(), **app_module.launch_options()) as url:
        yield url, app_module


def plain_accuracy() -> tuple:
    """(correct, rows) of the bundled model on the snippets, from a plain transformers forward pass."""
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    folder = ROOT / "examples" / "minilm-rt-sentiment"
    tok, model = AutoTokenizer.from_pretrained(folder), AutoModelForSequenceClassification.from_pretrained(folder)
    rows = list(csv.DictReader(io.StringIO(SNIPPETS.read_text(encoding="utf-8"))))
    with torch.no_grad():
        said = [model.config.id2label[int(model(**tok(r["text"], return_tensors="pt")).logits.argmax())] for r in rows]
    return sum(s == r["label"] for s, r in zip(said, rows)), len(rows)


def test_the_endpoint_is_named_and_documented(served):
    _, app = served
    info = app.demo.get_api_info()["named_endpoints"]["/report"]
    assert [p["parameter_name"] for p in info["parameters"]] == [
        "file",
        "texts",
        "model",
        "text_column",
        "label_column",
        "n_steps",
        "min_texts",
    ]
    assert [r["label"] for r in info["returns"]] == ["report", "files"]
    assert "model-card section" in info["description"]


def test_the_documented_snippet_runs(served, default_model_path):
    url, _ = served
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    code = code.replace("http://127.0.0.1:7860/", url)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    lines = [line for line in out.stdout.splitlines() if not line.startswith("Loaded as API")]
    correct, rows = plain_accuracy()
    assert lines[0] == "minilm-rt-sentiment on snippets.csv: 60 of 60 rows explained"
    assert lines[1] == f"accuracy {correct / rows:.1%}"
    assert lines[2].startswith("negative <- ") and lines[3].startswith("positive <- ")
    assert lines[4] == str(["report.html", "report.md", "report.svg", "rows.csv", "rows.jsonl"])


def test_the_answer_and_its_files_agree(served):
    from gradio_client import Client, handle_file

    url, _ = served
    client = Client(url, verbose=False)
    report, files = client.predict(handle_file(str(SNIPPETS)), "", "", "text", "label", 0, 3, api_name="/report")
    by_name = {Path(f).name: Path(f) for f in files}
    assert by_name["report.md"].read_text(encoding="utf-8") == report["markdown"]
    records = [json.loads(line) for line in by_name["rows.jsonl"].read_text(encoding="utf-8").splitlines()]
    assert len(records) == 60 and all(r["ok"] for r in records)
    ev = report["evaluation"]
    predicted = [r["result"]["predicted"] for r in records]
    gold = [r["label"] for r in csv.DictReader(io.StringIO(SNIPPETS.read_text(encoding="utf-8")))]
    assert ev["correct"] == sum(p == g for p, g in zip(predicted, gold)) and ev["matched"] == 60
    assert ev["accuracy"] == pytest.approx(ev["correct"] / 60)
    assert sorted(map(tuple, ev["confusion"])) == sorted(
        (g, p, sum(1 for a, b in zip(gold, predicted) if (a, b) == (g, p))) for g, p in set(zip(gold, predicted))
    )
    labels = {lab["label"]: lab for lab in report["report"]["labels"]}
    assert set(labels) == {"negative", "positive"} and all(lab["toward"] and lab["against"] for lab in labels.values())
    assert sum(lab["texts"] for lab in labels.values()) == 60
    facts = report["facts"]
    assert (facts["model"], facts["data"], facts["rows"], facts["explained"]) == (
        "minilm-rt-sentiment",
        "snippets.csv",
        60,
        60,
    )
    assert facts["revision"].startswith("a folder on this server; weights sha256 ") and facts["date"]
    csv_rows = list(csv.DictReader(io.StringIO(by_name["rows.csv"].read_text(encoding="utf-8"))))
    assert [r["predicted"] for r in csv_rows] == predicted
    assert "<svg" in by_name["report.svg"].read_text() and "<script" not in by_name["report.html"].read_text()
    # Pasted texts, no labels: no evaluation.
    pasted, _ = client.predict(
        None, "A moving, beautiful film.\nA dull, lifeless mess.", "", "text", "label", 8, 1, api_name="/report"
    )
    assert pasted["evaluation"] is None and pasted["facts"]["data"] == "pasted texts"
    assert [x["predicted"] for x in pasted["examples"]] == ["negative", "positive"]


def test_a_file_over_the_limits_is_refused_with_the_limit_and_what_to_do(served, monkeypatch, tmp_path):
    from gradio_client import Client, handle_file
    from gradio_client.exceptions import AppError

    url, app = served
    client = Client(url, verbose=False)
    monkeypatch.setattr(app.SERVICE, "limits", replace(app.SERVICE.limits, report_max_rows=10))
    with pytest.raises(AppError) as refused:
        client.predict(handle_file(str(SNIPPETS)), api_name="/report")
    assert str(refused.value) == (
        "snippets.csv has more than 10 rows; this server explains at most 10 per report. "
        "Upload its first 10 rows, or run the command line on your own machine: explain "
        "--input FILE --output rows.jsonl --model MODEL, then explain report rows.jsonl "
        "--output report.md."
    )
    monkeypatch.undo()
    big = tmp_path / "big.csv"
    big.write_text("text,label\n" + "A long and winding film that goes nowhere at all,negative\n" * 6000)
    # gradio_client reads the server's limit (launch's max_file_size) and sends nothing.
    with pytest.raises(ValueError, match=r"big\.csv exceeds the maximum file size of 262144 bytes") as too_big:
        client.predict(handle_file(str(big)), api_name="/report")
    print(f"\nA too-large file over the API: {type(too_big.value).__name__}: {too_big.value}")
