"""Command line: one text (coloured view or JSON, static renderings), and files of texts
(txt / JSONL / CSV) with per-row failures and resume after an interruption."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from paths import ROOT

from explain.cli.main import main, use_colour
from explain.corpus import batch


@pytest.fixture(scope="module")
def bert(tiny_path) -> str:
    return str(tiny_path("bert"))


def records(path: Path) -> list:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.slow
def test_entry_point_json_without_a_terminal(bert):
    """The real `python -m explain` process: JSON out, and no colour codes when piped."""
    env = dict(os.environ, HF_HUB_OFFLINE="1", NO_COLOR="")
    text = "Brilliant performances, but far too long."
    out = subprocess.run(
        [sys.executable, "-m", "explain", text, "--model", bert, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["schema_version"] and result["text"] == text
    assert "\x1b[" not in out.stdout


def test_readable_view_and_colour_rules(bert, default_model_path, capsys, monkeypatch):
    # The bundled model: a tiny random one's words barely move the answer and stay uncoloured.
    assert (
        main(
            [
                "Brilliant performances, but far too long.",
                "--model",
                str(default_model_path),
                "--target",
                "positive",
                "--color",
                "always",
            ]
        )
        == 0
    )
    shown = capsys.readouterr().out
    assert "Explained: the log-odds of 'positive'" in shown and "\x1b[38;5;" in shown
    assert main(["Brilliant performances.", "--model", bert]) == 0  # auto: captured output is no terminal
    assert "\x1b[" not in capsys.readouterr().out

    class Tty:
        def isatty(self):
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert use_colour("auto", Tty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not use_colour("auto", Tty()) and use_colour("always", Tty())


def test_static_files_and_clear_errors(bert, tmp_path, capsys):
    card = tmp_path / "card"
    assert (
        main(
            [
                "Not bad at all.",
                "--model",
                bert,
                "--svg",
                f"{card}.svg",
                "--html",
                f"{card}.html",
                "--markdown",
                f"{card}.md",
            ]
        )
        == 0
    )
    assert Path(f"{card}.svg").read_text().startswith("<svg") and "> Not bad at all\\." in Path(f"{card}.md").read_text()
    assert main(["   ", "--model", bert]) == 1
    assert "error: The text is empty." in capsys.readouterr().err
    assert main(["fine", "--model", "no-such-org/no-such-model"]) == 1  # a Hub ID, offline: says so
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--model", bert])  # neither a text nor --input
    assert exc.value.code == 2


def test_files_of_texts_with_failures_per_row(bert, tmp_path, capsys):
    txt = tmp_path / "texts.txt"
    txt.write_text("Great film.\n\nTerrible acting.\r\n", encoding="utf-8")
    assert main(["--input", str(txt), "--model", bert, "--progress", "never"]) == 0
    out = records(tmp_path / "texts.explained.jsonl")
    assert [r["row"] for r in out] == [0, 2] and out[1]["result"]["text"] == "Terrible acting."

    jsonl = tmp_path / "in.jsonl"
    jsonl.write_text(
        '{"text": "Good.", "target": "negative"}\n{"text": 5}\nnot json\n"Just a string."\n{"text": "   "}\n',
        encoding="utf-8",
    )
    assert main(["--input", str(jsonl), "--output", str(tmp_path / "o.jsonl"), "--model", bert]) == 1
    out = {r["row"]: r for r in records(tmp_path / "o.jsonl")}
    assert out[0]["ok"] and out[0]["result"]["target"] == "negative"  # per-row target
    assert not out[1]["ok"] and "no 'text'" in out[1]["error"]["message"]
    assert not out[2]["ok"] and "not valid JSON" in out[2]["error"]["message"]
    assert out[3]["ok"] and out[3]["result"]["text"] == "Just a string."
    assert not out[4]["ok"] and out[4]["error"]["error"] == "invalid_input"
    assert "failed rows (0-based): 1, 2, 4" in capsys.readouterr().err

    csv_in = tmp_path / "in.csv"
    csv_in.write_text('id,review\n1,"Slow, but moving.\nReally."\n2,Dull.\n', encoding="utf-8")
    assert main(["--input", str(csv_in), "--model", bert]) == 1  # no 'text' column: a clear error
    assert "no 'text' column (columns: id, review)" in capsys.readouterr().err
    assert main(["--input", str(csv_in), "--model", bert, "--column", "review"]) == 0
    out = records(tmp_path / "in.explained.jsonl")
    assert out[0]["result"]["text"] == "Slow, but moving.\nReally."


class Stop(KeyboardInterrupt):
    pass


def test_resume_after_an_interruption(tmp_path, bert):
    """Rows done before the interruption are not redone; a half-written line is dropped;
    an output made for another input or other options is refused, not mixed."""
    from explain import explain as run_one
    from explain.checkpoints import load_classifier

    rows = batch.read_rows(_write(tmp_path / "in.txt", ["One fine film.", "A dull one.", "", "Bad.", "Good."]))
    clf = load_classifier(bert)
    calls = []

    def one(row, target):
        calls.append(row.text)
        if len(calls) == 3:
            raise Stop()
        return run_one(row.text, clf, target=target)

    out, options = tmp_path / "out.jsonl", {"model": "m", "target": None}
    with pytest.raises(Stop):
        batch.run(rows, out, options, one, progress=False)
    assert [r["row"] for r in records(out)] == [0, 1]
    with out.open("a") as f:
        f.write('{"row": 3, "text_sha2')  # the process died mid-line
    calls.clear()
    summary = batch.run(rows, out, options, lambda r, g: (calls.append(r.text), run_one(r.text, clf))[1], progress=False)
    assert calls == ["Bad.", "Good."]  # only what was not finished
    assert summary.done_before == 2 and summary.ok == 2 and summary.failed == 0
    assert [r["row"] for r in records(out)] == [0, 1, 3, 4]

    with pytest.raises(batch.OutputMismatch, match="other options"):
        batch.run(rows, out, {"model": "other", "target": None}, one, progress=False)
    changed = batch.read_rows(_write(tmp_path / "in.txt", ["One fine film!", "A dull one.", "", "Bad.", "Good."]))
    with pytest.raises(batch.OutputMismatch, match="another input"):
        batch.run(changed, out, options, one, progress=False)


def test_failed_rows_are_kept_unless_retried(tmp_path):
    rows = batch.read_rows(_write(tmp_path / "in.txt", ["a", "b"]))
    out, options = tmp_path / "out.jsonl", {"model": "m"}

    def flaky(text, target):
        raise RuntimeError("hub down")

    summary = batch.run(rows, out, options, flaky, progress=False)
    assert summary.failed == 2 and records(out)[0]["error"]["message"] == "RuntimeError: hub down"
    again = batch.run(rows, out, options, flaky, progress=False)
    assert again.failed == 0 and again.failed_before == 2 and again.failed_rows == [0, 1]

    class Fine:
        def to_dict(self):
            return {"ok": 1}

    retried = batch.run(rows, out, options, lambda t, g: Fine(), retry_failed=True, progress=False)
    assert retried.ok == 2 and retried.failed_before == 0
    assert [r["ok"] for r in records(out)] == [True, True]


def _write(path: Path, lines: list) -> Path:
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_pairs_zero_shot_and_every_label(bert, tmp_path, capsys, tiny_path):
    from relabel import relabelled

    nli = str(relabelled(tiny_path("bert"), tmp_path / "tiny-nli"))  # zero-shot needs an NLI model (issue 22, M4)
    assert main(["A man plays a guitar.", "--text-pair", "Someone makes music.", "--model", bert, "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["text_pair"] == "Someone makes music." and {w["segment"] for w in result["words"]} == {0, 1}
    assert (
        main(
            [
                "The match went to penalties.",
                "--labels",
                "sports, politics",
                "--template",
                "It is about {}.",
                "--model",
                nli,
                "--json",
            ]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result["probabilities"]) == {"sports", "politics"}
    assert result["zero_shot"]["hypotheses"] == ["It is about sports.", "It is about politics."]
    assert main(["Not bad at all.", "--model", bert, "--all-labels", "--json"]) == 0
    every = json.loads(capsys.readouterr().out)
    assert sorted(e["target"] for e in every) == ["negative", "neutral", "positive"]
    # Files: JSONL rows may carry a text pair; CSV a second column.
    jsonl = tmp_path / "pairs.jsonl"
    jsonl.write_text(
        "\n".join(json.dumps(r) for r in [{"text": "A cat sleeps.", "text_pair": "An animal rests."}, {"text": "Alone."}])
        + "\n"
    )
    assert main(["--input", str(jsonl), "--model", bert, "--progress", "never"]) == 0
    got = records(tmp_path / "pairs.explained.jsonl")
    assert got[0]["result"]["text_pair"] == "An animal rests." and got[1]["result"]["text_pair"] is None
    csv_file = tmp_path / "more.csv"
    csv_file.write_text('text,hypothesis\n"A cat sleeps.","An animal rests."\n')
    assert main(["--input", str(csv_file), "--model", bert, "--pair-column", "hypothesis", "--progress", "never"]) == 0
    assert records(tmp_path / "more.explained.jsonl")[0]["result"]["text_pair"] == "An animal rests."
    with pytest.raises(SystemExit):
        main(["x", "--model", bert, "--labels", "a, b", "--text-pair", "y"])
