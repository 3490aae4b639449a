"""Log-odds against the raw logit: which explained quantity moves with the probability shown?

    python -m benchmarks.quantity [--texts 120] [--cache /tmp/explain-quantity] [--json out.json]

Issue 21 point 10: for a softmax head the target's raw logit can rise while its
probability falls (another label's logit rises more). The engine explains by default the
target's log-odds, log(p / (1 - p)) = logit_t - logsumexp(other logits), which rises
exactly when p does; ``output="logit"`` keeps the raw logit. This script measures both on
real classifiers with 2, 3, 5 and 8 labels.

Models (built offline, cached under ``--cache`` by a hash of their inputs, never committed):

* ``sentiment-2``: the bundled ``examples/minilm-rt-sentiment`` as it is (a fine-tuned
  MiniLM, 3 layers, 2 labels);
* ``rating-3``, ``rating-5``, ``topic-8``: the same encoder, frozen, with a new head
  (pooler + classifier, 192 -> 192 -> K) trained on its [CLS] states of the real rated
  snippets of the vaderSentiment 3.3.2 sdist (movie reviews, tweets, Amazon reviews, NYT
  editorials; each rating is the mean of ~20 people's, -4..4): bins of the rating (3 and 5
  labels) and corpus x sign of the rating (8 labels). The split is the bundled model's
  (``examples/train_default_model.py`` ``split_ids``, seed 42, per corpus), so the
  held-out movie snippets are ones the encoder never trained on either; ratings of exactly
  0 are dropped (as there). Saved as plain ``BertForSequenceClassification`` folders.

Measured, per model:

1. On every held-out snippet and every label, from forward passes (the text, and the
   baseline: each non-special token replaced by [MASK], the point the path starts from):
   how often the change of the raw logit and of the log-odds has the other sign than the
   change of that label's probability ("disagree"), and how often with a probability move
   of 5 points or more.
2. On ``--texts`` held-out snippets, every label explained with ``explain.explain(...,
   output="logit")`` and with the default (log-odds): the same count from the
   explanations' own ``f_input``/``f_baseline``; checks that sigmoid(f_baseline) is the
   baseline's probability and sigmoid(f_input) the shown one (log-odds) and that
   f_input/f_baseline are the logits of those forward passes (raw logit); the word
   rankings' agreement between the two quantities (Spearman, top-3 overlap by |score|);
   the completeness error and word-error estimate of both.

CPU, one thread, fixed seeds; the same numbers on every run. Measured on 2 busy shared
cores: 10 minutes the first time (pip download of the sdist, the encoder's states of
23,239 snippets, three heads: ~3 minutes), 6.5 minutes once the models are cached."""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import math
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Optional

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import torch

ROOT = Path(__file__).resolve().parent.parent
BUNDLED = ROOT / "examples" / "minilm-rt-sentiment"
BUILD_VERSION = "2"  # bump when the way the heads are built changes: the cache key includes it
SEED = 42
SPLIT_SEED = 42  # the bundled model's own split (examples/train_default_model.py)
MOVE = 0.05  # a probability move a reader notices: 5 points
TIE = 1e-6  # changes smaller than this have no sign

RATING3 = ("negative", "neutral", "positive")
RATING5 = ("very negative", "negative", "neutral", "positive", "very positive")
CORPORA = ("movie", "tweets", "amazon", "nyt")


def rating3(rating: float) -> int:
    """Mean rating -> negative (<= -1), neutral (between), positive (>= 1)."""
    return 0 if rating <= -1 else 2 if rating >= 1 else 1


def rating5(rating: float) -> int:
    """Mean rating -> very negative (<= -2), negative (<= -0.5), neutral, positive (>= 0.5),
    very positive (>= 2)."""
    if rating <= -2:
        return 0
    if rating <= -0.5:
        return 1
    if rating < 0.5:
        return 2
    return 3 if rating < 2 else 4


TASKS = {
    "rating-3": (RATING3, lambda corpus, rating: rating3(rating)),
    "rating-5": (RATING5, lambda corpus, rating: rating5(rating)),
    "topic-8": (
        tuple(f"{c} {s}" for c in CORPORA for s in ("negative", "positive")),
        lambda corpus, rating: 2 * CORPORA.index(corpus) + int(rating > 0),
    ),
}


