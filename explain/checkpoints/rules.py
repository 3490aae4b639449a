"""What this server refuses to load, as pure functions of strings, dicts and numbers
(no disk, no network): the one place to read to answer "what does it refuse?".

Every rule raises one of ``explain.errors`` with a message that says what to do. The
loaders (``folder``, ``hub``) call them at the right moment: IDs before any I/O, Hub
metadata before any weight is downloaded, the config before transformers reads it."""

from __future__ import annotations

import os
import re
from collections.abc import Collection
from typing import Any, Optional

from ..errors import (
    AccessDenied,
    BrokenCheckpoint,
    CheckpointNotFound,
    CheckpointTooLarge,
    InvalidInput,
    NotAClassifier,
    UnsafeCheckpoint,
    UnsupportedModel,
)

# Config keys that pull or run code from the checkpoint (any key holding
# "attn_implementation" too: transformers < 5.5 fetched kernels through them).
CODE_KEYS = ("auto_map", "trust_remote_code", "custom_pipelines")
# Files that must never be downloaded or loaded: pickles and code.
FORBIDDEN_SUFFIXES = (
    ".py",
    ".pyc",
    ".bin",
    ".pkl",
    ".pickle",
    ".pt",
    ".pth",
    ".ckpt",
    ".h5",
    ".msgpack",
    ".so",
    ".sh",
    ".joblib",
    ".npy",
    ".npz",
    ".onnx",
    ".gguf",
)
TOKENIZER_FILES = (
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "vocab.txt",
    "vocab.json",
    "merges.txt",
    "spiece.model",
    "sentencepiece.bpe.model",
    "tokenizer.model",
    "spm.model",
)
_CORE_TOKENIZER = set(TOKENIZER_FILES) - {
    "tokenizer_config.json",
    "special_tokens_map.json",
    "added_tokens.json",
    "merges.txt",
}
_SHARD = re.compile(r"^model-\d{5}-of-\d{5}\.safetensors$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$")
ID_HINT = "A Hub ID looks like 'org/name' or 'org/name@revision' (letters, digits, '-', '_', '.')."


# --- names -----------------------------------------------------------------------------


def looks_like_path(text: str) -> bool:
    """Would ``from_pretrained`` treat this string as a place on the server's disk?"""
    return text.startswith((".", "/", "~")) or os.sep in text.replace("/", "")


def parse_repo_id(text: str, revision: Optional[str] = None) -> tuple:
    """'org/name[@revision]' -> (repo_id, revision or None), by huggingface_hub's rules.
    Pure string checks: nothing touches the disk or the network."""
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    text = (text or "").strip()
    if "@" in text:
        text, _, rev = text.partition("@")
        if revision and rev and rev != revision:
            raise InvalidInput(f"Two different revisions were given ({rev!r} and {revision!r}).", "Give one.")
        revision = revision or rev
    if text.startswith(("/", ".", "~", "\\")) or "\\" in text or ":" in text:
        raise InvalidInput(f"{text!r} looks like a path on the server; this app loads Hub models by ID.", ID_HINT)
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise InvalidInput(f"{text!r} is not a valid Hub model ID.", ID_HINT) from None
    if revision is not None:
        revision = str(revision).strip()
        if not _REVISION.match(revision) or ".." in revision or "//" in revision or revision.endswith(("/", ".lock")):
            raise InvalidInput(f"{revision!r} is not a valid revision.", "Use a branch, a tag or a commit hash.")
    return text, revision or None


# --- Hub metadata ----------------------------------------------------------------------


def refuse_access(kind: str, repo_id: str) -> None:
    """Private, gated or disabled repos (``kind``): never loaded, never with a token."""
    if kind == "private":
        raise AccessDenied(f"{repo_id} is private.", "This public app only loads public models.")
    if kind == "gated":
        raise AccessDenied(
            f"{repo_id} is gated: its files need an accepted licence and a login, and this public app never uses a token.",
            "Download it yourself and run the explainer locally.",
        )
    if kind == "disabled":
        raise AccessDenied(f"{repo_id} has been disabled on the Hub.", "Pick another model.")


def check_access(info: dict, repo_id: str) -> None:
    """Hub metadata (``private``, ``gated``, ``disabled``) -> refuse if any is set."""
    for kind in ("private", "gated", "disabled"):
        if info.get(kind):
            refuse_access(kind, repo_id)


