#!/usr/bin/env python
"""Held-out accuracy of the bundled model, on the training script's own split.

    HF_HUB_OFFLINE=1 python examples/evaluate_default_model.py [--data vaderSentiment-3.3.2.tar.gz] [--model DIR]

Reads the Rotten Tomatoes snippets with train_default_model.read_vader, splits them with
its split_ids (stratified 80/20, seed 42) and scores the 20% held-out part, loading the
model exactly as the app does (float32, safetensors, no remote code)."""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the explain package, when run as examples/evaluate_default_model.py


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help="vaderSentiment-3.3.2.tar.gz (default: as train_default_model.py finds it)")
    ap.add_argument("--model", default=str(HERE / "minilm-rt-sentiment"))
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("train_default_model", HERE / "train_default_model.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    data = train.find_sdist(args.data, Path.home() / ".cache" / "explain-train")
    corpora, _ = train.read_vader(data)
    _, held = train.split_ids(corpora["movie"], args.seed)

    from explain import load_classifier

    clf = load_classifier(args.model)
    right = {0: 0, 1: 0}
    total = {0: 0, 1: 0}
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(held), 64):
            batch = held[i : i + 64]
            enc = clf.tokenizer(
                [t for t, _ in batch], return_tensors="pt", padding=True, truncation=True, max_length=clf.max_length
            )
            for (_, y), p in zip(batch, clf.model(**enc).logits.argmax(-1).tolist()):
                total[y] += 1
                right[y] += int(p == y)
    n = sum(total.values())
    print(
        f"held-out snippets: {n}  accuracy: {sum(right.values()) / n:.4f}  "
        f"recall negative: {right[0] / total[0]:.4f}  recall positive: {right[1] / total[1]:.4f}  "
        f"({time.perf_counter() - t0:.1f} s)"
    )


if __name__ == "__main__":
    main()
