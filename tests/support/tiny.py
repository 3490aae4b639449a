"""Tiny, randomly initialised sequence classifiers for ~30 architectures, built offline.

Each gets the tokenizer class that architecture ships with (WordPiece, byte-level BPE,
SentencePiece BPE or Unigram), its vocabulary learnt from a few sentences by a
deterministic byte-pair encoding, a config of width 32 and 2 layers with weights from a
fixed seed, and is saved with save_pretrained() like any Hub checkpoint. Two builds are
byte-identical (tests/test_tiny.py checks it), so a build is cached between test
sessions, keyed by this file and the library versions. Used by tests only."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

CORPUS = [
    "The film was terrible, and the acting was worse.",
    "An absolute delight from start to finish!",
    "I did not like it at all; the plot made no sense.",
    "It's not bad at all - actually quite charming.",
    "The soundtrack is great but the story drags.",
    "Brilliant performances, sharp dialogue and a moving ending.",
    "Boring, predictable and far too long.",
    "Le film était magnifique, vraiment émouvant.",
    "Der Film war langweilig und viel zu lang.",
    "Numbers like 42, 3.14 and 2024 appear; emails like a@b.co too.",
    "Short text.",
    "What a waste of two hours... yeah, right, 'masterpiece'.",
] * 4

# name: (model_type, tokenizer class, extra config)
ARCHITECTURES = {
    "bert": ("bert", "BertTokenizer", {}),
    "distilbert": ("distilbert", "DistilBertTokenizer", {}),
    "roberta": ("roberta", "RobertaTokenizer", {}),
    "xlm-roberta": ("xlm-roberta", "XLMRobertaTokenizer", {}),
    "camembert": ("camembert", "CamembertTokenizer", {}),
    "albert": ("albert", "AlbertTokenizer", {"embedding_size": 16}),
    "electra": ("electra", "ElectraTokenizer", {"embedding_size": 16}),
    "deberta": ("deberta", "DebertaTokenizer", {}),
    "deberta-v2": ("deberta-v2", "DebertaV2Tokenizer", {}),
    "mpnet": ("mpnet", "MPNetTokenizer", {}),
    "modernbert": ("modernbert", "BertTokenizer", {"global_attn_every_n_layers": 2, "local_attention": 16}),
    "funnel": ("funnel", "FunnelTokenizer", {"block_sizes": [1, 1], "num_decoder_layers": 1, "d_head": 8, "d_inner": 37}),
    "longformer": ("longformer", "RobertaTokenizer", {"attention_window": [8, 8]}),
    "big_bird": ("big_bird", "BigBirdTokenizer", {"attention_type": "original_full"}),
    "mobilebert": (
        "mobilebert",
        "MobileBertTokenizer",
        {"embedding_size": 16, "intra_bottleneck_size": 16, "true_hidden_size": 16, "num_feedforward_networks": 1},
    ),
    "squeezebert": (
        "squeezebert",
        "SqueezeBertTokenizer",
        {
            "q_groups": 1,
            "k_groups": 1,
            "v_groups": 1,
            "post_attention_groups": 1,
            "intermediate_groups": 1,
            "output_groups": 1,
            "embedding_size": 32,
        },
    ),
    "convbert": ("convbert", "ConvBertTokenizer", {"embedding_size": 32}),
    "ernie": ("ernie", "BertTokenizer", {}),
    "bart": ("bart", "BartTokenizer", {}),
    "t5": ("t5", "T5Tokenizer", {}),
    "mt5": ("mt5", "T5Tokenizer", {}),
    "xlnet": ("xlnet", "XLNetTokenizer", {}),
    "gpt2": ("gpt2", "GPT2Tokenizer", {}),
    "llama": ("llama", "LlamaTokenizer", {}),
    "mistral": ("mistral", "LlamaTokenizer", {}),
    "qwen2": ("qwen2", "Qwen2Tokenizer", {}),
    "gemma": ("gemma", "GemmaTokenizer", {"head_dim": 8}),
    "phi": ("phi", "CodeGenTokenizer", {}),
}

HEADS = {
    "multilabel": ("bert", "BertTokenizer", {"problem_type": "multi_label_classification"}),
    "regression": ("roberta", "RobertaTokenizer", {"num_labels": 1, "problem_type": "regression"}),
    "reranker": ("bert", "BertTokenizer", {"num_labels": 1}),  # one output, no problem_type: a cross-encoder
}

LABELS = ["negative", "neutral", "positive"]

_SIZES = dict(
    hidden_size=32,
    num_hidden_layers=2,
    num_attention_heads=4,
    intermediate_size=37,
    max_position_embeddings=128,
    initializer_range=0.1,
)
# Architectures that name their sizes differently.
_ALIASES = {
    "distilbert": dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=128, initializer_range=0.1),
    "bart": dict(
        d_model=32,
        encoder_layers=1,
        decoder_layers=1,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=37,
        decoder_ffn_dim=37,
        max_position_embeddings=128,
        init_std=0.1,
    ),
    "t5": dict(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_decoder_layers=1, num_heads=4, initializer_factor=1.0),
    "xlnet": dict(d_model=32, n_layer=2, n_head=4, d_inner=37, initializer_range=0.1),
    "gpt2": dict(n_embd=32, n_layer=2, n_head=4, n_positions=128, initializer_range=0.1),
    "funnel": dict(d_model=32, n_head=4, initializer_range=0.1, max_position_embeddings=128),
}
_ALIASES["mt5"] = _ALIASES["t5"]


# Vocabulary sizes, special tokens included: WordPiece and BPE as a trainer asked for 300
# would give; a Unigram model keeps fewer pieces (a SentencePiece trainer prunes) beyond
# its special tokens (T5 has 103 of them).
VOCAB_SIZE = 300
UNIGRAM_PIECES = 135


def _words(tok) -> Counter:
    """The CORPUS's pre-tokens as ``tok``'s own pipeline cuts them (normaliser, then
    pre-tokeniser: lower-cased for BERT, 'Ġ' for byte-level BPE, '▁' for SentencePiece), each
    cut again before every '▁' so that no piece spans two words (a Metaspace that does not
    split, as Llama's, hands over whole sentences)."""
    backend = tok.backend_tokenizer
    words: Counter = Counter()
    for sentence in CORPUS:
        text = backend.normalizer.normalize_str(sentence) if backend.normalizer else sentence
        for word, _ in backend.pre_tokenizer.pre_tokenize_str(text):
            words.update(part for part in re.split("(?=▁)", word) if part)
    return words


def _merges(words: Counter, n: int, prefix: str = "") -> list:
    """The first ``n`` merges of byte-pair encoding over ``words``, deterministic: each step
    merges the most frequent adjacent pair, a tie going to the pair that sorts first (a
    trainer breaks ties in hash order, which differs between runs). ``prefix`` marks a
    symbol inside a word (WordPiece's '##')."""
    split = {w: [w[0]] + [prefix + c for c in w[1:]] for w in words}
    merges = []
    for _ in range(n):
        pairs: Counter = Counter()
        for word, count in words.items():
            symbols = split[word]
            for pair in zip(symbols, symbols[1:]):
                pairs[pair] += count
        if not pairs:
            break
        (a, b), _ = min(pairs.items(), key=lambda kv: (-kv[1], kv[0]))
        merges.append((a, b))
        for word, symbols in split.items():
            out, i = [], 0
            while i < len(symbols):
                if i + 1 < len(symbols) and symbols[i] == a and symbols[i + 1] == b:
                    out.append(a + b[len(prefix) :])
                    i += 2
                else:
                    out.append(symbols[i])
                    i += 1
            split[word] = out
    return merges


def _tokenizer(cls_name: str):
    """``cls_name``'s tokenizer with a vocabulary learnt from CORPUS by :func:`_merges` -
    the same on every build. Laid out as the class's trainer would: its special tokens
    first, then the alphabet (all 256 bytes for byte-level BPE), then the merged pieces. A
    Unigram piece scores the log of its share of the corpus's piece occurrences."""
    import json
    import math

    import transformers
    from tokenizers.pre_tokenizers import ByteLevel

    cls = getattr(transformers, cls_name)
    blank = cls()
    spec = json.loads(blank.backend_tokenizer.to_str())
    kind = spec["model"]["type"]
    specials = [
        t["content"] for t in sorted(spec["added_tokens"], key=lambda t: t["id"]) if t["special"] or kind == "Unigram"
    ]
    words = _words(blank)
    alphabet = sorted({c for w in words for c in w})
    if kind == "WordPiece":
        prefix = spec["model"]["continuing_subword_prefix"]
        vocab = {t: i for i, t in enumerate(specials)}
        for piece in (
            alphabet + [prefix + c for c in alphabet] + [a + b[len(prefix) :] for a, b in _merges(words, VOCAB_SIZE, prefix)]
        ):
            if len(vocab) < VOCAB_SIZE:
                vocab.setdefault(piece, len(vocab))
        tok = cls(vocab=vocab)
    elif kind == "BPE":
        vocab = {t: i for i, t in enumerate(specials)}
        byte_level = '"ByteLevel"' in json.dumps(spec["pre_tokenizer"])
        for piece in sorted(ByteLevel.alphabet()) if byte_level else alphabet:
            vocab.setdefault(piece, len(vocab))
        merges = []
        for a, b in _merges(words, VOCAB_SIZE):
            if len(vocab) >= VOCAB_SIZE:
                break
            merges.append((a, b))
            vocab.setdefault(a + b, len(vocab))
        tok = cls(vocab=vocab, merges=merges)
    else:  # Unigram (SentencePiece)
        pieces = list(alphabet)
        for a, b in _merges(words, UNIGRAM_PIECES):
            if len(pieces) >= UNIGRAM_PIECES:
                break
            pieces.append(a + b)
        counts = {p: sum(n * w.count(p) for w, n in words.items()) for p in pieces}
        total = sum(counts.values())
        tok = cls(
            vocab=[(t, 0.0) for t in specials]
            + [(p, round(math.log(counts[p] / total), 6)) for p in pieces if p not in specials]
        )
    model = json.loads(tok.backend_tokenizer.to_str())["model"]
    if kind == "Unigram":  # some classes fix the unknown piece's id: it must be the unk token's
        assert model["unk_id"] == tok.unk_token_id, (cls_name, model["unk_id"], tok.unk_token_id)
    return tok


def build(name: str, folder: Path, spec=None) -> Path:
    """Build one tiny checkpoint into ``folder`` (skipped if already there)."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    spec = spec or ARCHITECTURES.get(name) or HEADS[name]
    model_type, tok_cls, extra = spec
    folder = Path(folder)
    if (folder / "config.json").is_file():
        return folder
    tok = _tokenizer(tok_cls)
    extra = dict(extra)
    num_labels = extra.pop("num_labels", len(LABELS))
    sizes = dict(_ALIASES.get(model_type, _SIZES))
    if model_type in ("llama", "mistral", "qwen2", "gemma", "phi"):
        sizes.update(num_key_value_heads=2)
    specials = {
        k: getattr(tok, k)
        for k in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id")
        if getattr(tok, k, None) is not None
    }
    if model_type in ("t5", "mt5"):
        specials["decoder_start_token_id"] = tok.pad_token_id
    labels = LABELS if num_labels == len(LABELS) else ["score"]
    config = AutoConfig.for_model(
        model_type,
        vocab_size=len(tok),
        num_labels=num_labels,
        id2label=dict(enumerate(labels)),
        label2id={name: i for i, name in enumerate(labels)},
        **sizes,
        **specials,
        **extra,
    )
    for attr in ("bos_token_id", "eos_token_id", "sep_token_id", "cls_token_id"):
        value = getattr(config, attr, None)
        if isinstance(value, int) and value >= len(tok):  # a default of the real model's vocabulary
            setattr(config, attr, None)
    if hasattr(config, "architectures"):
        config.architectures = None
    torch.manual_seed(0)
    model = AutoModelForSequenceClassification.from_config(config)
    config.architectures = [type(model).__name__]
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


def build_all(root: Path, names=None) -> dict:
    """Build the checkpoints ``names`` (all by default) under ``root``, one folder each."""
    names = names or list(ARCHITECTURES) + list(HEADS)
    return {n: build(n, Path(root) / n) for n in names}


SUMS = "SHA256SUMS"  # in a cached build's root: every file's digest, checked on each reuse


def fingerprint() -> str:
    """What a build depends on: this file and the versions of the libraries that write it."""
    import hashlib

    import safetensors
    import tokenizers
    import torch
    import transformers

    digest = hashlib.sha256(Path(__file__).read_bytes())
    for module in (torch, transformers, tokenizers, safetensors):
        digest.update(f"{module.__name__}=={module.__version__};".encode())
    return digest.hexdigest()[:16]


def _sums(root: Path) -> str:
    import hashlib

    files = sorted(p for p in root.rglob("*") if p.is_file() and p.name != SUMS)
    return "".join(f"{hashlib.sha256(p.read_bytes()).hexdigest()}  {p.relative_to(root).as_posix()}\n" for p in files)


def build_cached(parent: Path) -> Path:
    """Every tiny checkpoint, in ``parent``/tiny-<fingerprint>: built once (into a private
    folder, then renamed into place, so parallel sessions never see half a build) and
    reused while every file still has the digest it was built with - a test that wrote
    into the cache, or an edit of this file, gets a fresh build instead of a wrong one."""
    import shutil
    import tempfile

    parent = Path(parent)
    root = parent / f"tiny-{fingerprint()}"
    sums = root / SUMS
    if sums.is_file() and sums.read_text() == _sums(root):
        return root
    parent.mkdir(parents=True, exist_ok=True)
    if root.exists():  # damaged or unfinished: moved aside first, so no reader sees it emptied
        stale = Path(tempfile.mkdtemp(prefix=".stale-", dir=parent))
        try:
            root.rename(stale / "tiny")
        except OSError:
            pass  # another session moved it already
        shutil.rmtree(stale, ignore_errors=True)
    fresh = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=parent))
    build_all(fresh)
    (fresh / SUMS).write_text(_sums(fresh))
    try:
        fresh.rename(root)
    except OSError:  # another session got there first: theirs is the same bytes
        shutil.rmtree(fresh, ignore_errors=True)
    return root


if __name__ == "__main__":
    import sys
    import time

    # python tests/support/tiny.py FOLDER [NAME ...]: build (all, or the NAMEs) into FOLDER.
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-ckpts")
    failed = 0
    for n in sys.argv[2:] or list(ARCHITECTURES) + list(HEADS):
        t = time.time()
        try:
            build(n, root / n)
            print(f"{n:14s} ok {time.time() - t:.2f}s", flush=True)
        except Exception as exc:  # noqa: BLE001 - report every failure, keep going
            failed += 1
            print(f"{n:14s} FAIL {type(exc).__name__}: {str(exc)[:300]}", flush=True)
    sys.exit(1 if failed else 0)