def select_files(repo_id: str, names: Collection[str]) -> list:
    """The allow-list for a repo: config, safetensors weights, tokenizer files (top level
    only, exact names). Refuses repos without a config, safetensors or a tokenizer."""
    top = {n for n in names if "/" not in n and not any(c in n for c in "*?[]")}
    if "config.json" not in top:
        raise CheckpointNotFound(
            f"{repo_id} has no config.json, so it is not a transformers checkpoint.",
            "Pick a model made with transformers' save_pretrained().",
        )
    if "model.safetensors" in top:
        weights = ["model.safetensors"]
    elif "model.safetensors.index.json" in top:
        weights = ["model.safetensors.index.json"] + sorted(n for n in top if _SHARD.match(n))
    else:
        pickles = sorted(n for n in top if n.lower().endswith(FORBIDDEN_SUFFIXES))
        found = f" (it has {', '.join(pickles[:3])})" if pickles else ""
        raise UnsafeCheckpoint(
            f"{repo_id} has no model.safetensors weights{found}; pickled weights can run code "
            "when loaded, so this app never loads them.",
            "Pick a model with safetensors weights (many repos have a safetensors conversion under a 'refs/pr/N' revision).",
        )
    tokenizer = [n for n in TOKENIZER_FILES if n in top]
    if not _CORE_TOKENIZER & set(tokenizer):
        raise BrokenCheckpoint(
            f"{repo_id} has no tokenizer files (tokenizer.json, vocab...).",
            "Pick a checkpoint saved together with its tokenizer.",
        )
    return ["config.json"] + weights + tokenizer


def check_parameters(n: int, limit: int, repo_id: str) -> None:
    if n > limit:
        raise CheckpointTooLarge(
            f"{repo_id} has {count(n)} parameters; this server explains models of up to {count(limit)}.",
            "Pick a smaller model, or run the explainer yourself with a higher EXPLAIN_MAX_PARAMETERS.",
        )


def check_tokenizer_files(sizes: dict, limit: Optional[int], name: str) -> None:
    """Refuse tokenizer files (``sizes``: {file name: bytes}) larger than ``limit`` (None:
    no limit): loading one takes ~20 times its size in memory and seconds per 10 MB."""
    if limit is None:
        return
    big = sorted((n for n, b in sizes.items() if n in TOKENIZER_FILES and b > limit), key=lambda n: -sizes[n])
    if big:
        raise CheckpointTooLarge(
            f"{name}'s {big[0]} is {size(sizes[big[0]])}; this server loads tokenizer files of up to {size(limit)}.",
            "Pick a model with a usual tokenizer, or run the explainer yourself with a higher EXPLAIN_MAX_TOKENIZER_MB.",
        )


def check_vocabulary(largest_id: int, rows: int, name: str) -> None:
    """Refuse a tokenizer whose token ids reach past the model's embedding table: a text
    with one of those tokens could not be read by the model."""
    if largest_id >= rows:
        raise BrokenCheckpoint(
            f"{name}'s tokenizer has token ids up to {largest_id:,}, but the model's embedding "
            f"table has only {rows:,} rows: a text with one of the extra tokens could not be "
            "explained.",
            "Save the tokenizer the model was trained with beside it (or resize the model's embeddings to the tokenizer).",
        )


def check_download_size(total: int, limit: int, repo_id: str) -> None:
    if total > limit:
        raise CheckpointTooLarge(
            f"{repo_id}'s files are {size(total)}; this server downloads at most {size(limit)} per model.",
            "Pick a smaller model, or run the explainer locally.",
        )


def check_downloaded(repo_id: str, expected: Collection[str], present: Collection[str], total: int, limit: int) -> None:
    """After download: exactly the allow-listed files, within the byte limit."""
    extra = [p for p in present if p not in expected]
    if extra or total > limit or any(p.lower().endswith(FORBIDDEN_SUFFIXES) for p in present):
        raise UnsafeCheckpoint(
            f"The download of {repo_id} did not match what the Hub announced "
            f"({', '.join(extra[:3]) or f'{total:,} bytes'}).",
            "Pick another model.",
        )


# --- config.json -----------------------------------------------------------------------


def check_config(config: dict, where: str = "config.json") -> None:
    """Refuse configs that would pull or run code from the checkpoint."""
    bad = sorted(_code_keys(config))
    if bad:
        raise UnsafeCheckpoint(
            f"The checkpoint's {where} asks to run its own code ({', '.join(bad)}).",
            "This explainer never runs code from a checkpoint; use a model that works "
            "with the standard transformers classes.",
        )


def _code_keys(value: Any, prefix: str = "") -> set:
    found = set()
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if key in CODE_KEYS or "attn_implementation" in key:
                found.add(prefix + key)
            found |= _code_keys(v, prefix + key + ".")
    return found


