"""What hostile inputs cost before they are refused: time and resident memory.

    python -m benchmarks.hostile [--code PATH] [--tiny DIR] [--big] [--only NAME ...]

Each case runs in a fresh Python process that imports ``explain`` from ``--code`` (default:
this checkout; give an older checkout, e.g. ``git archive b3b77ad | tar -x -C /tmp/base``,
for "before" figures), loads a harmless tiny checkpoint first (imports, first-load costs),
then times the hostile one while a thread samples its resident memory every 10 ms. The
figures are the wall time to the refusal (or to the end, if it was not refused), the CPU
time, and the highest resident memory above the level just before; a helper process the
code starts (a sizing child) reports its own peak separately.

Cases (issue 22):
* ``funnel-3000``: a Funnel config with ``block_sizes: [3000, 3000, 3000]`` beside ~28k
  stored parameters; ``funnel-20000`` (``--big``; minutes and gigabytes on old code):
  ``[20000, 20000, 20000]``;
* ``funnel-3000-child``: the same config given straight to the sizing child (its own time
  and memory limits, without the size rules in front), where the code has one;
* ``giant-tokenizer``: 3,000,000 extra vocabulary entries (~60 MB tokenizer.json) beside
  the tiny BERT, loaded as the library loads a folder (no server limits); then, if it
  loaded, a text with one of those tokens explained; ``giant-tokenizer-server``: the same
  folder loaded as a server loads one (a load deadline, the Hub policy's limits);
* ``report-300k``: ``explain report`` on one record of 300,000 word units (and as many
  tokens; a ~50 MB line); ``report-150k``: 150,000 of each (a line under the byte limit,
  so parsed before its size is refused).

Needs the tiny checkpoints (``python tests/support/tiny.py DIR``; ``--tiny`` or
EXPLAIN_TINY_CACHE)."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = textwrap.dedent(r"""
    import json, os, resource, sys, threading, time
    sys.path.insert(0, sys.argv[1])
    warm, case, kind = sys.argv[2], sys.argv[3], sys.argv[4]
    page = os.sysconf("SC_PAGE_SIZE")

    def rss():
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * page

    from explain.checkpoints.folder import load_folder
    if kind != "report":
        load_folder(warm)
    import explain
    out = {"explain": explain.__file__}
    try:  # the sizing child started and ready: its start-up (imports) is reported apart
        from explain.checkpoints import sizing
        t = time.perf_counter()
        sizing.SIZER.count({"model_type": "bert"}, 600, 2**30)
        out["sizer_startup_s"] = round(time.perf_counter() - t, 2)
    except (ImportError, AttributeError):
        pass
    peak = [rss()]
    base = peak[0]
    stop = threading.Event()

    def sample():
        while not stop.wait(0.01):
            peak[0] = max(peak[0], rss())

    threading.Thread(target=sample, daemon=True).start()
    t, c = time.perf_counter(), time.process_time()
    try:
        if kind == "load":
            clf = load_folder(case, max_parameters=600_000_000)
            out["outcome"] = "loaded"
        elif kind == "server":  # as a server loads a folder: a deadline, the Hub policy's limits
            from explain.checkpoints import HubPolicy, load_classifier
            clf = load_classifier(case, load_deadline_s=120, hub_policy=HubPolicy(), max_parameters=600_000_000)
            out["outcome"] = "loaded"
        elif kind == "child":
            from explain.checkpoints import sizing
            if not hasattr(sizing, "bounded_implied_parameters"):
                out["outcome"] = "no sizing child in this code"
            else:
                cfg = json.loads(open(os.path.join(case, "config.json")).read())
                out["outcome"] = f"counted {sizing.bounded_implied_parameters(cfg, 'funnel-3000'):,}"
        elif kind == "report":
            import contextlib, io
            from explain.cli.report import main
            err = io.StringIO()
            with contextlib.redirect_stderr(err):
                rc = main([case, "--output", case + ".md"])
            out["outcome"] = f"exit status {rc}: {err.getvalue().strip()[:300]}"
    except BaseException as exc:
        out["outcome"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}"
    out["seconds"] = round(time.perf_counter() - t, 3)
    out["cpu_seconds"] = round(time.process_time() - c, 3)
    stop.set()
    peak[0] = max(peak[0], rss())
    out["peak_mb_above_start"] = round((peak[0] - base) / 2**20, 1)
    out["child_peak_mb"] = round(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, 1)
    if kind in ("load", "server") and out["outcome"] == "loaded" and "giant" in case:
        from explain import explain as run
        try:
            run("a zq2999999x b", clf, cache=False)
            out["explained"] = "ok"
        except BaseException as exc:
            out["explained"] = f"{type(exc).__name__}: {' '.join(str(exc).split())[:200]}"
    print("RESULT " + json.dumps(out), flush=True)
