"""The rows and records every engine shares: the same row numbers and hashes whichever
engine parses a file, Parquet in (with pyarrow) or a clear message, the progress bar's
rate and time left, the Python entry point, and the optional packages kept optional."""

import json
import os
import re
import subprocess
import sys
import time

import pytest
from paths import ROOT

from explain.cli.main import main
from explain.corpus import batch, explain_file
from explain.corpus.ray_engine import _parse_files, _rows_of
from explain.errors import ExplainError, InvalidInput

CONTENT = {
    "txt": "\ufeffFirst line.\r\n\r\nSecond, after a blank line.\rThird (old Mac line end).\n",
    "jsonl": '\ufeff{"text": "Good.", "target": "negative"}\r\n\n{"text": 5}\nnot json\n"Just a string."\n'
    '{"text": "A pair.", "text_pair": "Its second half."}\n',
    "csv": 'text,target,text_pair\n"Slow, but moving.\r\nReally.",positive,\nDull.,,Very.\n',
}


@pytest.mark.parametrize("fmt", sorted(CONTENT))
def test_every_engine_reads_the_same_rows(fmt, tmp_path):
    """The Ray engine's parse task (run here as a plain function) gives the local
    reader's rows: same numbers, texts, problems and keys."""
    path = tmp_path / f"in.{fmt}"
    path.write_bytes(CONTENT[fmt].encode("utf-8"))
    local = batch.read_rows(path)
    parsed = _rows_of(_parse_files({"bytes": [path.read_bytes()], "path": [str(path)]}, fmt, "text", "text_pair"))
    assert parsed == local and [r.key for r in parsed] == [r.key for r in local]
    if fmt == "txt":
        assert [(r.row, r.text) for r in local] == [
            (0, "First line."),
            (2, "Second, after a blank line."),
            (3, "Third (old Mac line end)."),
        ]
    if fmt == "jsonl":
        assert [r.row for r in local] == [0, 2, 3, 4, 5] and local[0].target == "negative"
        assert local[1].problem and local[2].problem and local[4].text_pair == "Its second half."
    if fmt == "csv":
        assert local[0].text == "Slow, but moving.\nReally." and local[1].text_pair == "Very."


def test_parquet_input_or_a_clear_message(tmp_path, capsys, tiny_path):
    rows = [{"text": "Great film.", "target": None}, {"text": None, "target": None}, {"text": "Dull.", "target": "positive"}]
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        path = tmp_path / "in.parquet"
        path.write_bytes(b"PAR1")
        with pytest.raises(InvalidInput, match="needs pyarrow"):
            batch.read_rows(path)
        assert main(["--input", str(path), "--model", str(tiny_path("bert"))]) == 1
        assert "pip install pyarrow" in capsys.readouterr().err
        return
    path = tmp_path / "in.parquet"
    pq.write_table(pa.Table.from_pylist(rows), path)
    got = batch.read_rows(path)
    assert [(r.row, r.text, r.target) for r in got] == [(0, "Great film.", None), (1, None, None), (2, "Dull.", "positive")]
    assert got[1].problem == "Row 1 has no 'text' string."
    assert (
        main(
            [
                "--input",
                str(path),
                "--output",
                str(tmp_path / "o.jsonl"),
                "--model",
                str(tiny_path("bert")),
                "--progress",
                "never",
            ]
        )
        == 1
    )
    out = [json.loads(x) for x in (tmp_path / "o.jsonl").read_text().splitlines()]
    assert [r["ok"] for r in out] == [True, False, True] and out[2]["result"]["target"] == "positive"
    folder = tmp_path / "parts"  # a folder: its files by name, rows numbered on across them
    folder.mkdir()
    pq.write_table(pa.Table.from_pylist(rows[:1]), folder / "b.parquet")
    pq.write_table(pa.Table.from_pylist(rows[1:]), folder / "a.parquet")
    assert [(r.row, r.text) for r in batch.read_rows(folder, "parquet")] == [(0, None), (1, "Dull."), (2, "Great film.")]
    parsed = _parse_files(
        {"bytes": [(folder / "b.parquet").read_bytes()], "path": [str(folder / "b.parquet")]}, "parquet", "text", "text_pair"
    )
    assert _rows_of(parsed)[0].key == batch.read_rows(path)[0].key


def test_progress_shows_rate_and_time_left(tmp_path, capsys):
    """tqdm's bar: texts/s and the time left, updated once per packed batch (a batch
    finishes all at once: per-row updates would show one text per batch's time)."""

    class Done:
        def to_dict(self):
            return {"fine": True}

    def packed(rows, targets):
        time.sleep(0.15)  # longer than tqdm's refresh interval: every batch is drawn
        return [Done() for _ in rows]

    rows = [batch.Row(k, f"Text {k}.") for k in range(6)]
    summary = batch.run(
        rows, tmp_path / "out.jsonl", {"model": "m"}, None, progress=True, explain_batch=packed, batch_size=2
    )
    err = capsys.readouterr().err
    assert summary.ok == 6
    shown = re.findall(r"(\d)/6 \[(\d\d:\d\d)<(\d\d:\d\d|\?), +([\d.]+)text/s", err)
    assert sorted({n for n, *_ in shown}) == ["2", "4", "6"], err  # never 1/6, 3/6, 5/6
    assert all(0 < float(rate) < 100 for *_, rate in shown)  # texts per second
    assert all(left != "?" for _, _, left, _ in shown)  # the time left
    again = batch.run(rows, tmp_path / "out.jsonl", {"model": "m"}, None, progress=True, explain_batch=packed)
    assert again.done_before == 6 and again.ok == 0 and "6/6" in capsys.readouterr().err


