"""Tiny, randomly initialised sequence classifiers for ~30 architectures, built offline.

Each gets its own tokenizer trained on a few sentences (the tokenizer class that
architecture ships with), a config of width 32 and 2 layers, and is saved with
save_pretrained() like any Hub checkpoint. Used by tests only."""

from __future__ import annotations

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
    "funnel": ("funnel", "FunnelTokenizer", {"block_sizes": [1, 1], "num_decoder_layers": 1, "d_head": 8,
                                              "d_inner": 37}),
    "longformer": ("longformer", "RobertaTokenizer", {"attention_window": [8, 8]}),
    "big_bird": ("big_bird", "BigBirdTokenizer", {"attention_type": "original_full"}),
    "mobilebert": ("mobilebert", "MobileBertTokenizer", {"embedding_size": 16, "intra_bottleneck_size": 16,
                                                         "true_hidden_size": 16, "num_feedforward_networks": 1}),
    "squeezebert": ("squeezebert", "SqueezeBertTokenizer", {"q_groups": 1, "k_groups": 1, "v_groups": 1,
                                                            "post_attention_groups": 1, "intermediate_groups": 1,
                                                            "output_groups": 1, "embedding_size": 32}),
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

_SIZES = dict(hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=37,
              max_position_embeddings=128, initializer_range=0.1)
# Architectures that name their sizes differently.
_ALIASES = {
    "distilbert": dict(dim=32, n_layers=2, n_heads=4, hidden_dim=37, max_position_embeddings=128,
                       initializer_range=0.1),
    "bart": dict(d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=4,
                 decoder_attention_heads=4, encoder_ffn_dim=37, decoder_ffn_dim=37, max_position_embeddings=128,
                 init_std=0.1),
    "t5": dict(d_model=32, d_kv=8, d_ff=37, num_layers=2, num_decoder_layers=1, num_heads=4,
               initializer_factor=1.0),
    "xlnet": dict(d_model=32, n_layer=2, n_head=4, d_inner=37, initializer_range=0.1),
    "gpt2": dict(n_embd=32, n_layer=2, n_head=4, n_positions=128, initializer_range=0.1),
    "funnel": dict(d_model=32, n_head=4, initializer_range=0.1, max_position_embeddings=128),
}
_ALIASES["mt5"] = _ALIASES["t5"]


def _tokenizer(cls_name: str):
    import transformers

    cls = getattr(transformers, cls_name)
    return cls().train_new_from_iterator(CORPUS, vocab_size=300)


def stored_parameters(folder: Path) -> int:
    """How many parameters a built checkpoint stores. Not a constant: the tokenizer trainer
    breaks ties in its own order, so the vocabulary (and the embedding) can differ by a word
    between two builds from the same CORPUS (measured: 289 and 290 tokens, 28,205 and 28,237
    parameters for the tiny BERT)."""
    import math

    from safetensors import safe_open

    with safe_open(str(Path(folder) / "model.safetensors"), "pt") as f:
        return sum(math.prod(f.get_slice(k).get_shape()) for k in f.keys())


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
    specials = {k: getattr(tok, k) for k in ("pad_token_id", "bos_token_id", "eos_token_id", "sep_token_id",
                                              "cls_token_id") if getattr(tok, k, None) is not None}
    if model_type in ("t5", "mt5"):
        specials["decoder_start_token_id"] = tok.pad_token_id
    labels = LABELS if num_labels == len(LABELS) else ["score"]
    config = AutoConfig.for_model(model_type, vocab_size=len(tok), num_labels=num_labels,
                                  id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)},
                                  **sizes, **specials, **extra)
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
    names = names or list(ARCHITECTURES) + list(HEADS)
    return {n: build(n, Path(root) / n) for n in names}


if __name__ == "__main__":
    import sys
    import time

    root = Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/tiny-ckpts")
    for n in list(ARCHITECTURES) + list(HEADS):
        t = time.time()
        try:
            build(n, root / n)
            print(f"{n:14s} ok {time.time() - t:.2f}s", flush=True)
        except Exception as exc:  # noqa: BLE001 - report every failure, keep going
            print(f"{n:14s} FAIL {type(exc).__name__}: {str(exc)[:300]}", flush=True)
