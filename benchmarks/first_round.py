"""How many of the calibration probes a first round of n nodes would accept, per check:

    python -m benchmarks.first_round [--model examples/minilm-rt-sentiment]

For n = 5 ... 24 calibrated nodes (``engine/prior.py``: the quantiles of the model's
|dF/dalpha| density mixed with uniform), the number of the 4 probe sentences whose round 1
passes both checks (completeness 1% and the word-error estimate), completeness alone, the
word estimate alone, and both with completeness loosened to 2%. It shows which check
makes a sharply switching model need more rows."""

from __future__ import annotations

import argparse

import torch

from explain.checkpoints import load_classifier
from explain.engine import prior
from explain.options import DEFAULT_TOLERANCE, DEFAULT_WORD_TOLERANCE


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default="examples/minilm-rt-sentiment")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    clf = load_classifier(args.model)
    prof = prior.profile(clf)
    density = prof.density()
    chosen = len(prior.choose(prof))
    print(f"{args.model}: probes accepted after round 1 (of {len(prof.f)}); the engine uses {chosen} nodes")
    print("| nodes | both checks | completeness 1% only | word estimate only | both, completeness 2% |")
    print("|---|---|---|---|---|")
    for n in (5, 6, 8, 10, 12, 14, 16, 20, 24):
        nodes = prior.nodes_from(density, n)
        print(
            f"| {n} | {prof.accepted(nodes, DEFAULT_TOLERANCE, DEFAULT_WORD_TOLERANCE)} "
            f"| {prof.accepted(nodes, DEFAULT_TOLERANCE, None)} | {prof.accepted(nodes, 1e9, DEFAULT_WORD_TOLERANCE)} "
            f"| {prof.accepted(nodes, 0.02, DEFAULT_WORD_TOLERANCE)} |"
        )


if __name__ == "__main__":
    main()