def test_python_entry_point_writes_what_the_command_writes(tmp_path, tiny_path):
    path = tmp_path / "in.txt"
    path.write_text("Great film.\nDull one.\n", encoding="utf-8")
    bert = str(tiny_path("bert"))
    explain_file(path, tmp_path / "api.jsonl", bert, target="positive", n_steps=8, progress=False)
    assert (
        main(
            [
                "--input",
                str(path),
                "--output",
                str(tmp_path / "cli.jsonl"),
                "--model",
                bert,
                "--target",
                "positive",
                "--n-steps",
                "8",
                "--progress",
                "never",
            ]
        )
        == 0
    )
    api, cli = ([json.loads(x) for x in (tmp_path / n).read_text().splitlines()] for n in ("api.jsonl", "cli.jsonl"))
    assert (
        [r["options"] for r in api]
        == [r["options"] for r in cli]
        == [{"model": bert, "target": "positive", "n_steps": 8}] * 2
    )
    for a, c in zip(api, cli):
        assert a["result"]["words"] == c["result"]["words"]


def test_an_output_from_before_one_vocabulary_resumes(tmp_path, tiny_path):
    """Job records once said "steps"/"labels"/"template": an output written so, rerun with
    the same options under their new names (or the old flag), is resumed, not refused."""
    path = tmp_path / "in.txt"
    path.write_text("Great film.\nDull one.\n", encoding="utf-8")
    bert = str(tiny_path("bert"))
    out = tmp_path / "out.jsonl"
    explain_file(path, out, bert, target="positive", n_steps=8, progress=False)
    lines = [json.loads(x) for x in out.read_text().splitlines()]
    for rec in lines:
        rec["options"] = {"model": bert, "target": "positive", "contrast": None, "baseline": "auto", "steps": 8}
    out.write_text("".join(json.dumps(r) + "\n" for r in lines[:1]))
    again = explain_file(path, out, bert, target="positive", steps=8, progress=False)
    assert (again.done_before, again.ok) == (1, 1)
    with pytest.raises(ExplainError, match="other options"):
        explain_file(path, out, bert, target="positive", n_steps=9, progress=False)


def test_ray_engine_without_ray_says_how_to_install_it(tmp_path, tiny_path, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # as if it were not installed (it is not in requirements.txt)
    path = tmp_path / "in.txt"
    path.write_text("Fine.\n", encoding="utf-8")
    assert main(["--input", str(path), "--model", str(tiny_path("bert")), "--engine", "ray"]) == 1
    err = capsys.readouterr().err
    assert "--engine ray needs Ray Data" in err and "pip install -r requirements-ray.txt" in err
    assert not (tmp_path / "in.explained.jsonl").exists()
    with pytest.raises(SystemExit) as exc:
        main(["One text.", "--model", str(tiny_path("bert")), "--engine", "ray"])
    assert exc.value.code == 2


def test_optional_engines_stay_optional():
    """Importing the package (every module) never imports ray or datasets, even where
    they are installed; the Space's pinned set has neither; the extras do."""
    probe = (
        "import importlib, pkgutil, sys, explain\n"
        "for m in pkgutil.walk_packages(explain.__path__, 'explain.'):\n"
        "    importlib.import_module(m.name)\n"
        "print(sorted(n for n in ('ray', 'datasets', 'pyarrow') if n in sys.modules))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=dict(os.environ, HF_HUB_OFFLINE="1"),
    )
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
    pinned = (ROOT / "requirements.txt").read_text().lower()
    assert "ray" not in pinned and "datasets" not in pinned and "pyarrow" not in pinned
    extra = (ROOT / "requirements-ray.txt").read_text()
    assert "ray[data]==" in extra and "datasets==" in extra
    import tomllib

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["ray"][0].startswith("ray[data]") and extras["datasets"][0].startswith("datasets")


@pytest.mark.parametrize(
    ("resources", "asked", "expected"),
    [
        ({"CPU": 8.0, "GPU": 2.0}, dict(), (2, 1)),  # a replica per GPU
        ({"CPU": 8.0, "GPU": 2.0}, dict(gpus_per_worker=0.5), (4, 0.5)),  # two replicas share each GPU
        ({"CPU": 8.0, "GPU": 2.0}, dict(gpus_per_worker=0), (8, 0)),  # told to stay on CPUs
        ({"CPU": 8.0}, dict(cpus_per_worker=2), (4, 0)),
        ({"CPU": 2.0}, dict(workers=3), (3, 0)),
        ({"CPU": 1.0}, dict(cpus_per_worker=4), (1, 0)),
    ],
)
def test_ray_replicas_follow_the_cluster(resources, asked, expected):
    """How many model replicas, and GPUs each, for a cluster (the arithmetic only: no
    GPU here; the Ray runs themselves are tests/corpus/test_ray.py)."""
    from explain.corpus.ray_engine import plan

    args = dict(workers=None, cpus_per_worker=1, gpus_per_worker=None)
    args.update(asked)
    assert plan(resources, **args) == expected