def log(*args) -> None:
    print(f"[{time.strftime('%H:%M:%S')}]", *args, file=sys.stderr, flush=True)


def trainer():
    """examples/train_default_model.py as a module: its sdist reader and its split."""
    spec = importlib.util.spec_from_file_location("train_default_model", ROOT / "examples" / "train_default_model.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def fetch_sdist(data: Optional[str], cache: Path) -> Path:
    """The vaderSentiment 3.3.2 sdist: ``data`` (the file or a folder holding it), else a copy
    in ``cache``, fetched with ``pip download`` the first time (pip's output to stderr)."""
    if data:
        return trainer().find_sdist(data, cache)
    target = cache / "sdist"
    path = target / "vaderSentiment-3.3.2.tar.gz"
    if not path.is_file():
        log(f"pip download vaderSentiment==3.3.2 (source) -> {target}")
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "--no-deps",
                "--no-binary",
                ":all:",
                "vaderSentiment==3.3.2",
                "-d",
                str(target),
            ],
            stdout=sys.stderr,
        )
        if done.returncode != 0 or not path.is_file():
            raise SystemExit(
                "Could not fetch the vaderSentiment 3.3.2 source package with pip. Download "
                "vaderSentiment-3.3.2.tar.gz elsewhere and pass --data PATH."
            )
    return path


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


# --- data ----------------------------------------------------------------------------------


def snippets(sdist: Path) -> tuple:
    """(train, held) lists of (corpus, text, rating): the bundled model's split of each
    corpus (ratings of 0 dropped, as there); a text rated twice keeps its first rating."""
    tdm = trainer()
    corpora, _ = tdm.read_vader(sdist)
    train, held = [], []
    for corpus in CORPORA:
        rows = corpora[corpus]
        rating = {}
        for _, r, text in rows:
            rating.setdefault(text, r)
        part_train, part_held = tdm.split_ids(rows, seed=SPLIT_SEED)
        seen = set()
        for part, out in ((part_held, held), (part_train, train)):
            for text, _ in part:
                if text in seen or rating[text] == 0:
                    continue  # a duplicate text lands once, held-out first
                seen.add(text)
                out.append((corpus, text, rating[text]))
    return train, held


# --- the encoder's [CLS] states and the heads ------------------------------------------------


def load_model(folder: Path):
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(str(folder))
    model = AutoModelForSequenceClassification.from_pretrained(str(folder), dtype=torch.float32)
    model.eval()
    return model, tok


@torch.no_grad()
def cls_states(model, tok, texts: list, batch: int = 64) -> torch.Tensor:
    """The encoder's last hidden state at [CLS] for each text (length-sorted batches)."""
    out = torch.zeros(len(texts), model.config.hidden_size)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for start in range(0, len(order), batch):
        ids = order[start : start + batch]
        enc = tok([texts[i] for i in ids], padding=True, truncation=True, return_tensors="pt")
        out[ids] = model.bert(**enc).last_hidden_state[:, 0].float()
    return out


