"""Speed at equal accuracy, per model, and the wait on a BERT-base-sized model:

    python -m benchmarks.speed [--models default,topic-tiny,bert-base] [--texts 20]
        [--repeats 5] [--before REF] [--profile 40] [--big-repeats 1]

Everything timed runs in ONE process, one thread (torch.set_num_threads(1)), no result
cache, interleaved (round-robin over the methods, per text, ``--repeats`` times; the
median per text). Ratios of medians measured that way hold on a busy machine; absolute
milliseconds do not (this machine's 2 cores are shared), so read them as rough.

Methods, per text:

* engine: ``explain_loaded(clf, text)`` with the defaults (adaptive; completeness 1%,
  word estimate 0.1; precision "auto");
* before (``--before REF``): the same call on the engine as committed at REF, loaded
  side by side as the package ``explain_before`` (``git archive``), on the same model;
* captum50: what a Captum user writes (``benchmarks.cells``): a prediction pass, then
  ``LayerIntegratedGradients`` on ``get_input_embeddings()``, 50 Gauss-Legendre steps in
  one batch, the same mask baseline and predicted logit;
* captumK: the same with K steps, K the fewest that meet the same bounds as the engine
  on every text of the model (found here, below): speed at equal accuracy;
* forward: one plain forward pass (batch 1, no gradient), the unit "x fwd".

Accuracy: the word scores of a ``--reference``-node Gauss-Legendre rule on the same path
(1024 nodes; 32 on the BERT-base-sized model, whose random weights make the path nearly
linear) are the truth. Word error = relative L2 distance of a method's word scores to
them; completeness error as the engine reports it (path-matched). The bounds: word
error <= 2% and completeness <= 1% on every text. K is found with the engine's fixed
rule (``n_steps=K``: Captum's own numbers to ~1e-7, ``tests/engine``), trying K = 2, 3, ...

Models: "default" (the bundled, trained examples/minilm-rt-sentiment; real held-out
sentences), "topic-tiny" (a BERT of 2 layers x 128, 27 labels, random weights, saved with
a slow Python tokenizer: built here, offline, into ``--cache``; its shortest sentences),
"bert-base" (12 layers x 768, random weights, the bundled WordPiece vocabulary; texts of
128 and 512 tokens: the wait of a CPU Space visitor, before and after, with the time to
the first answer sent early (``draft=``) and the first-load calibration).

The summary lines (``SUMMARY ...``) at the end are what the docs quote.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib
import importlib.util
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "examples" / "minilm-rt-sentiment"
WORD_BOUND, COMPLETENESS_BOUND = 0.02, 0.01
TOPIC_LABELS = [
    "arts",
    "business",
    "cars",
    "celebrity",
    "climate",
    "comedy",
    "crime",
    "education",
    "energy",
    "fashion",
    "film",
    "finance",
    "food",
    "gaming",
    "health",
    "history",
    "law",
    "music",
    "politics",
    "religion",
    "science",
    "space",
    "sports",
    "technology",
    "travel",
    "war",
    "weather",
]


# --- models ---------------------------------------------------------------------------------


def build_topic_tiny(folder: Path) -> Path:
    """A 27-label BERT of 2 layers x 128 (random weights, seed 0) saved with a slow
    (Python) WordPiece tokenizer over the bundled model's vocabulary."""
    if (folder / "config.json").is_file():
        return folder
    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerLegacy

    folder.mkdir(parents=True, exist_ok=True)
    vocab = list(json.loads((DEFAULT_MODEL / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"])
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    BertTokenizerLegacy(str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512).save_pretrained(folder)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=128,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=512,
        num_labels=len(TOPIC_LABELS),
        id2label=dict(enumerate(TOPIC_LABELS)),
        label2id={name: i for i, name in enumerate(TOPIC_LABELS)},
    )
    torch.manual_seed(0)
    BertForSequenceClassification(cfg).save_pretrained(folder)
    return folder


def build_tiny_trained(folder: Path, vader: str) -> Path:
    """A tiny BERT (2 layers x 192, slow WordPiece tokenizer, two labels): word embeddings
    copied from the bundled model, the rest trained from scratch (seed 0, 4 epochs) on the
    training part of the Rotten Tomatoes snippets in the vaderSentiment 3.3.2 sdist
    (``--vader``; the split of examples/train_default_model.py, whose held-out part holds
    the benchmark's sentences)."""
    if (folder / "config.json").is_file():
        return folder
    import random

    from transformers import BertConfig, BertForSequenceClassification, BertTokenizerLegacy

    spec = importlib.util.spec_from_file_location("train_default_model", ROOT / "examples" / "train_default_model.py")
    trainer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(trainer)
    corpora, _ = trainer.read_vader(trainer.find_sdist(vader, Path(tempfile.gettempdir())))
    train, held = trainer.split_ids(corpora["movie"], 42)
    folder.mkdir(parents=True, exist_ok=True)
    vocab = list(json.loads((DEFAULT_MODEL / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"])
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    slow = BertTokenizerLegacy(str(folder / "vocab.txt"), do_lower_case=True, model_max_length=512)
    from explain.engine.classifier import fast_twin

    tok = fast_twin(slow)
    cfg = BertConfig(
        vocab_size=len(vocab),
        hidden_size=192,
        num_hidden_layers=2,
        num_attention_heads=3,
        intermediate_size=768,
        num_labels=2,
        id2label={0: "negative", 1: "positive"},
        label2id={"negative": 0, "positive": 1},
    )
    torch.manual_seed(0)
    model = BertForSequenceClassification(cfg)
    from transformers import AutoModelForSequenceClassification

    bundled = AutoModelForSequenceClassification.from_pretrained(DEFAULT_MODEL, dtype=torch.float32)
    with torch.no_grad():
        model.get_input_embeddings().weight.copy_(bundled.get_input_embeddings().weight)
    del bundled
    opt = torch.optim.AdamW(model.parameters(), lr=2e-4, weight_decay=0.01)
    rng = random.Random(0)
    for _ in range(4):
        model.train()
        order = list(range(len(train)))
        rng.shuffle(order)
        for b in range(0, len(order), 32):
            batch = [train[i] for i in order[b : b + 32]]
            enc = tok([t for t, _ in batch], padding=True, truncation=True, max_length=64, return_tensors="pt")
            loss = model(**enc, labels=torch.tensor([y for _, y in batch])).loss
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    right = 0
    with torch.no_grad():
        for b in range(0, len(held), 128):
            batch = held[b : b + 128]
            enc = tok([t for t, _ in batch], padding=True, truncation=True, max_length=64, return_tensors="pt")
            right += int((model(**enc).logits.argmax(-1) == torch.tensor([y for _, y in batch])).sum())
    print(f"tiny-trained: held-out accuracy {right / len(held):.1%} ({len(held)} snippets)", flush=True)
    slow.save_pretrained(folder)
    model.save_pretrained(folder)
    return folder


def bert_base():
    """(model, tokenizer): BERT-base-sized (12 x 768, 110M parameters), random weights
    (seed 0), two labels, the bundled WordPiece tokenizer."""
    from transformers import AutoTokenizer, BertConfig, BertForSequenceClassification

    tok = AutoTokenizer.from_pretrained(DEFAULT_MODEL)
    torch.manual_seed(0)
    model = BertForSequenceClassification(
        BertConfig(
            vocab_size=len(tok),
            num_labels=2,
            id2label={0: "negative", 1: "positive"},
            label2id={"negative": 0, "positive": 1},
        )
    ).eval()
    return model, tok


def before_package(ref: str):
    """The ``explain`` package as committed at ``ref``, importable as ``explain_before``."""
    dest = Path(tempfile.mkdtemp(prefix="explain-before-"))
    blob = subprocess.run(["git", "archive", ref, "explain"], cwd=ROOT, check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(blob)) as tar:
        tar.extractall(dest, filter="data")
    (dest / "explain").rename(dest / "explain_before")
    sys.path.insert(0, str(dest))
    return importlib.import_module("explain_before")


class Model:
    """One model, wrapped by this tree's engine (and the ``before`` one), and its texts."""

    def __init__(self, name: str, args, before) -> None:
        from explain import load_classifier
        from explain.engine import Classifier

        self.name = name
        self.before = None
        if name == "default":
            self.clf = load_classifier(DEFAULT_MODEL)
        elif name == "topic-tiny":
            self.clf = load_classifier(build_topic_tiny(Path(args.cache) / "topic-tiny"))
        elif name == "tiny-trained":
            self.clf = load_classifier(build_tiny_trained(Path(args.cache) / "tiny-trained", args.vader))
        elif name == "bert-base":
            model, tok = bert_base()
            self.clf = Classifier.from_objects(model, tok, source="bert-base (random weights)")
        else:
            raise SystemExit(f"unknown model {name!r}")
        for p in self.clf.model.parameters():
            p.requires_grad_(False)
        if before is not None:  # the same model object and (fast) tokenizer
            self.before = before.engine.Classifier.from_objects(self.clf.model, self.clf.tokenizer, source=self.clf.source)
        self.texts = texts_for(name, self.clf.tokenizer, args.texts)
        self.reference_nodes = args.big_reference if name == "bert-base" else args.reference


def sentences() -> list:
    path = ROOT / "benchmarks" / "data" / "rt_sentences.json"
    return [d["text"] for d in json.loads(path.read_text(encoding="utf-8"))["sentences"]]


def texts_for(name: str, tok, n: int) -> list:
    real = sentences()
    if name in ("default", "tiny-trained"):
        return real[:n]
    if name == "topic-tiny":
        return sorted(real, key=lambda t: (len(tok(t)["input_ids"]), t))[:n]
    words = " ".join(real).split()
    out = []
    for want in (128, 512):  # the real sentences, word by word, up to this many tokens
        lo, hi = 1, len(words)
        while lo < hi:  # the most words that tokenize to at most ``want`` tokens
            mid = (lo + hi + 1) // 2
            if len(tok(" ".join(words[:mid]), verbose=False)["input_ids"]) <= want:
                lo = mid
            else:
                hi = mid - 1
        out.append(" ".join(words[:lo]))
    return out


# --- accuracy -------------------------------------------------------------------------------


def word_vector(expl) -> torch.Tensor:
    return torch.tensor([w.score for w in expl.words], dtype=torch.float64)


def word_error(mine: torch.Tensor, ref: torch.Tensor) -> float:
    return float((mine - ref).norm() / ref.norm().clamp_min(1e-12))


def equal_accuracy_steps(m: Model, refs: list, targets: list, most: int = 96) -> tuple:
    """The fewest Gauss-Legendre nodes K meeting both bounds on every text, and per text its
    (word error, completeness error) at K."""
    from explain.engine.run import Options, explain_loaded

    for k in list(range(2, 33)) + list(range(34, most + 1, 2)):
        got = []
        for text, ref, target in zip(m.texts, refs, targets):
            e = explain_loaded(m.clf, text, Options(n_steps=k, target=target))
            got.append((word_error(word_vector(e), ref), e.completeness_error))
            if got[-1][0] > WORD_BOUND or got[-1][1] > COMPLETENESS_BOUND:
                break
        else:
            return k, got
    return None, []


def captum_words(m: Model, text: str, attr: torch.Tensor) -> torch.Tensor:
    from explain.engine.words import word_scores
    from explain.result import TokenScore

    enc = m.clf.tokenizer(text, return_offsets_mapping=True, return_special_tokens_mask=True)
    tokens = [
        TokenScore(i, "", 0, s, e, float(v), bool(sp))
        for i, ((s, e), sp, v) in enumerate(zip(enc["offset_mapping"], enc["special_tokens_mask"], attr.tolist()))
    ]
    return torch.tensor([w.score for w in word_scores(text, tokens)], dtype=torch.float64)


def captum_runner(m: Model, text: str, steps: int):
    """What a Captum user writes (``benchmarks.cells.captum_lig``): predict, then LIG on the
    word embeddings (one batch)."""
    from benchmarks.cells import captum_lig
    from explain.engine import reference_token

    _, _, ref_id = reference_token(m.clf, "auto")
    return lambda: captum_lig(m.clf, text, ref_id, steps)[1].detach()


# --- timing ---------------------------------------------------------------------------------


def interleaved(runs: dict, repeats: int) -> dict:
    """Median seconds per method, timed round-robin ``repeats`` times (after one warm-up)."""
    for fn in runs.values():
        fn()
    times = {k: [] for k in runs}
    for _ in range(repeats):
        for k, fn in runs.items():
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return {k: statistics.median(v) for k, v in times.items()}


def spread(values: list, fmt: str = "{:.2f}") -> str:
    vals = sorted(values)
    return f"{fmt.format(statistics.median(vals))} [{fmt.format(vals[0])}-{fmt.format(vals[-1])}]"


def small_model(m: Model, args, out: list) -> None:
    """Accuracy and equal-accuracy speed on a small model, text by text."""
    from explain.engine.run import Options, explain_loaded

    clf = m.clf
    refs, targets, engine = [], [], []
    for text in m.texts:
        e = explain_loaded(clf, text)
        ref = explain_loaded(clf, text, Options(n_steps=m.reference_nodes, target=e.target))
        refs.append(word_vector(ref))
        targets.append(e.target)
        engine.append(e)
    errors = [word_error(word_vector(e), r) for e, r in zip(engine, refs)]
    ratio = [e.word_error / max(w, 1e-12) for e, w in zip(engine, errors) if e.word_error is not None]
    k, at_k = equal_accuracy_steps(m, refs, targets)
    print(
        f"{m.name}: {len(m.texts)} texts; engine word error {spread(errors, '{:.2%}')}, completeness "
        f"{spread([e.completeness_error for e in engine], '{:.2e}')}, rows {spread([e.steps for e in engine], '{:g}')}, "
        f"passes {spread([sum(w.rounds for w in e.windows) for e in engine], '{:g}')}; estimate / true word error "
        f"{spread(ratio, '{:.1f}')}x; Captum GL meets the bounds on every text from K = {k}",
        flush=True,
    )
    if not args.timing:
        out.append(
            f"SUMMARY {m.name} accuracy ({len(m.texts)} texts vs a {m.reference_nodes}-node rule): engine word "
            f"error {spread(errors, '{:.2%}')}, estimate / true word error {spread(ratio, '{:.1f}')}x, rows "
            f"{spread([e.steps for e in engine], '{:g}')}; Captum GL meets both bounds on every text from K = {k}"
        )
        return
    c50_err = []
    rows = []
    for i, text in enumerate(m.texts):
        runs = {"engine": lambda text=text: explain_loaded(clf, text), "captum50": captum_runner(m, text, 50)}
        if k:
            runs[f"captum{k}"] = captum_runner(m, text, k)
        if m.before is not None:
            from explain_before.engine.run import explain_loaded as before_loaded

            runs["before"] = lambda text=text: before_loaded(m.before, text)
        enc = clf.tokenizer(text, return_tensors="pt")

        def forward(enc=enc):
            with torch.no_grad():
                return clf.model(**enc).logits

        runs["forward"] = forward
        c50_err.append(word_error(captum_words(m, text, runs["captum50"]()), refs[i]))
        med = interleaved(runs, args.repeats)
        rows.append(med)
        print(
            json.dumps(
                {
                    "model": m.name,
                    "text": i,
                    "tokens": int(enc["input_ids"].shape[1]),
                    **{f"{key}_ms": round(v * 1e3, 3) for key, v in med.items()},
                    "engine_rows": engine[i].steps,
                    "engine_word_error": round(errors[i], 6),
                }
            ),
            flush=True,
        )
    vs50 = [r["captum50"] / r["engine"] for r in rows]
    lengths = [len(clf.tokenizer(t)["input_ids"]) for t in m.texts]
    line = f"SUMMARY {m.name} ({len(m.texts)} texts, {spread(lengths, '{:g}')} tokens): engine vs Captum-50 {spread(vs50)}x"
    if k:
        vsk = [r[f"captum{k}"] / r["engine"] for r in rows]
        line += f"; vs Captum-GL-{k} (equal accuracy) {spread(vsk)}x"
    else:
        line += "; no Captum GL rule up to 96 nodes met both bounds on every text"
    if m.before is not None:
        line += f"; engine now vs before {spread([r['before'] / r['engine'] for r in rows])}x"
    line += (
        f". Engine: {spread([r['engine'] * 1e3 for r in rows], '{:.1f}')} ms, rows "
        f"{spread([e.steps for e in engine], '{:g}')}, worst word error {max(errors):.2%}, worst completeness "
        f"{max(e.completeness_error for e in engine):.2e}, estimate/true word error median "
        f"{statistics.median(ratio):.0f}x (min {min(ratio):.1f}x). Captum-50 worst word error {max(c50_err):.3%}"
        + (f"; Captum-GL-{k} worst word error {max(w for w, _ in at_k):.2%}" if k else "")
    )
    out.append(line)


def big_model(m: Model, args, out: list) -> None:
    """The wait on the BERT-base-sized model: before vs now (precision "auto", and the other
    precision forced), the first answer sent early, and the first-load calibration."""
    from explain.engine import precision, prior
    from explain.engine.run import Options, explain_loaded

    clf = m.clf
    t0 = time.perf_counter()
    prior.first_nodes(clf)
    calib = time.perf_counter() - t0
    t0 = time.perf_counter()
    auto = precision.choose_precision(clf, "auto", Options().tolerance)
    check = time.perf_counter() - t0
    word, added = clf.memo.get(precision.MEMO_KEY, (None, None))
    line_calib = f"first-load calibration now {calib:.1f} s ({len(prior.first_nodes(clf))} first-round nodes)" + (
        f" + bfloat16 check {check:.1f} s (probes: word error {word:.2%}, completeness "
        f"+{added:.2%}; {'used' if auto else 'not used'})"
        if word is not None
        else ""
    )
    if m.before is not None:
        from explain_before.engine import prior as before_prior

        t0 = time.perf_counter()
        before_prior.first_nodes(m.before)
        line_calib += f"; before {time.perf_counter() - t0:.1f} s ({len(before_prior.first_nodes(m.before))} nodes)"
    other = "float32" if auto is not None else "bfloat16"
    for text in m.texts:
        n = int(clf.tokenizer(text, return_tensors="pt")["input_ids"].shape[1])
        first: list = []

        def after(text=text, first=first):
            t = time.perf_counter()
            return explain_loaded(clf, text, draft=lambda d: first.append((time.perf_counter() - t, d)))

        runs = {"now": after, other: lambda text=text: explain_loaded(clf, text, precision=other)}
        if m.before is not None:
            from explain_before.engine.run import explain_loaded as before_loaded

            runs["before"] = lambda text=text: before_loaded(m.before, text)
        got = {k: fn() for k, fn in runs.items()}  # also the warm-up
        ref = explain_loaded(clf, text, Options(n_steps=m.reference_nodes, target=got["now"].target))
        errs = {k: word_error(word_vector(e), word_vector(ref)) for k, e in got.items()}
        times: dict = {k: [] for k in runs}
        drafts = []
        for _ in range(args.big_repeats):
            for k, fn in runs.items():
                first.clear()
                t = time.perf_counter()
                fn()
                times[k].append(time.perf_counter() - t)
                if k == "now" and first:
                    drafts.append(first[0][0])
        med = {k: statistics.median(v) for k, v in times.items()}
        a, b = got["now"], got[other]
        print(
            json.dumps(
                {
                    "model": m.name,
                    "tokens": n,
                    **{f"{k}_s": round(v, 2) for k, v in med.items()},
                    "first_answer_s": round(statistics.median(drafts), 2) if drafts else None,
                    "rows": {k: e.steps for k, e in got.items()},
                    "dtype": a.dtype,
                    "word_error": {k: round(v, 5) for k, v in errs.items()},
                }
            ),
            flush=True,
        )
        line = (
            f"SUMMARY bert-base {n} tokens (1 thread, {args.big_repeats} run(s)): wait now {med['now']:.1f} s "
            f"({a.dtype}, {a.steps} rows, word error {errs['now']:.2%}, completeness {a.completeness_error:.1e})"
        )
        if drafts:
            line += f", first answer at {statistics.median(drafts):.1f} s"
        line += (
            f"; {other} forced {med[other]:.1f} s ({b.steps} rows, word error {errs[other]:.2%}, completeness "
            f"{b.completeness_error:.1e})"
        )
        if m.before is not None:
            line += (
                f"; before {med['before']:.1f} s ({got['before'].steps} rows, word error {errs['before']:.2%}): "
                f"now {med['before'] / med['now']:.2f}x shorter"
            )
        out.append(line)
    out.append(f"SUMMARY bert-base: {line_calib}")


# --- where a call's fixed milliseconds go ---------------------------------------------------

BUCKETS = (  # (name, test on a profile entry's file and function name), first match wins
    ("backward", lambda f, fn: "run_backward" in fn or "/autograd/" in f),
    ("tokenizer", lambda f, fn: "tokeniz" in f or "tokeniz" in fn or "encode_batch" in fn),
    (
        "model forward",
        lambda f, fn: (
            "/transformers/" in f
            or "/torch/nn/" in f
            or "torch._C._nn" in fn
            or any(op in fn for op in ("layer_norm", "torch.embedding", "scaled_dot", "dropout", "torch.tanh"))
        ),
    ),
    ("quadrature", lambda f, fn: "engine/quadrature.py" in f or "/numpy/" in f or "numpy" in fn),
    ("path rows and hooks", lambda f, fn: any(x in f for x in ("engine/path.py", "engine/sites.py"))),
    (
        "result (tokens, words)",
        lambda f, fn: any(x in f for x in ("engine/run.py", "engine/words.py", "result.py", "/regex/", "engine/heads.py")),
    ),
    ("torch ops (engine)", lambda f, fn: "torch" in fn or "Tensor" in fn or "/torch/" in f),
)


def profile(m: Model, n: int, out: list) -> None:
    """Own time (cProfile ``tottime``) of ``n`` engine calls on the model's shortest text,
    bucketed; the profiler inflates Python-heavy parts, so shares matter more than ms."""
    from explain.engine.run import explain_loaded

    text = min(m.texts, key=len)
    for _ in range(3):
        explain_loaded(m.clf, text)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        explain_loaded(m.clf, text)
    prof.disable()
    stats = pstats.Stats(prof).stats
    sums = {name: 0.0 for name, _ in BUCKETS}
    sums["other"] = 0.0
    for (file, _, fn), (_, _, tottime, _, _) in stats.items():
        name = next((b for b, test in BUCKETS if test(file, fn)), "other")
        sums[name] += tottime
    total = sum(sums.values())
    parts = ", ".join(f"{k} {v / n * 1e3:.2f} ms ({v / total:.0%})" for k, v in sums.items())
    out.append(
        f"PROFILE {m.name} ({n} calls, {len(m.clf.tokenizer(text)['input_ids'])} tokens, under cProfile "
        f"{total / n * 1e3:.1f} ms/call): {parts}"
    )


def main(argv=None) -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    p = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    p.add_argument("--models", default="default,topic-tiny,bert-base")
    p.add_argument("--texts", type=int, default=20, help="texts per small model")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--big-repeats", type=int, default=1)
    p.add_argument("--reference", type=int, default=1024)
    p.add_argument("--big-reference", type=int, default=32)
    p.add_argument("--before", default=None, help="a git ref: time the engine as committed there, side by side")
    p.add_argument("--profile", type=int, default=40, help="engine calls profiled per small model (0: none)")
    p.add_argument(
        "--no-timing",
        dest="timing",
        action="store_false",
        help="small models: accuracy only (word error, the estimate's ratio to it, K)",
    )
    p.add_argument("--cache", default=os.path.join(tempfile.gettempdir(), "explain-bench-models"))
    p.add_argument("--vader", default=None, help="tiny-trained: the vaderSentiment 3.3.2 sdist (else pip downloads it)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    before = before_package(args.before) if args.before else None
    print(
        f"torch {torch.__version__}, 1 thread, CPU; repeats {args.repeats}; reference {args.reference} nodes "
        f"(bert-base {args.big_reference}); bounds: word error <= {WORD_BOUND:.0%}, completeness <= "
        f"{COMPLETENESS_BOUND:.0%}" + (f"; before = {args.before}" if args.before else ""),
        flush=True,
    )
    out: list = []
    for name in args.models.split(","):
        m = Model(name, args, before)
        if name == "bert-base":
            big_model(m, args, out)
        else:
            small_model(m, args, out)
            if args.profile and args.timing:
                profile(m, args.profile, out)
        with contextlib.suppress(Exception):
            del m
    print()
    print("\n".join(out))


if __name__ == "__main__":
    main()
