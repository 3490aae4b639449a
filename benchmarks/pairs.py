"""Text pairs and zero-shot on tiny NLI models of four families (BERT with token types,
RoBERTa without, DeBERTa-v2, BART encoder-decoder), relabelled as MNLI models:

    python tests/support/tiny.py /tmp/tiny-ckpts   # once: the tiny checkpoints, offline
    python -m benchmarks.pairs /tmp/tiny-ckpts

Per family: the pair's probabilities against a plain ``model(**tokenizer(premise,
hypothesis))``, the adaptive rule's completeness error and gradient rows, the engine's
fixed 50-node rule against Captum's LayerIntegratedGradients with 50 steps (largest token
difference over the largest token score), and zero-shot scores against transformers'
``zero-shot-classification`` pipeline, single- and multi-label."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline

from explain import explain, explain_zero_shot, load_classifier

NLI = ["contradiction", "neutral", "entailment"]
PREMISE = "The film was long, but the acting was wonderful and the music moving."
HYPOTHESIS = "The movie is good."
CANDIDATES = ["cinema", "sports", "politics", "cooking"]
TEMPLATE = "This text is about {}."
FAMILIES = ("bert", "roberta", "deberta-v2", "bart")


def as_nli(tiny: Path, name: str, root: Path) -> Path:
    folder = root / name
    shutil.copytree(tiny / name, folder)
    cfg = json.loads((folder / "config.json").read_text())
    cfg["id2label"] = dict(enumerate(NLI))
    cfg["label2id"] = {label: i for i, label in enumerate(NLI)}
    (folder / "config.json").write_text(json.dumps(cfg))
    return folder


def measure(folder: Path) -> dict:
    clf = load_classifier(str(folder))
    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModelForSequenceClassification.from_pretrained(folder).eval()
    with torch.no_grad():
        plain = torch.softmax(model(**tok(PREMISE, HYPOTHESIS, return_tensors="pt")).logits[0], -1)
    got = explain(PREMISE, clf, text_pair=HYPOTHESIS, cache=False)
    fixed = explain(PREMISE, clf, text_pair=HYPOTHESIS, n_steps=50, cache=False)
    captum = explain(PREMISE, clf, text_pair=HYPOTHESIS, method="captum", n_steps=50, cache=False)
    a = torch.tensor([t.score for t in fixed.tokens])
    b = torch.tensor([t.score for t in captum.tokens])
    pipe = pipeline("zero-shot-classification", model=clf.model, tokenizer=clf.tokenizer)
    zero = {}
    for multi in (False, True):
        want = pipe(PREMISE, CANDIDATES, hypothesis_template=TEMPLATE, multi_label=multi)
        mine = explain_zero_shot(PREMISE, clf, CANDIDATES, hypothesis_template=TEMPLATE, multi_label=multi, cache=False)
        zero[multi] = (
            max(abs(mine.probabilities[label] - score) for label, score in zip(want["labels"], want["scores"])),
            mine.completeness_error,
        )
    return {
        "p": max(abs(got.probabilities[label] - float(plain[i])) for i, label in enumerate(got.labels)),
        "error": got.completeness_error,
        "rows": got.steps,
        "captum": float((a - b).abs().max() / b.abs().max()),
        "zero": zero,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tiny", type=Path, help="the folder made by tests/support/tiny.py")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    print(
        "| family | pair: p vs plain forward | completeness error (rows) | fixed-50 vs Captum-50 | "
        "zero-shot vs pipeline: single (error) | multi-label (error) |\n|---|---|---|---|---|---|"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for name in FAMILIES:
            m = measure(as_nli(args.tiny, name, Path(tmp)))
            (s, se), (u, ue) = m["zero"][False], m["zero"][True]
            print(
                f"| {name} | {m['p']:.1e} | {m['error']:.1e} ({m['rows']}) | {m['captum']:.1e} | {s:.1e} ({se:.1e}) "
                f"| {u:.1e} ({ue:.1e}) |"
            )


if __name__ == "__main__":
    main()
