"""Print, per architecture, the completeness error and prediction parity of explain().

    python tests/report_architectures.py [checkpoint-root]

Builds the tiny checkpoints (tests/tiny.py) if needed; the same checks as
tests/test_engine.py, printed as a table instead of asserted."""

import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import tiny
import torch
from test_engine import ALL, TEXTS, plain_probabilities

from explain import explain, load_classifier


def main() -> None:
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-ckpts")
    tiny.build_all(root)
    print(f"{'architecture':13s} {'call sites':58s} {'max |dp|':>9s} {'argmax':>6s} {'max err':>9s} {'steps':>5s} {'s':>5s}")
    for name in ALL:
        clf = load_classifier(root / name)
        errs, diffs, same, steps = [], [], True, 0
        t = time.perf_counter()
        for text in TEXTS:
            r = explain(text, clf)
            mine = torch.tensor([r.probabilities[label] for label in r.labels])
            ref = plain_probabilities(root / name, text, clf).float()
            diffs.append(float((mine - ref).abs().max()))
            same &= int(mine.argmax()) == int(ref.argmax())
            errs.append(r.completeness_error)
            steps = max(steps, r.steps)
        print(
            f"{name:13s} {clf.sites.describe[:58]:58s} {max(diffs):9.1e} {same!s:>6s} {max(errs):9.1e} "
            f"{steps:5d} {time.perf_counter() - t:5.1f}"
        )


if __name__ == "__main__":
    main()