@torch.no_grad()
def baseline_states(model, tok, lengths: set) -> dict:
    """[CLS] state of the baseline of each token length: [CLS] + [MASK] * (n - 2) + [SEP]."""
    out = {}
    for n in sorted(lengths):
        ids = torch.tensor([[tok.cls_token_id] + [tok.mask_token_id] * (n - 2) + [tok.sep_token_id]])
        out[n] = model.bert(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state[0, 0].float()
    return out


class Head(torch.nn.Module):
    """BertForSequenceClassification's head: pooler (dense + tanh) then classifier."""

    def __init__(self, pooler: torch.nn.Linear, labels: int):
        super().__init__()
        self.pooler = torch.nn.Linear(pooler.in_features, pooler.out_features)
        self.pooler.load_state_dict(pooler.state_dict())
        self.classifier = torch.nn.Linear(pooler.out_features, labels)
        torch.nn.init.normal_(self.classifier.weight, std=0.02)
        torch.nn.init.zeros_(self.classifier.bias)

    def forward(self, cls: torch.Tensor) -> torch.Tensor:
        return self.classifier(torch.tanh(self.pooler(cls)))


def train_head(pooler, x: torch.Tensor, y: torch.Tensor, labels: int, epochs: int = 40) -> tuple:
    """Minibatch AdamW (batch 128), fixed seed; a seeded 10% of the training rows picks the
    epoch kept (the lowest loss on them). Returns (head, epoch kept)."""
    torch.manual_seed(SEED)
    head = Head(pooler, labels)
    gen = torch.Generator().manual_seed(SEED)
    order = torch.randperm(len(y), generator=gen)
    x, y = x[order], y[order]
    n_val = max(1, len(y) // 10)
    xt, yt, xv, yv = x[:-n_val], y[:-n_val], x[-n_val:], y[-n_val:]
    opt = torch.optim.AdamW(head.parameters(), lr=3e-3, weight_decay=1e-2)
    best, best_epoch, best_state = float("inf"), -1, None
    for epoch in range(epochs):
        head.train()
        for idx in torch.randperm(len(yt), generator=gen).split(128):
            opt.zero_grad()
            torch.nn.functional.cross_entropy(head(xt[idx]), yt[idx]).backward()
            opt.step()
        head.eval()
        with torch.no_grad():
            val = float(torch.nn.functional.cross_entropy(head(xv), yv))
        if val < best:
            best, best_epoch, best_state = val, epoch, {k: v.clone() for k, v in head.state_dict().items()}
    head.load_state_dict(best_state)
    return head, best_epoch + 1


def accuracy(logits: torch.Tensor, y: torch.Tensor) -> dict:
    pred = logits.argmax(-1)
    k = logits.shape[1]
    recall = [float((pred[y == c] == c).float().mean()) if bool((y == c).any()) else float("nan") for c in range(k)]
    return {
        "n": len(y),
        "accuracy": float((pred == y).float().mean()),
        "majority": float(torch.bincount(y, minlength=k).max()) / len(y),
        "macro_recall": sum(r for r in recall if r == r) / sum(1 for r in recall if r == r),
    }


def build(cache: Path, sdist: Path) -> dict:
    """The four models' folders and what is known of them: {name: {...}}. Rebuilt only when
    the encoder, the data or BUILD_VERSION change (the key of ``cache``'s subfolder)."""
    inputs = f"{sha256_file(BUNDLED / 'model.safetensors')}:{sha256_file(sdist)}"
    key = hashlib.sha256(f"{BUILD_VERSION}:{inputs}".encode()).hexdigest()[:16]
    home = cache / key
    manifest = home / "manifest.json"
    if manifest.is_file():
        log(f"models cached in {home}")
        return json.loads(manifest.read_text())
    t0 = time.time()
    train, held = snippets(sdist)
    encoder, tok = load_model(BUNDLED)
    states = cache / f"states-{hashlib.sha256(inputs.encode()).hexdigest()[:16]}.pt"
    if states.is_file():
        x_train, x_held, x_base = torch.load(states)
    else:
        log(f"{len(train)} training and {len(held)} held-out snippets; [CLS] states of all of them ...")
        x_train = cls_states(encoder, tok, [t for _, t, _ in train])
        x_held = cls_states(encoder, tok, [t for _, t, _ in held])
        lengths = [len(tok(t, truncation=True)["input_ids"]) for _, t, _ in held]
        base = baseline_states(encoder, tok, set(lengths))
        x_base = torch.stack([base[n] for n in lengths])
        cache.mkdir(parents=True, exist_ok=True)
        torch.save((x_train, x_held, x_base), states)
        log(f"states in {time.time() - t0:.0f} s")
    models = {}
    own = Head(encoder.bert.pooler.dense, encoder.config.num_labels)
    own.classifier.load_state_dict(encoder.classifier.state_dict())
    movie = [i for i, (c, _, _) in enumerate(held) if c == "movie"]
    y_movie = torch.tensor([int(held[i][2] > 0) for i in movie])
    with torch.no_grad():
        models["sentiment-2"] = {
            "folder": str(BUNDLED),
            "labels": list(encoder.config.id2label[i] for i in range(2)),
            "trained_on": "the bundled checkpoint as it is (fine-tuned and distilled on 80% of the movie snippets)",
            "held_out": "movie",
            "train_n": None,
            "accuracy": accuracy(own(x_held[movie]), y_movie),
            "rows": movie,
            "text_logits": own(x_held[movie]).tolist(),
            "base_logits": own(x_base[movie]).tolist(),
        }
    for name, (labels, label_of) in TASKS.items():
        t1 = time.time()
        y_train = torch.tensor([label_of(c, r) for c, _, r in train])
        y_held = torch.tensor([label_of(c, r) for c, _, r in held])
        head, epochs = train_head(encoder.bert.pooler.dense, x_train, y_train, len(labels))
        folder = home / name
        save(encoder, tok, head, labels, folder)
        with torch.no_grad():
            models[name] = {
                "folder": str(folder),
                "labels": list(labels),
                "held_out": "all corpora",
                "trained_on": "pooler + classifier on the frozen encoder's [CLS] states",
                "train_n": len(train),
                "epochs": epochs,
                "train_counts": torch.bincount(y_train, minlength=len(labels)).tolist(),
                "accuracy": accuracy(head(x_held), y_held),
                "rows": list(range(len(held))),
                "text_logits": head(x_held).tolist(),
                "base_logits": head(x_base).tolist(),
            }
        log(f"{name}: head trained in {time.time() - t1:.0f} s, held-out {models[name]['accuracy']}")
    data = {"key": key, "held": held, "models": models, "build_s": round(time.time() - t0, 1)}
    home.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(data))
    return data


def save(encoder, tok, head: Head, labels, folder: Path) -> None:
    """The encoder with ``head`` as a plain BertForSequenceClassification folder (float32)."""
    import copy

    from transformers import BertForSequenceClassification

    folder.mkdir(parents=True, exist_ok=True)
    config = copy.deepcopy(encoder.config)
    config.num_labels = len(labels)
    config.id2label = dict(enumerate(labels))
    config.label2id = {name: i for i, name in enumerate(labels)}
    config.problem_type = "single_label_classification"
    model = BertForSequenceClassification(config)
    state = {k: v for k, v in encoder.state_dict().items() if not k.startswith("classifier.")}
    state["bert.pooler.dense.weight"] = head.pooler.weight.detach().clone()
    state["bert.pooler.dense.bias"] = head.pooler.bias.detach().clone()
    state["classifier.weight"] = head.classifier.weight.detach().clone()
    state["classifier.bias"] = head.classifier.bias.detach().clone()
    missing, unexpected = model.load_state_dict(state, strict=False)
    if [k for k in missing if "position_ids" not in k] or unexpected:
        raise SystemExit(f"building {folder}: missing {missing}, unexpected {unexpected}")
    model.eval()
    model.save_pretrained(str(folder), safe_serialization=True)
    tok.save_pretrained(str(folder))


# --- measuring ---------------------------------------------------------------------------------


def log_odds(logits: torch.Tensor, t: int) -> torch.Tensor:
    """log(p_t / (1 - p_t)) of a softmax head, from its logits (last dim = labels)."""
    others = torch.cat([logits[..., :t], logits[..., t + 1 :]], dim=-1)
    return logits[..., t] - torch.logsumexp(others, dim=-1)


def disagrees(change: float, p_change: float) -> Optional[bool]:
    """Whether a quantity's change has the other sign than the probability's (None: a tie)."""
    if abs(change) < TIE or abs(p_change) < TIE:
        return None
    return (change > 0) != (p_change > 0)


def forward_counts(text_logits: list, base_logits: list) -> dict:
    """Sign disagreements of the raw logit and of the log-odds with the probability, baseline
    -> text, over every (text, label) pair and over the predicted label alone."""
    l1, l0 = torch.tensor(text_logits, dtype=torch.float64), torch.tensor(base_logits, dtype=torch.float64)
    p1, p0 = l1.softmax(-1), l0.softmax(-1)
    predicted = l1.argmax(-1)
    out = {
        key: {"pairs": 0, "ties": 0, "raw": 0, "raw_big": 0, "log_odds": 0, "worst": None} for key in ("all", "predicted")
    }
    for t in range(l1.shape[1]):
        raw = (l1[:, t] - l0[:, t]).tolist()
        lo = (log_odds(l1, t) - log_odds(l0, t)).tolist()
        dp = (p1[:, t] - p0[:, t]).tolist()
        for i in range(len(dp)):
            for key in ("all", "predicted") if int(predicted[i]) == t else ("all",):
                c = out[key]
                c["pairs"] += 1
                d_raw, d_lo = disagrees(raw[i], dp[i]), disagrees(lo[i], dp[i])
                if d_raw is None or d_lo is None:
                    c["ties"] += 1
                    continue
                c["log_odds"] += d_lo
                if d_raw:
                    c["raw"] += 1
                    c["raw_big"] += abs(dp[i]) >= MOVE
                    if c["worst"] is None or abs(dp[i]) > abs(c["worst"]["dp"]):
                        c["worst"] = {
                            "row": i,
                            "label": t,
                            "d_logit": raw[i],
                            "dp": dp[i],
                            "p_base": float(p0[i, t]),
                            "p_text": float(p1[i, t]),
                        }
    return out


def ranks(values: list) -> list:
    """Ranks (1-based), ties given their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a: list, b: list) -> Optional[float]:
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    num = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    den = math.sqrt(sum((x - ma) ** 2 for x in ra) * sum((y - mb) ** 2 for y in rb))
    return num / den if den else None


def top(scores: list, k: int) -> set:
    return set(sorted(range(len(scores)), key=lambda i: -abs(scores[i]))[:k])


def sample(rows: list, held: list, n: int) -> list:
    """``n`` of the held-out rows, in a fixed order (sha256 of the text)."""
    return sorted(rows, key=lambda i: hashlib.sha256(f"quantity:{held[i][1]}".encode()).hexdigest())[:n]


def explain_sample(name: str, info: dict, held: list, n: int) -> dict:
    """Every label of ``n`` held-out texts explained twice (raw logit, log-odds), checked
    against the model's own forward passes at the text and at the baseline."""
    import explain
    from explain.engine.reference import reference_ids

    model, tok = load_model(Path(info["folder"]))
    labels = info["labels"]
    sig = lambda v: 1 / (1 + math.exp(-v))
    pairs = []
    check = {"lo_input": 0.0, "lo_shown": 0.0, "lo_base": 0.0, "raw_input": 0.0, "raw_base": 0.0}
    t0 = time.time()
    for row in sample(info["rows"], held, n):
        text = held[row][1]
        enc = tok(text, truncation=True, return_tensors="pt", return_special_tokens_mask=True)
        keep = enc.pop("special_tokens_mask").bool()
        with torch.no_grad():
            l1 = model(**enc).logits[0].double()
        base_token = None
        for t, label in enumerate(labels):
            raw = explain.explain(text, info["folder"], target=label, output="logit", cache=False)
            lo = explain.explain(text, info["folder"], target=label, cache=False)
            assert raw.quantity == "logit" and lo.quantity == "log-odds", (raw.quantity, lo.quantity)
            if base_token is None:
                base_token = lo.baseline.token_id
                ids = reference_ids(enc["input_ids"], keep, base_token)
                with torch.no_grad():
                    l0 = model(**{**enc, "input_ids": ids}).logits[0].double()
                p1, p0 = l1.softmax(-1), l0.softmax(-1)
            shown = lo.probabilities[label]
            check["lo_input"] = max(check["lo_input"], abs(sig(lo.f_input) - float(p1[t])))
            check["lo_shown"] = max(check["lo_shown"], abs(sig(lo.f_input) - shown))
            check["lo_base"] = max(check["lo_base"], abs(sig(lo.f_baseline) - float(p0[t])))
            check["raw_input"] = max(check["raw_input"], abs(raw.f_input - float(l1[t])))
            check["raw_base"] = max(check["raw_base"], abs(raw.f_baseline - float(l0[t])))
            dp = shown - float(p0[t])
            spans = [(w.start, w.end) for w in raw.words]
            if spans != [(w.start, w.end) for w in lo.words]:
                raise SystemExit(f"{name}: the two explanations of {text!r} have different words")
            a, b = [w.score for w in raw.words], [w.score for w in lo.words]
            pairs.append(
                {
                    "row": row,
                    "text": text,
                    "label": t,
                    "predicted": raw.predicted == label,
                    "dp": dp,
                    "words": len(a),
                    "raw_disagrees": disagrees(raw.f_input - raw.f_baseline, dp),
                    "lo_disagrees": disagrees(lo.f_input - lo.f_baseline, dp),
                    "d_logit": raw.f_input - raw.f_baseline,
                    "d_log_odds": lo.f_input - lo.f_baseline,
                    "spearman": spearman(a, b) if len(a) >= 3 else None,
                    "top3": len(top(a, 3) & top(b, 3)) if len(a) >= 4 else None,
                    "top1_same": (top(a, 1) == top(b, 1)) if len(a) >= 2 else None,
                    "errors": {
                        "logit": (raw.completeness_error, raw.word_error, raw.converged, raw.steps),
                        "log-odds": (lo.completeness_error, lo.word_error, lo.converged, lo.steps),
                    },
                }
            )
    return {
        "texts": n,
        "explanations": 2 * len(pairs),
        "seconds": round(time.time() - t0, 1),
        "check": check,
        "pairs": pairs,
    }


# --- the summary ---------------------------------------------------------------------------------


def pct(k: int, n: int) -> str:
    return f"{k}/{n} ({100 * k / n:.1f}%)" if n else "0/0"


def quantiles(values: list) -> str:
    values = sorted(v for v in values if v is not None)
    if not values:
        return "-"
    q = lambda f: values[min(len(values) - 1, int(f * len(values)))]
    return f"median {statistics.median(values):.2g}, p95 {q(0.95):.2g}, max {values[-1]:.2g}"


def summary(data: dict, explained: dict, seconds: float) -> list:
    models = data["models"]
    lines = [
        "explained quantity: raw logit vs log-odds (issue 21 point 10), python -m benchmarks.quantity",
        "models: encoder examples/minilm-rt-sentiment (MiniLM, 3 layers, hidden 192); 2 labels: as bundled; "
        "3/5/8 labels: new pooler+classifier on its frozen [CLS] states, trained on "
        f"{max(m['train_n'] or 0 for m in data['models'].values()):,} VADER snippets",
    ]
    for name, m in models.items():
        a = m["accuracy"]
        lines.append(
            f"  {name:<12} {len(m['labels'])} labels  held-out accuracy {100 * a['accuracy']:.1f}% of "
            f"{a['n']:,} {m['held_out']} snippets (majority label {100 * a['majority']:.1f}%, "
            f"macro recall {100 * a['macro_recall']:.1f}%)"
        )
    lines.append(
        "sign disagreement with the label's probability change (baseline -> text), forward passes on every held-out snippet:"
    )
    for name, m in models.items():
        c = forward_counts(m["text_logits"], m["base_logits"])
        for key in ("predicted", "all"):
            k = c[key]
            n = k["pairs"] - k["ties"]
            what = "predicted label" if key == "predicted" else "every label    "
            worst = k["worst"]
            tail = ""
            if worst:
                tail = (
                    f"; worst: '{m['labels'][worst['label']]}' logit {worst['d_logit']:+.3f} while p "
                    f"{100 * worst['p_base']:.1f}% -> {100 * worst['p_text']:.1f}%"
                )
            lines.append(
                f"  {name:<12} {what}  raw logit {pct(k['raw'], n)}, of them >= {100 * MOVE:.0f} points "
                f"{k['raw_big']}; log-odds {pct(k['log_odds'], n)}{tail}"
            )
    lines.append("explained with explain.explain, every label, output='logit' and the default (log-odds):")
    for name, e in explained.items():
        pairs = e["pairs"]
        for key, sel in (("predicted label", lambda p: p["predicted"]), ("other labels   ", lambda p: not p["predicted"])):
            ps = [p for p in pairs if sel(p)]
            raw = [p["raw_disagrees"] for p in ps if p["raw_disagrees"] is not None]
            big = sum(1 for p in ps if p["raw_disagrees"] and abs(p["dp"]) >= MOVE)
            lo = [p["lo_disagrees"] for p in ps if p["lo_disagrees"] is not None]
            sp = [p["spearman"] for p in ps if p["spearman"] is not None]
            t3 = [p["top3"] for p in ps if p["top3"] is not None]
            t1 = [p["top1_same"] for p in ps if p["top1_same"] is not None]
            words = (
                f"Spearman median {statistics.median(sp):.3f} (min {min(sp):.3f}, < 0.9: "
                f"{sum(s < 0.9 for s in sp)}/{len(sp)})"
                if sp
                else "Spearman -"
            )
            words += f", top-3 overlap {statistics.mean(t3):.2f}/3" if t3 else ", top-3 overlap -"
            lines.append(
                f"  {name:<12} {key}  disagree: raw logit {pct(sum(raw), len(raw))} ({big} >= "
                f"{100 * MOVE:.0f} points), log-odds {pct(sum(lo), len(lo))}; words logit vs log-odds: "
                f"{words}, same top word {pct(sum(t1), len(t1))}"
            )
        ck = e["check"]
        ok = "ok" if max(ck.values()) <= 1e-5 else "OVER 1e-5"
        lines.append(
            f"  {name:<12} checks ({ok}): |sigmoid(f_input) - p shown| <= {ck['lo_shown']:.1e}, |sigmoid("
            f"f_input) - p of a forward pass| <= {ck['lo_input']:.1e}, |sigmoid(f_baseline) - p at the "
            f"baseline| <= {ck['lo_base']:.1e}; raw logit f_input/f_baseline vs the forward passes' logits <= "
            f"{max(ck['raw_input'], ck['raw_base']):.1e}"
        )
        for out in ("logit", "log-odds"):
            errs = [p["errors"][out] for p in pairs]
            lines.append(
                f"  {name:<12} {out:<8} completeness error {quantiles([x[0] for x in errs])}; word error "
                f"{quantiles([x[1] for x in errs])}; converged {pct(sum(x[2] for x in errs), len(errs))}; "
                f"steps median {statistics.median(x[3] for x in errs):.0f}"
            )
        lines.append(f"  {name:<12} {e['texts']} texts, {e['explanations']} explanations in {e['seconds']:.0f} s")
    lines.append(f"total {seconds:.0f} s (models built in {data['build_s']:.0f} s on the first run, cached after)")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--texts", type=int, default=100, help="held-out texts explained per model (default 100)")
    parser.add_argument("--cache", default="/tmp/explain-quantity", help="where the built models are kept")
    parser.add_argument(
        "--data",
        default=None,
        help="the vaderSentiment 3.3.2 sdist (or a folder holding it); default: fetched with pip download into the cache",
    )
    parser.add_argument("--models", default="sentiment-2,rating-3,rating-5,topic-8")
    parser.add_argument("--json", default=None, help="also write every measured pair here")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    t0 = time.time()
    cache = Path(args.cache)
    sdist = fetch_sdist(args.data, cache)
    data = build(cache, sdist)
    names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = [n for n in names if n not in data["models"]]
    if unknown:
        raise SystemExit(f"unknown model(s) {', '.join(unknown)}; choose from {', '.join(data['models'])}")
    data["models"] = {n: data["models"][n] for n in names}
    explained = {}
    for name in names:
        log(f"{name}: explaining {args.texts} texts x {len(data['models'][name]['labels'])} labels x 2 ...")
        explained[name] = explain_sample(name, data["models"][name], data["held"], args.texts)
    lines = summary(data, explained, time.time() - t0)
    print("\n".join(lines))
    if args.json:
        Path(args.json).write_text(json.dumps({"summary": lines, "explained": explained}, indent=1))


if __name__ == "__main__":
    main()
