"""Write rt_heldout.json: a fixed sample of the bundled model's held-out sentences.

The split is the training script's own (``split_ids`` on the Rotten Tomatoes snippets of
the vaderSentiment 3.3.2 source package, seed 42); from its held-out part this takes
the first PER_CLASS snippets of each class in sha256("sanity:" + text) order.

    python tests/support/data/make_rt_heldout.py --data /path/to/vaderSentiment-3.3.2.tar.gz

The benchmark's 50 real sentences (benchmarks/data/rt_sentences.json) and the 200 of the
dataset tests (rt_heldout_200.json: the Ray engine, the dataset report) are other
selections from the same held-out part:

    python tests/support/data/make_rt_heldout.py --data ... --per-class 25 --salt bench \
        --out benchmarks/data/rt_sentences.json
    python tests/support/data/make_rt_heldout.py --data ... --per-class 100 --salt corpus \
        --out tests/support/data/rt_heldout_200.json

``--all --out held.jsonl`` writes the whole held-out part instead (2,113 snippets, one JSON
object per line with ``text`` and ``label``, in the split's order): the input of the
dataset report in the README.
"""

import argparse
import hashlib
import importlib.util
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
PER_CLASS = 20


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="vaderSentiment-3.3.2.tar.gz")
    ap.add_argument("--seed", type=int, default=42, help="the training script's --seed")
    ap.add_argument("--per-class", type=int, default=PER_CLASS)
    ap.add_argument("--salt", default="sanity", help="the selection hashes salt + ':' + text")
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("rt_heldout.json"))
    ap.add_argument("--all", action="store_true", help="every held-out snippet, as JSON lines")
    args = ap.parse_args()
    spec = importlib.util.spec_from_file_location("train_default_model", ROOT / "examples" / "train_default_model.py")
    train = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(train)
    corpora, _ = train.read_vader(Path(args.data))
    _, held = train.split_ids(corpora["movie"], args.seed)
    if args.all:
        args.out.write_text(
            "".join(json.dumps({"text": t, "label": train.ID2LABEL[y]}, ensure_ascii=False) + "\n" for t, y in held),
            encoding="utf-8",
        )
        print(f"wrote all {len(held)} held-out sentences to {args.out}")
        return
    picked = []
    for label in (0, 1):
        rows = sorted(
            (t for t, y in held if y == label), key=lambda t: hashlib.sha256(f"{args.salt}:{t}".encode()).hexdigest()
        )
        picked.append(rows[: args.per_class])
    sample = [{"text": t, "label": train.ID2LABEL[y]} for pair in zip(*picked) for t, y in zip(pair, (0, 1))]
    digest = hashlib.sha256(Path(args.data).read_bytes()).hexdigest()
    out = {
        "source": "vaderSentiment 3.3.2 sdist, movieReviewSnippets_GroundTruth.txt (MIT licence)",
        "sdist_sha256": digest,
        "split": f"examples/train_default_model.py split_ids(movie, seed={args.seed}), held-out part",
        "selection": f"first {args.per_class} per class by sha256('{args.salt}:' + text)",
        "held_out_size": len(held),
        "sentences": sample,
    }
    path = args.out
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(sample)} of {len(held)} held-out sentences to {path}")


if __name__ == "__main__":
    main()
