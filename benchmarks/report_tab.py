"""The "Many texts" tab's report as the server runs it (``explain.serving.dataset``), on
200 short real texts (the bundled model's held-out movie snippets), measured in one run:

    python -m benchmarks.report_tab [--rows 200] [--threads 1,2]

1. per torch thread count: the estimate shown before the run, the model time (the sum of
   its chunks), the wall time of the whole report (model load cached; the summing-up and
   its five files included), and its chunks (how many, the longest);
2. a single-text visitor during a report (1 thread): a text explained alone, then the
   same while a report runs in another thread, a new text every second: how long each
   waited (a chunk holds the model; between chunks the report lets it through).

Every run starts from an empty result cache. The machine's load average is printed
before and after: other work on the CPUs changes the numbers."""

from __future__ import annotations

import argparse
import json
import os
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=200)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--no-visitor", action="store_true", help="skip part 2")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch

    from explain import api
    from explain.serving import Request, ServeLimits, Service
    from explain.serving import dataset as ds
    from explain.serving.folders import FolderPolicy

    data = json.loads((ROOT / "tests" / "support" / "data" / "rt_heldout_200.json").read_text(encoding="utf-8"))
    texts = [s["text"] for s in data["sentences"]][: args.rows]
    model = ROOT / "examples" / "minilm-rt-sentiment"
    service = Service(FolderPolicy(str(model), {}), ServeLimits())
    reports = ds.ReportService(service)
    upload = reports.read(None, "\n".join(texts))
    service.load("")
    print(
        f"load average before: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs); {len(texts)} texts, "
        f"{sum(map(len, texts)) / len(texts):.0f} characters on average"
    )
    for threads in [int(t) for t in args.threads.split(",") if t]:
        torch.set_num_threads(threads)
        api.RESULTS.clear()
        api.explain_many(texts[:4], service.load("")[0], cache=False)  # warm up at this thread count
        estimate = reports.estimate(upload)
        chunks = []
        t0 = time.perf_counter()
        last = [t0]

        def progress(fraction: float, what: str, chunks: list = chunks, last: list = last) -> None:
            if what.startswith("Explained"):
                now = time.perf_counter()
                chunks.append(now - last[0])
                last[0] = now
            elif what.startswith("Explaining"):
                last[0] = time.perf_counter()

        done = reports.run(upload, "", progress=progress)
        wall = time.perf_counter() - t0
        print(
            f"threads {threads}: estimate said '{estimate.split(': ', 1)[1]}'; {done.report.explained} explained "
            f"in {sum(chunks):.1f} s of model time, {wall:.1f} s for the whole report; {len(chunks)} chunks, the "
            f"longest {max(chunks):.1f} s"
        )
    if not args.no_visitor:
        torch.set_num_threads(1)
        api.RESULTS.clear()
        alone = []
        for k in range(3):
            t = time.perf_counter()
            service.explain(Request(f"A single visitor's text number {k}, quite moving."))
            alone.append(time.perf_counter() - t)
        api.RESULTS.clear()
        waits = []
        report = threading.Thread(target=reports.run, args=(upload, ""))
        report.start()
        time.sleep(1.0)
        k = 0
        while report.is_alive():
            t = time.perf_counter()
            service.explain(Request(f"Another visitor's text number {k}, rather dull."))
            waits.append(time.perf_counter() - t)
            k += 1
            time.sleep(1.0)
        report.join()
        print(
            f"a single text alone: {', '.join(f'{s:.2f}' for s in alone)} s; during a report ({len(waits)} texts): "
            f"median {sorted(waits)[len(waits) // 2]:.2f} s, longest {max(waits):.2f} s"
        )
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
