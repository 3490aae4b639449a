"""The datasets recipe: Dataset.map(DatasetExplainer(...), batched=True) gives the batch
command's explanations and feeds the same report; it pickles without its model, so
num_proc workers load their own.

datasets is optional (requirements-ray.txt): without it these tests skip, unless
EXPLAIN_REQUIRE_RAY=1 (.ci/run runs them in .venv-ray, where it is installed)."""

import json
import os
import pickle

import pytest
from paths import DATA

if os.environ.get("EXPLAIN_REQUIRE_RAY") != "1":
    pytest.importorskip(
        "datasets",
        reason="datasets is not installed: pip install -r requirements-ray.txt "
        "(.ci/run runs this test in .venv-ray with EXPLAIN_REQUIRE_RAY=1)",
    )
import datasets

from explain.corpus import build_report, explain_file
from explain.corpus.hf_datasets import DatasetExplainer, dataset_records


@pytest.fixture
def one_thread():
    """One torch thread, as each of num_proc workers would run (and quicker on a shared CPU)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_map_equals_the_batch_command_and_feeds_the_report(tmp_path, default_model_path, one_thread):
    texts = [s["text"] for s in json.loads((DATA / "rt_heldout.json").read_text(encoding="utf-8"))["sentences"]]
    texts.append("   ")
    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps({"text": t}) + "\n" for t in texts), encoding="utf-8")
    explain_file(source, tmp_path / "out.jsonl", str(default_model_path), progress=False)
    local = [json.loads(x) for x in (tmp_path / "out.jsonl").read_text().splitlines()]

    fn = DatasetExplainer(str(default_model_path))
    mapped = datasets.Dataset.from_dict({"text": texts}).map(fn, batched=True, batch_size=16, with_indices=True)
    assert mapped.column_names == ["text", "explain_ok", "explain_result", "explain_error"]
    for row, want in zip(mapped, local):
        assert row["explain_ok"] == want["ok"]
        if not want["ok"]:
            assert json.loads(row["explain_error"]) == want["error"] and row["explain_result"] == ""
            continue
        got = json.loads(row["explain_result"])
        assert [w["text"] for w in got["words"]] == [w["text"] for w in want["result"]["words"]]
        assert [w["score"] for w in got["words"]] == pytest.approx([w["score"] for w in want["result"]["words"]], abs=1e-5)
    ours = build_report(dataset_records(mapped), min_texts=3)
    theirs = build_report(local, min_texts=3)
    assert ours.explained == 40 and ours.failed == 1
    for a, b in zip(ours.labels, theirs.labels):
        assert [w.word for w in a.toward] == [w.word for w in b.toward]
        assert [w.mean for w in a.toward] == pytest.approx([w.mean for w in b.toward], abs=1e-5)
    assert len(pickle.dumps(fn)) < 10_000  # the loaded model stays behind


def test_map_in_worker_processes(tiny_path):
    fn = DatasetExplainer(str(tiny_path("bert")), threads=1, target="positive")
    ds = datasets.Dataset.from_dict({"text": ["One fine day.", "A dull night.", "Quite good.", "Bad."]})
    mapped = ds.map(fn, batched=True, batch_size=2, num_proc=2)
    got = [json.loads(r) for r in mapped["explain_result"]]
    assert [r["text"] for r in got] == ds["text"] and {r["target"] for r in got} == {"positive"}
    with pytest.raises(KeyError, match="no 'review' column"):
        ds.map(DatasetExplainer(str(tiny_path("bert")), column="review"), batched=True)