""")


def funnel_variant(tiny: Path, root: Path, size: int) -> Path:
    folder = root / f"funnel-{size}"
    shutil.copytree(tiny / "funnel", folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg.update(block_sizes=[size] * 3, block_repeats=[1, 1, 1])
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def giant_tokenizer(tiny: Path, root: Path, extra: int = 3_000_000) -> Path:
    folder = root / "giant-tokenizer"
    shutil.copytree(tiny / "bert", folder)
    tok = json.loads((folder / "tokenizer.json").read_text())
    vocab = tok["model"]["vocab"]
    start = max(vocab.values()) + 1
    for i in range(extra):
        vocab[f"zq{i}x"] = start + i
    (folder / "tokenizer.json").write_text(json.dumps(tok))
    return folder


def big_record(root: Path, words: int = 300_000, name: str = "report-300k") -> Path:
    """One explained row of ``words`` distinct word units (and as many tokens)."""
    names = [f"w{i}" for i in range(words)]
    text = " ".join(names)
    units, tokens, pos = [], [], 0
    for i, word in enumerate(names):
        score = ((i * 37) % 11 - 5) / 10
        units.append({"text": word, "start": pos, "end": pos + len(word), "score": score, "segment": 0})
        tokens.append({"token": word, "start": pos, "end": pos + len(word), "score": score, "special": False})
        pos += len(word) + 1
    result = {
        "text": text,
        "target": "positive",
        "predicted": "positive",
        "explained": "logit",
        "words": units,
        "tokens": tokens,
        "completeness_error": 0.001,
        "converged": True,
    }
    path = root / f"{name}.jsonl"
    path.write_text(json.dumps({"row": 0, "ok": True, "result": result}) + "\n")
    return path


def run(code: Path, warm: Path, case: Path, kind: str, env: dict) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, str(code), str(warm), str(case), kind], capture_output=True, text=True, env=env
    )
    for line in proc.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    return {"outcome": f"crashed (status {proc.returncode}): {proc.stderr[-500:]}"}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--code", type=Path, default=ROOT, help="checkout whose explain package is measured")
    p.add_argument("--tiny", type=Path, default=Path(os.environ.get("EXPLAIN_TINY_CACHE", "/tmp/tiny-ckpts")))
    p.add_argument("--big", action="store_true", help="also [20000]*3 (minutes and ~3 GB on unprotected code)")
    p.add_argument("--only", nargs="*", help="case names to run")
    args = p.parse_args()
    if not (args.tiny / "funnel" / "config.json").is_file():
        sys.path.insert(0, str(ROOT / "tests" / "support"))
        import tiny

        tiny.build_all(args.tiny, ["bert", "funnel"])
    env = dict(os.environ, HF_HUB_OFFLINE="1", TOKENIZERS_PARALLELISM="false", OMP_NUM_THREADS="1")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        cases = {
            "funnel-3000": lambda: (funnel_variant(args.tiny, root, 3000), "load"),
            "funnel-3000-child": lambda: (root / "funnel-3000", "child"),
            "giant-tokenizer": lambda: (giant_tokenizer(args.tiny, root), "load"),
            "giant-tokenizer-server": lambda: (root / "giant-tokenizer", "server"),
            "report-300k": lambda: (big_record(root), "report"),
            "report-150k": lambda: (big_record(root, 150_000, "report-150k"), "report"),
        }
        if args.big:
            cases["funnel-20000"] = lambda: (funnel_variant(args.tiny, root, 20000), "load")
        print(f"code: {args.code}")
        for name, make in cases.items():
            if args.only and name not in args.only:
                continue
            if name == "funnel-3000-child" and not (root / "funnel-3000").exists():
                funnel_variant(args.tiny, root, 3000)
            if name == "giant-tokenizer-server" and not (root / "giant-tokenizer").exists():
                giant_tokenizer(args.tiny, root)
            case, kind = make()
            got = run(args.code, args.tiny / "bert", case, kind, env)
            print(
                f"{name:18} {got.get('seconds', '-'):>7} s wall {got.get('cpu_seconds', '-'):>7} s cpu "
                f"+{got.get('peak_mb_above_start', '-')} MB peak (child {got.get('child_peak_mb', '-')} MB): "
                f"{got['outcome']}"
                + (f" | explain: {got['explained']}" if "explained" in got else "")
                + (f" [sizing child start-up before: {got['sizer_startup_s']} s]" if "sizer_startup_s" in got else ""),
                flush=True,
            )


if __name__ == "__main__":
    main()