def check_architectures(archs: list) -> None:
    """Refuse a config whose architectures are not sequence classifiers (loading one as
    a classifier would attach a random head)."""
    archs = [str(a) for a in archs]
    if archs and not any(a.endswith("ForSequenceClassification") for a in archs):
        raise NotAClassifier(
            f"This checkpoint is a {', '.join(archs)}, not a sequence classifier; loading it as one would "
            "attach a randomly initialised head, so its predictions and explanations would be noise.",
            "Use a checkpoint fine-tuned for text classification (…ForSequenceClassification).",
        )


def check_model_type(model_type: Any, repo_id: str, known: Collection[str]) -> None:
    """Refuse a model_type this transformers does not know (``known``: its config names)."""
    if not isinstance(model_type, str) or model_type not in known:
        raise UnsupportedModel(
            f"{repo_id}'s config has model_type {model_type!r}, which this version of transformers does not know.",
            "Pick a model of a standard architecture.",
        )


# --- sizes a config asks for (checked before anything is allocated) ----------------------

# transformers allocates what config.json says before a single weight is read: an id2label
# dict of num_labels entries, then every layer. These bounds are far above any real
# sequence classifier and far below what would exhaust a server. A key may hold a list
# (one value per layer or block): each of its numbers is bounded, and the numbers of a
# list of layer counts (Funnel's block_sizes, Swin-like depths) are summed.
SIZE_BOUNDS = {
    "labels": (10_000, ("num_labels",)),
    "layers": (
        256,
        (
            "num_hidden_layers",
            "num_layers",
            "n_layer",
            "n_layers",
            "encoder_layers",
            "decoder_layers",
            "num_decoder_layers",
            "num_encoder_layers",
            "block_sizes",
            "block_repeats",
            "depths",
            "num_hidden_groups",
            "inner_group_num",
            "num_feedforward_networks",
        ),
    ),
    "hidden size": (
        65_536,
        (
            "hidden_size",
            "d_model",
            "n_embd",
            "dim",
            "embedding_size",
            "true_hidden_size",
            "intra_bottleneck_size",
            "hidden_sizes",
            "d_head",
            "d_kv",
            "head_dim",
        ),
    ),
    "intermediate size": (
        262_144,
        (
            "intermediate_size",
            "d_ff",
            "encoder_ffn_dim",
            "decoder_ffn_dim",
            "hidden_dim",
            "d_inner",
            "n_inner",
            "ffn_dim",
            "moe_intermediate_size",
        ),
    ),
    "attention heads": (
        1_024,
        (
            "num_attention_heads",
            "n_head",
            "n_heads",
            "num_heads",
            "encoder_attention_heads",
            "decoder_attention_heads",
            "num_key_value_heads",
        ),
    ),
    "experts": (
        65_536,
        (
            "num_experts",
            "num_local_experts",
            "n_routed_experts",
            "moe_num_experts",
            "n_shared_experts",
            "num_experts_per_tok",
        ),
    ),
    "vocabulary": (1_048_576, ("vocab_size", "type_vocab_size")),
    "positions": (
        1_048_576,
        ("max_position_embeddings", "n_positions", "n_ctx", "max_seq_len", "relative_attention_num_buckets"),
    ),
}
# Lists under any other key are read as sizes too (a list is how a config gives one size
# per layer or block): each number at most the largest bound, each list at most this long.
ANY_SIZE = max(limit for limit, _ in SIZE_BOUNDS.values())
MAX_LIST_ENTRIES = 65_536
MAX_LABEL_CHARS = 256
_BOUND_OF = {key: (what, limit) for what, (limit, keys) in SIZE_BOUNDS.items() for key in keys}
_SUMMED = set(SIZE_BOUNDS["layers"][1])  # a list of these is a number of layers in all


