"""Long texts: do the word scores add up to what the result states, and how close is a
windowed explanation to the whole-text one?

    python -m benchmarks.long_texts [--model examples/minilm-rt-sentiment]

1. A ~1,088-token review (held-out snippets joined) on the bundled model (512 positions,
   so 3 windows): the sum of the word scores against the stated quantity's change, and
   what the trust panel says.
2. A ~245-token review that fits the model whole, explained whole (the reference) and in
   2-6 windows (``max_tokens``): cosine of the word scores to the whole-text ones and how
   many of the whole text's top-5 words the windowed top-5 keeps, for three ways of
   combining the windows, all from the same per-window attributions:
   * mean: the explained quantity is the plain mean over windows of the target logit; a
     token's score is the sum of its contributions in every window containing it / windows;
   * stitched: each token from the one window owning its first character, at that window's
     own scale (what the engine did before; the sum matches no single quantity);
   * weighted: like mean, each window weighted by the share of the text it stands for (up
     to the middles of its overlaps) - the engine's choice; completeness holds for it.
Runs on the code importable as ``explain`` (an older checkout works too: then only its
own combination is reported)."""

from __future__ import annotations

import argparse
import json
import math
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def review(tokenizer, n_tokens: int, skip: int = 0) -> str:
    data = json.loads((ROOT / "tests" / "support" / "data" / "rt_heldout.json").read_text(encoding="utf-8"))
    sentences = [row["text"] for row in data["sentences"]]
    parts, i = [], skip
    while len(tokenizer(" ".join(parts), add_special_tokens=False)["input_ids"]) < n_tokens:
        parts.append(sentences[i % len(sentences)])
        i += 1
    return " ".join(parts)


def cosine(a: list, b: list) -> float:
    num = sum(x * y for x, y in zip(a, b))
    den = math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))
    return num / den if den else float("nan")


def combinations(result, text: str) -> dict:
    """{name: {(start, end): score}} of the word units, for each way of combining windows."""
    if not hasattr(result, "f_input"):  # an older engine: its own (stitched) words only
        return {"stitched": {(w.start, w.end): w.score for w in result.words}}
    from explain.engine.words import word_scores
    from explain.result import TokenScore

    n = len(result.windows)
    owned = [w.owned_end - w.owned_start for w in result.windows]

    def words(weight):  # the windows' own attributions (score / the engine's weight), reweighted
        tokens = [
            TokenScore(
                t.index,
                t.token,
                t.token_id,
                t.start,
                t.end,
                t.score / result.windows[t.window].weight * weight(t),
                t.special,
                t.window,
            )
            for t in result.tokens
        ]
        return {(w.start, w.end): w.score for w in word_scores(text, tokens)}

    def owner(t):
        w = result.windows[t.window]
        return 1.0 if t.start is not None and w.owned_start <= t.start < w.owned_end else 0.0

    return {
        "mean": words(lambda t: 1.0 / n),
        "stitched": words(owner),
        "weighted": words(lambda t: owned[t.window] / sum(owned)),
    }


def compare(ref: dict, got: dict) -> tuple:
    keys = sorted(set(ref) & set(got))
    a, b = [ref[k] for k in keys], [got[k] for k in keys]
    top = lambda d: {k for k, _ in sorted(d.items(), key=lambda kv: -abs(kv[1]))[:5]}
    return cosine(a, b), len(top(ref) & top(got))


def main(argv=None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    p = argparse.ArgumentParser(prog="python -m benchmarks.long_texts", description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default=str(ROOT / "examples" / "minilm-rt-sentiment"))
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    import torch

    from explain import explain, load_classifier
    from explain.checks.trust import trust_summary
    from explain.engine.heads import probabilities

    torch.set_num_threads(args.threads)
    clf = load_classifier(args.model)
    text = review(clf.tokenizer, 1088)
    n_tok = len(clf.tokenizer(text, add_special_tokens=False)["input_ids"])
    result = explain(text, clf, cache=False)
    changes = [w.f_input - w.f_baseline for w in result.windows]
    shown = sum(w.score for w in result.words)
    print(
        f"1. {n_tok}-token text, {len(result.windows)} windows; window changes F(x)-F(x'): "
        + ", ".join(f"{c:+.3f}" for c in changes)
    )
    stated = (result.f_input - result.f_baseline) if hasattr(result, "f_input") else None
    print(
        f"   sum of word scores {shown:+.4f}; "
        + (
            f"stated quantity: {result.explained}, change {stated:+.4f} (gap {abs(shown - stated) / abs(stated):.2%})"
            if stated is not None
            else f"no single stated quantity (sum of window changes {sum(changes):+.4f}, "
            f"mean {sum(changes) / len(changes):+.4f})"
        )
    )
    trust = trust_summary(result)[0]
    print("   trust panel:", trust["text"] if isinstance(trust, dict) else trust.text)

    print("\n2. ~245-token texts (4 of them, different snippets), whole-text explanation as reference;")
    print("   means over the texts of the cosine to the whole-text word scores and of the gap between the")
    print("   combined prediction P(whole-text prediction's label) and the whole text's own")
    print("| windows | max_tokens | combination | cosine to whole | top-5 kept | prediction gap |")
    print("|---|---|---|---|---|---|")
    texts = [review(clf.tokenizer, 245, skip=k * 9) for k in range(4)]
    wholes = [explain(t, clf, cache=False) for t in texts]
    for max_tokens in (160, 110, 80, 64, 56):
        rows, counts = {}, []
        for text, whole in zip(texts, wholes):
            ref = {(w.start, w.end): w.score for w in whole.words}
            result = explain(text, clf, max_tokens=max_tokens, target=whole.target, cache=False)
            counts.append(len(result.windows))
            logits = window_logits(clf, text, result)
            owned = [w.owned_end - w.owned_start for w in result.windows]
            weights = {"mean": [1 / len(owned)] * len(owned), "stitched": None, "weighted": [o / sum(owned) for o in owned]}
            for name, words in combinations(result, text).items():
                cos, kept = compare(ref, words)
                gap = None
                if weights.get(name) is not None:
                    p = probabilities(sum(w * lg for w, lg in zip(weights[name], logits))[None], clf.head)[0]
                    gap = abs(float(p[clf.labels.index(whole.target)]) - whole.probabilities[whole.target])
                rows.setdefault(name, []).append((cos, kept, gap))
        for name, vals in rows.items():
            gaps = [g for _, _, g in vals if g is not None]
            gap = f"{sum(gaps) / len(gaps):.3f}" if gaps else "- (no single prediction)"
            print(
                f"| {min(counts)}-{max(counts)} | {max_tokens} | {name} | {sum(c for c, _, _ in vals) / len(vals):.3f} "
                f"| {sum(k for _, k, _ in vals) / len(vals):.1f}/5 | {gap} |"
            )


def window_logits(clf, text: str, result) -> list:
    import torch

    with torch.no_grad():
        return [
            clf.model(**{k: v.to(clf.device) for k, v in clf.tokenizer(text[w.start : w.end], return_tensors="pt").items()})
            .logits[0]
            .float()
            for w in result.windows
        ]


if __name__ == "__main__":
    main()
