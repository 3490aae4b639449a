"""Sanity checks of the explanations on the bundled real model (skipped until it exists).

1. Model randomization (Adebayo et al. 2018): re-initialise the classifier head, then
   the head and the top encoder layer, then the head and every encoder layer (cascading,
   top down); the word attributions of the randomized model must no longer rank the words
   like the trained model's (mean Spearman over 20 sentences below 0.5). A control
   (the same trained model, a fixed 16-node rule instead of adaptive steps) must agree.
2. Faithfulness: on held-out sentences (tests/support/data/rt_heldout.json, from the training
   script's own split), AOPC comprehensiveness of the explanation beats random word
   rankings: mean difference > 0 and more than two standard errors.

Run with ``-s`` to see the measured numbers."""

import copy
import json
import math

import paths
import pytest
import torch

from explain import Classifier, explain, load_classifier
from explain.checks import kendall_tau, spearman

DATA = json.loads((paths.DATA / "rt_heldout.json").read_text(encoding="utf-8"))
SENTENCES = [row["text"] for row in DATA["sentences"]]  # 40, alternating negative / positive
RANDOMIZATION_SENTENCES = SENTENCES[:20]  # 10 + 10: enough for a mean, a third of the time


@pytest.fixture(scope="module")
def real(default_model_path):
    return load_classifier(default_model_path)


def encoder_layers(model: torch.nn.Module) -> torch.nn.ModuleList:
    """The stack of transformer blocks: the longest ModuleList of num_hidden_layers blocks."""
    n = int(model.config.num_hidden_layers)
    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList) and len(m) == n]
    assert lists, "no encoder layer list found"
    return lists[0]


def head_modules(model: torch.nn.Module) -> list:
    """The classification head: everything outside the base model, plus a pooler."""
    base = getattr(model, model.base_model_prefix)
    outside = [m for name, m in model.named_children() if m is not base]
    pooler = getattr(base, "pooler", None)
    return outside + ([pooler] if pooler is not None else [])


def reinitialise(modules: list, std: float, seed: int) -> None:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for top in modules:
            for m in top.modules():
                if isinstance(m, torch.nn.Linear):
                    m.weight.copy_(torch.randn(m.weight.shape, generator=gen) * std)
                    if m.bias is not None:
                        m.bias.zero_()
                elif isinstance(m, torch.nn.LayerNorm):
                    m.weight.fill_(1.0)
                    m.bias.zero_()


def randomized(clf: Classifier, top_layers: int, seed: int = 0) -> Classifier:
    """A copy of ``clf`` with its head and its top ``top_layers`` encoder layers re-initialised."""
    model = copy.deepcopy(clf.model)
    layers = encoder_layers(model)
    chosen = head_modules(model) + list(layers)[len(layers) - top_layers :]
    reinitialise(chosen, float(getattr(model.config, "initializer_range", 0.02)), seed)
    return Classifier.from_objects(model, clf.tokenizer, source="randomized")


def rank_agreement(ref: list, other: list) -> dict:
    """Mean rank correlations between paired explanations' word scores."""
    out = {"spearman": [], "spearman_abs": [], "kendall": []}
    for a, b in zip(ref, other):
        x, y = [w.score for w in a.words], [w.score for w in b.words]
        out["spearman"].append(spearman(x, y))
        out["spearman_abs"].append(spearman([abs(v) for v in x], [abs(v) for v in y]))
        out["kendall"].append(kendall_tau(x, y))
    return {
        k: sum(v for v in vals if not math.isnan(v)) / max(1, sum(not math.isnan(v) for v in vals))
        for k, vals in out.items()
    }


@pytest.mark.slow
def test_model_randomization_changes_the_attributions(real):
    texts = RANDOMIZATION_SENTENCES
    trained = [explain(t, real) for t in texts]
    control = rank_agreement(trained, [explain(t, real, n_steps=16) for t in texts])
    print("\ncontrol (trained model, adaptive vs 16 fixed steps): " + _fmt(control))
    assert control["spearman"] > 0.9, control
    n_layers = len(encoder_layers(real.model))
    for top in range(n_layers + 1):
        clf = randomized(real, top)
        other = [explain(t, clf, target=e.target) for t, e in zip(texts, trained)]
        agree = rank_agreement(trained, other)
        print(f"randomized head + top {top} of {n_layers} layers: " + _fmt(agree))
        assert agree["spearman"] < 0.5, (top, agree)


@pytest.mark.slow
def test_comprehensiveness_beats_random_on_held_out_sentences(real):
    diffs, comp, rand, suff, rsuff = [], [], [], [], []
    for text in SENTENCES:
        f = explain(text, real, faithfulness=True).extras.faithfulness
        comp.append(f.comprehensiveness)
        rand.append(f.random.comprehensiveness)
        suff.append(f.sufficiency)
        rsuff.append(f.random.sufficiency)
        diffs.append(comp[-1] - rand[-1])
    n = len(diffs)
    mean = sum(diffs) / n
    sem = math.sqrt(sum((d - mean) ** 2 for d in diffs) / (n - 1) / n)
    print(
        f"\n{n} held-out sentences: AOPC comprehensiveness {sum(comp) / n:.4f} vs random {sum(rand) / n:.4f} "
        f"(difference {mean:.4f} +- {sem:.4f} s.e.; explanation ahead on {sum(d > 0 for d in diffs)}/{n}); "
        f"sufficiency {sum(suff) / n:.4f} vs random {sum(rsuff) / n:.4f} (lower is better)"
    )
    assert mean > 0 and mean > 2 * sem, (mean, sem)


def _fmt(d: dict) -> str:
    return ", ".join(f"{k} {v:.3f}" for k, v in d.items())