def check_config_sizes(config: dict, where: str = "config.json") -> None:
    """Refuse a config whose sizes (labels, layers, widths, experts, vocabulary, positions,
    also in nested configs and in lists, and the numbers of any list-valued key) are
    absurd, before transformers builds anything from it."""
    fix = "Pick a checkpoint of a usual size."
    for path, key, value in _sized_values(config):
        if key not in _BOUND_OF:  # a list under a key these rules do not know: sizes of some kind
            entries = list(_numbers(value))
            if len(entries) > MAX_LIST_ENTRIES:
                raise CheckpointTooLarge(
                    f"The checkpoint's {where} gives {path} a list of {len(entries):,} numbers; "
                    f"this server loads at most {MAX_LIST_ENTRIES:,}.",
                    fix,
                )
            big = next((n for n in entries if n > ANY_SIZE), None)
            if big is not None:
                raise CheckpointTooLarge(
                    f"The checkpoint's {where} gives {path} the size {_shown(big)}; this server loads at most {ANY_SIZE:,}.",
                    fix,
                )
            continue
        what, limit = _BOUND_OF[key]
        values = value if isinstance(value, list) else [value]
        if isinstance(value, list) and len(values) > MAX_LIST_ENTRIES:
            raise CheckpointTooLarge(
                f"The checkpoint's {where} gives {path} a list of {len(values):,} entries; this "
                f"server loads at most {MAX_LIST_ENTRIES:,}.",
                fix,
            )
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v != v or v < 0:
                raise BrokenCheckpoint(
                    f"The checkpoint's {where} gives {path} = {_shown(v)}, which is not a size.",
                    "Re-save the checkpoint with transformers' save_pretrained().",
                )
            if v > limit:
                raise CheckpointTooLarge(
                    f"The checkpoint's {where} asks for {path} = {_shown(v)} ({what}); this server loads at most {limit:,}.",
                    fix,
                )
        if isinstance(value, list) and key in _SUMMED and sum(values) > limit:
            raise CheckpointTooLarge(
                f"The checkpoint's {where} asks for {path} = {_listed(values)}, "
                f"{_shown(sum(values))} {what} in all; this server loads at most {limit:,}.",
                fix,
            )
    for path, labels in _label_maps(config):
        if len(labels) > SIZE_BOUNDS["labels"][0]:
            raise CheckpointTooLarge(
                f"The checkpoint's {where} lists {len(labels):,} labels in {path}; this server "
                f"loads at most {SIZE_BOUNDS['labels'][0]:,}.",
                fix,
            )
        names = labels.values() if path.endswith("id2label") else labels.keys()
        if any(len(str(name)) > MAX_LABEL_CHARS for name in names):
            raise BrokenCheckpoint(
                f"The checkpoint's {where} has a label name longer than {MAX_LABEL_CHARS} characters in {path}.",
                "Give the labels short names.",
            )


def _sized_values(value: Any, prefix: str = ""):
    """(path, key, value) of every known size key and every list, in nested configs (and
    in dicts inside lists) too."""
    if isinstance(value, dict):
        for k, v in value.items():
            key = str(k)
            if (key in _BOUND_OF and v is not None) or isinstance(v, list):
                yield prefix + key, key, v
            if isinstance(v, dict):
                yield from _sized_values(v, prefix + key + ".")
            elif isinstance(v, list):
                for i, item in enumerate(v[:MAX_LIST_ENTRIES]):
                    if isinstance(item, dict):
                        yield from _sized_values(item, f"{prefix}{key}[{i}].")


def _numbers(value: Any, depth: int = 0):
    """The numbers in a (nested) list; strings, None, booleans and dicts are not sizes."""
    if isinstance(value, list) and depth < 8:
        for item in value:
            yield from _numbers(item, depth + 1)
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and value == value:
        yield value


def _listed(values: list) -> str:
    shown = ", ".join(_shown(v) for v in values[:4])
    return f"[{shown}{', …' if len(values) > 4 else ''}]"


def _label_maps(value: Any, prefix: str = ""):
    if isinstance(value, dict):
        for k, v in value.items():
            if str(k) in ("id2label", "label2id") and isinstance(v, dict):
                yield prefix + str(k), v
            elif isinstance(v, dict):
                yield from _label_maps(v, prefix + str(k) + ".")


def _shown(value: Any) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value == value and abs(value) < 1e18:
        return f"{value:,.0f}" if float(value).is_integer() else f"{value:g}"
    return repr(value)[:40]


def check_implied_parameters(implied: int, stored: Optional[int], limit: Optional[int], name: str) -> None:
    """Compare the parameter count a config implies (its model built without memory) with
    the tensors stored beside it and with the server's limit. More implied than stored
    means loading would create the difference as random weights (and allocate it)."""
    if stored is not None and implied > stored * 1.01 + 1_000:
        raise BrokenCheckpoint(
            f"{name}'s config.json describes a model of {count(implied)} parameters, but its "
            f"weights hold only {count(stored)}: the rest would be random.",
            "Re-save the checkpoint so config.json and the weights agree.",
        )
    if limit is not None and implied > limit:
        raise CheckpointTooLarge(
            f"{name}'s config.json describes a model of {count(implied)} parameters; this "
            f"server explains models of up to {count(limit)}.",
            "Pick a smaller model, or run the explainer yourself with a higher EXPLAIN_MAX_PARAMETERS.",
        )
    if limit is not None and stored is not None and stored > limit:
        check_parameters(stored, limit, name)


# --- wording ---------------------------------------------------------------------------


def count(n: int) -> str:
    return f"{n / 1e6:,.1f}M" if n >= 1e6 else f"{n:,}"


def size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"
