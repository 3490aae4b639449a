"""Texts per second for a file of texts, every way this package explains one, measured
in one run on the same rows:

    python -m benchmarks.dataset_speed [--rows 200] [--model examples/minilm-rt-sentiment]
    .venv-ray/bin/python -m benchmarks.dataset_speed     (adds Ray; needs requirements-ray.txt)

1. one by one: the batch command's loop with one ``explain()`` per row (what it did
   before packing), at 1 and at 2 torch threads;
2. packed: the batch command as it is (``explain_file``: texts of similar length share
   batched passes), at 1 and at 2 torch threads;
3. Ray: ``explain_file_ray`` on a local Ray with 2 actors (1 CPU and 1 torch thread
   each), timed from the call (actor start-up and model loading included; Ray's own
   start-up is printed apart), with the time its first rows reached the output.

Every run writes the batch command's JSON lines to a fresh file; the Ray rows are
checked against the packed ones (largest word-score difference). Rows: the bundled
model's held-out movie snippets (tests/support/data/rt_heldout_200.json; ``--input`` for
others, ``--threads 1`` for the 1-thread runs only). The machine's
load average is printed before and after: other work on the CPUs changes the numbers."""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def rows_file(folder: Path, n: int) -> Path:
    data = json.loads((ROOT / "tests" / "support" / "data" / "rt_heldout_200.json").read_text(encoding="utf-8"))
    texts = [s["text"] for s in data["sentences"]][:n]
    path = folder / "snippets.jsonl"
    path.write_text("".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in texts), encoding="utf-8")
    return path


def words(path: Path) -> dict:
    return {
        r["row"]: [w["score"] for w in r["result"]["words"]]
        for r in map(json.loads, path.read_text(encoding="utf-8").splitlines())
        if r["ok"]
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "examples" / "minilm-rt-sentiment"))
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--input", type=Path, help="JSON lines with a 'text' field instead of the 200 snippets")
    ap.add_argument("--threads", default="1,2", help="torch threads to run the local ways at (default 1,2)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--no-ray", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from explain.api import RESULTS
    from explain.checkpoints import load_classifier
    from explain.corpus import batch, explain_file
    from explain.corpus.explainers import explainers, job_options

    folder = Path(tempfile.mkdtemp(prefix="dataset-speed-"))
    source = args.input or rows_file(folder, args.rows)
    rows = batch.read_rows(source)
    clf = load_classifier(args.model)
    one, _ = explainers(clf, job_options(args.model))
    print(
        f"{len(rows)} rows, model {Path(args.model).name}, batch size {args.batch_size}, "
        f"load average before: {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    explain_file(source, folder / "warm.jsonl", clf, progress=False)  # first-call costs out of the way
    results = {}

    def timed(name: str, run) -> Path:
        RESULTS.clear()  # no cached explanation served twice
        out = folder / f"{name.replace(' ', '-').replace(',', '')}.jsonl"
        t0 = time.perf_counter()
        extra = run(out)
        seconds = time.perf_counter() - t0
        results[name] = len(rows) / seconds
        note = f" ({extra})" if extra else ""
        print(f"{name:<34} {len(rows) / seconds:7.1f} texts/s  ({seconds:6.1f} s){note}", flush=True)
        return out

    packed = None
    for threads in map(int, args.threads.split(",")):
        torch.set_num_threads(threads)
        timed(
            f"one by one, {threads} thread{'s' if threads > 1 else ''}",
            lambda out: batch.run(rows, out, job_options(args.model), one, progress=False) and None,
        )
        got = timed(
            f"packed, {threads} thread{'s' if threads > 1 else ''}",
            lambda out: explain_file(source, out, clf, batch_size=args.batch_size, progress=False) and None,
        )
        packed = packed or got
    if args.no_ray:
        return
    try:
        import ray  # noqa: F401
    except ImportError:
        print("Ray: not installed (pip install -r requirements-ray.txt), skipped")
        return
    from explain.corpus.ray_engine import connected, explain_file_ray

    os.environ.setdefault("RAY_AUTH_MODE", "disabled")  # a private local Ray
    t_start = time.perf_counter()
    with connected(num_cpus=2):
        started = time.perf_counter() - t_start
        first = {}

        def ray_run(out: Path):
            done = threading.Event()

            def watch():  # when the first rows reach the output: the actors are up
                while not done.is_set():
                    if out.exists() and out.stat().st_size:
                        first["t"] = time.perf_counter()
                        return
                    time.sleep(0.01)

            watcher = threading.Thread(target=watch, daemon=True)
            watcher.start()
            t0 = time.perf_counter()
            try:
                explain_file_ray(
                    source, out, args.model, workers=2, cpus_per_worker=1, batch_size=args.batch_size, progress=False
                )
            finally:
                done.set()
                watcher.join()
            return (
                f"first rows written after {first['t'] - t0:.1f} s: input read, 2 actors started, the model "
                f"loaded in each; Ray itself started in {started:.1f} s before the call"
            )

        out = timed("Ray, 2 workers", ray_run)
    a, b = words(packed), words(out)
    worst = max(abs(x - y) for k in a for x, y in zip(a[k], b[k]))
    print(f"Ray rows equal the packed rows: {sorted(a) == sorted(b)}, largest word-score difference {worst:.1e}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
