"""Write examples/snippets.csv: 60 real held-out Rotten Tomatoes snippets with their labels,
for trying the "Many texts" tab and for its tests.

They are the first 30 negative and the first 30 positive snippets of
tests/support/data/rt_heldout_200.json (held out from the bundled model's training; see
tests/support/data/make_rt_heldout.py), alternating negative and positive. Deterministic:

    python examples/make_snippets.py            # rewrites examples/snippets.csv
    python examples/make_snippets.py --check    # exit 1 when the file differs
"""

import argparse
import csv
import io
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE.parent / "tests" / "support" / "data" / "rt_heldout_200.json"
OUT = HERE / "snippets.csv"
PER_CLASS = 30


def snippets_csv(source: Path = SOURCE, per_class: int = PER_CLASS) -> str:
    """The CSV text: a header (text,label), then the snippets."""
    data = json.loads(source.read_text(encoding="utf-8"))["sentences"]
    neg = [d for d in data if d["label"] == "negative"][:per_class]
    pos = [d for d in data if d["label"] == "positive"][:per_class]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["text", "label"])
    for a, b in zip(neg, pos):
        writer.writerow([a["text"], a["label"]])
        writer.writerow([b["text"], b["label"]])
    return out.getvalue()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="only compare with the file on disk")
    args = ap.parse_args()
    text = snippets_csv()
    if args.check:
        same = OUT.is_file() and OUT.read_text(encoding="utf-8") == text
        print("examples/snippets.csv is up to date" if same else "examples/snippets.csv differs: rerun the script")
        return 0 if same else 1
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT} ({text.count(chr(10)) - 1} snippets)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
