"""--engine ray on a real local Ray (2 CPUs): 200 held-out movie snippets (and two bad
lines) explained by the bundled model on two actors, interrupted and resumed, checked
row by row against the single-process run; Parquet in and out on a running cluster
(--ray-address); the report from the Ray rows equals the single-process report.

Ray is optional (requirements-ray.txt): without it these tests skip, unless
EXPLAIN_REQUIRE_RAY=1 (set by .ci/run, which runs them in .venv-ray)."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from paths import DATA, ROOT

if os.environ.get("EXPLAIN_REQUIRE_RAY") != "1":
    pytest.importorskip(
        "ray",
        reason="Ray Data is not installed: pip install -r requirements-ray.txt "
        "(.ci/run runs these tests in .venv-ray with EXPLAIN_REQUIRE_RAY=1)",
    )
import ray  # (with EXPLAIN_REQUIRE_RAY=1 a missing ray fails here)

from explain.cli.main import main
from explain.corpus import build_report, dataset_report, read_records
from explain.corpus.ray_engine import explain_file_ray
from explain.errors import InvalidInput

# Ray's token authentication is Ray's business; these local clusters run without it.
ENV = dict(os.environ, RAY_AUTH_MODE="disabled", HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false")
BAD = {50: "this line is not JSON", 120: json.dumps({"text": "   "})}


@pytest.fixture(scope="module", autouse=True)
def no_token_auth():
    old = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    yield
    if old is None:
        os.environ.pop("RAY_AUTH_MODE", None)
    else:
        os.environ["RAY_AUTH_MODE"] = old


@pytest.fixture(scope="module")
def snippets(tmp_path_factory):
    """202 lines: the 200 snippets with a broken line and an empty text among them."""
    texts = [s["text"] for s in json.loads((DATA / "rt_heldout_200.json").read_text(encoding="utf-8"))["sentences"]]
    lines = [json.dumps({"text": t}, ensure_ascii=False) for t in texts]
    for at, line in sorted(BAD.items()):
        lines.insert(at, line)
    path = tmp_path_factory.mktemp("ray") / "snippets.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def model(default_model_path):
    return str(default_model_path.relative_to(ROOT)) if default_model_path.is_relative_to(ROOT) else str(default_model_path)


@pytest.fixture(scope="module")
def reference(snippets, model):
    """The single-process run (packed passes) of the same file."""
    import torch

    threads = torch.get_num_threads()
    out = snippets.with_name("local.jsonl")
    try:
        assert (
            main(
                [
                    "--input",
                    str(snippets),
                    "--output",
                    str(out),
                    "--model",
                    model,
                    "--progress",
                    "never",
                    "--threads",
                    "1",
                    "--batch-size",
                    "16",
                ]
            )
            == 1
        )  # the two bad rows fail
    finally:
        torch.set_num_threads(threads)
    return {r["row"]: r for r in records(out)}


@pytest.fixture(scope="module")
def cluster():
    """A running Ray (2 CPUs) in a process of its own, as a cluster the engine connects to."""
    script = (
        "import sys, ray\n"
        "ray.init(num_cpus=2, include_dashboard=False, logging_level='WARNING')\n"
        "print(ray.get_runtime_context().gcs_address, flush=True)\n"
        "sys.stdin.read()\n"
    )
    head = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
        cwd="/",
    )
    address = head.stdout.readline().strip()
    assert address, "the Ray head did not start"
    yield address
    head.stdin.close()
    try:
        head.wait(timeout=60)
    except subprocess.TimeoutExpired:
        head.kill()


def records(path):
    out = []
    with open(path, encoding="utf-8") as f:
        for line in f:
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                pass  # a line cut by the interruption: the resume drops it
    return out


def same_row(got, want):
    """One output record of the Ray engine equals the single-process one (1e-5)."""
    assert got["row"] == want["row"] and got["text_sha256"] == want["text_sha256"]
    assert got["options"] == want["options"] and got["ok"] == want["ok"]
    if not want["ok"]:
        assert got["error"] == want["error"] and got["text"] == want["text"]
        return
    a, b = got["result"], want["result"]
    for key in (
        "text",
        "checkpoint",
        "labels",
        "predicted",
        "target",
        "explained",
        "baseline",
        "steps",
        "converged",
        "head",
    ):
        assert a[key] == b[key], key
    assert [(w["text"], w["start"], w["end"], w["segment"]) for w in a["words"]] == [
        (w["text"], w["start"], w["end"], w["segment"]) for w in b["words"]
    ]
    assert [w["score"] for w in a["words"]] == pytest.approx([w["score"] for w in b["words"]], abs=1e-5)
    assert [t["score"] for t in a["tokens"]] == pytest.approx([t["score"] for t in b["tokens"]], abs=1e-5)
    assert a["probabilities"] == pytest.approx(b["probabilities"], abs=1e-5)
    assert a["completeness_error"] == pytest.approx(b["completeness_error"], abs=1e-5)


@pytest.mark.slow
def test_interrupted_ray_run_resumes_to_the_single_process_results(snippets, model, reference, cluster, capsys):
    out = snippets.with_name("ray.jsonl")
    # 1. A local Ray started by the engine, two actors; interrupted (Ctrl-C) part way.
    cmd = [
        sys.executable,
        "-m",
        "explain",
        "--input",
        str(snippets),
        "--output",
        str(out),
        "--model",
        model,
        "--engine",
        "ray",
        "--workers",
        "2",
        "--batch-size",
        "8",
        "--progress",
        "never",
    ]
    # Ctrl-C must reach it even when these tests run in a background job (CI), whose children
    # start with SIGINT ignored - and a Python started so never raises KeyboardInterrupt.
    run = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=ENV,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    started = time.monotonic()  # interrupted once 24 rows are written (15 minutes: a hang guard only)
    while time.monotonic() - started < 900 and run.poll() is None:
        if out.exists() and len(records(out)) >= 24:
            break
        time.sleep(0.1)
    run.send_signal(signal.SIGINT)
    err = run.communicate(timeout=120)[1]
    assert run.returncode == 130, err[-3000:]
    assert "interrupted - run the same command again to resume" in err
    before = records(out)
    assert 24 <= len(before) < 202
    for rec in before:
        same_row(rec, reference[rec["row"]])
    # 2. The same command, on a running cluster this time: only the rest is explained.
    assert main(cmd[3:] + ["--ray-address", cluster]) == 1  # the two bad rows
    err = capsys.readouterr().err
    assert f"{len(before)} already done before (202 rows)" in err
    done = records(out)
    assert sorted(r["row"] for r in done) == sorted(reference) and len(done) == 202
    for rec in done:
        same_row(rec, reference[rec["row"]])
    assert sum(not r["ok"] for r in done) == 2
    # 3. Either engine resumes the other's output: nothing left for the local one.
    assert main(["--input", str(snippets), "--output", str(out), "--model", model, "--progress", "never"]) == 1
    assert "0 explained, 2 failed, 202 already done before" in capsys.readouterr().err
    # 4. The report of the Ray rows is the single-process report.
    ray_report = dataset_report(out, min_texts=5)
    local = build_report(reference.values(), min_texts=5, source=out.name)
    assert ray_report.rows == 202 and ray_report.explained == 200 and ray_report.errors == {"invalid_input": 2}
    for a, b in zip(ray_report.labels, local.labels):
        assert a.label == b.label and a.texts == b.texts
        for name in ("toward", "against", "strongest", "flips"):
            assert [w.word for w in getattr(a, name)] == [w.word for w in getattr(b, name)]
            for x, y in zip(getattr(a, name), getattr(b, name)):
                assert (x.mean, x.mean_low, x.mean_high, x.mean_abs) == pytest.approx(
                    (y.mean, y.mean_low, y.mean_high, y.mean_abs), abs=1e-5
                )
                assert (x.count, x.texts) == (y.count, y.texts)


@pytest.mark.slow
def test_parquet_in_and_out_on_a_running_cluster(snippets, model, reference, cluster):
    import pyarrow as pa
    import pyarrow.parquet as pq

    want = [r for _, r in sorted(reference.items()) if r["ok"]][:40]
    source = snippets.with_name("folder")  # two files: rows numbered on from one to the next, by name
    source.mkdir()
    for name, part in (("b.parquet", want[20:]), ("a.parquet", want[:20])):
        pq.write_table(pa.Table.from_pylist([{"text": r["result"]["text"]} for r in part]), source / name, row_group_size=8)
    out = snippets.with_name("out.parquet")
    summary = explain_file_ray(source, out, model, address=cluster, workers=2, batch_size=8, progress=False)
    assert summary.ok == 40 and summary.failed == 0
    got = {r["row"]: r for r in read_records(out)}
    assert sorted(got) == list(range(40))
    for k, rec in got.items():
        rec = {**rec, "options": json.loads(rec["options"]), "result": json.loads(rec["result"])}
        same_row({**rec, "row": want[k]["row"]}, want[k])
    with pytest.raises(InvalidInput, match="cannot be resumed"):
        explain_file_ray(source, out, model, address=cluster)
    assert dataset_report(out, min_texts=2).explained == 40


def test_a_wrong_address_is_said_at_once(snippets, model, monkeypatch):
    """Said before Ray is asked to connect (ray.init waits minutes for a missing cluster)."""
    asked = []
    monkeypatch.setattr(ray, "init", lambda *args, **kwargs: asked.append(kwargs))
    with pytest.raises(InvalidInput, match=r"Nothing answers at '127\.0\.0\.1:1'"):
        explain_file_ray(snippets, snippets.with_name("never.jsonl"), model, address="127.0.0.1:1")
    assert asked == [] and not snippets.with_name("never.jsonl").exists()
