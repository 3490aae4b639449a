"""The baseline: the same ids with every non-special token replaced by one reference
token - mask where the tokenizer has one, else pad, else unk (never a token whose
embedding row is ~zero); special tokens stay."""

from __future__ import annotations

from typing import get_args

import torch

from ..errors import InvalidInput
from ..result import BaselineKind

BASELINE_KINDS = get_args(BaselineKind)  # ("auto", "mask", "pad", "unk"); any single token works too


def reference_ids(input_ids: torch.Tensor, keep: torch.Tensor, reference_id: int) -> torch.Tensor:
    """Baseline ids: every token not in ``keep`` (special tokens; a zero-shot hypothesis)
    replaced by the reference token."""
    out = input_ids.clone()
    out[~keep] = reference_id
    return out


def reference_token(clf, baseline: str) -> tuple:
    """(kind, token, id) of the baseline's reference token. Auto: mask, else pad, else
    unk - never a token whose embedding row is (near) zero. Remembered per classifier
    (the norm check reads the whole embedding table) until the table changes."""
    weight = clf.sites.weight
    version = None if weight is None else (weight.data_ptr(), weight._version)
    memo = clf.memo.setdefault("reference_tokens", {})
    if memo.get("version") != version:
        memo.clear()
        memo["version"] = version
    if baseline not in memo:
        memo[baseline] = _reference_token(clf, baseline)
    return memo[baseline]


def _reference_token(clf, baseline: str) -> tuple:
    tok = clf.tokenizer
    weight = clf.sites.weight
    norms = weight.detach().float().norm(dim=-1) if weight is not None else None
    floor = 1e-3 * float(norms.median()) if norms is not None else 0.0

    def usable(tid):
        return tid is not None and (norms is None or (0 <= tid < norms.shape[0] and float(norms[tid]) > floor))

    names = {
        "mask": (tok.mask_token, tok.mask_token_id),
        "pad": (tok.pad_token, tok.pad_token_id),
        "unk": (tok.unk_token, tok.unk_token_id),
    }
    choice = (baseline or "auto").strip()
    if choice == "auto":
        names.update(eos=(tok.eos_token, tok.eos_token_id), bos=(tok.bos_token, tok.bos_token_id))
        for kind in ("mask", "pad", "unk", "eos", "bos"):
            token, tid = names[kind]
            if usable(tid):
                return kind, str(token), int(tid)
        if norms is None:
            raise InvalidInput(
                "The tokenizer has no mask, pad or unk token with a usable embedding.",
                "Pass baseline='<some token>' naming a neutral token of the vocabulary.",
            )
        # Last resort: the real token closest to the average embedding, a neutral point.
        w = weight.detach().float()
        dist = (w - w.mean(0)).norm(dim=-1)
        dist[norms <= floor] = float("inf")
        tid = int(dist.argmin())
        return "nearest-mean", str(tok.convert_ids_to_tokens(tid)), tid
    if choice in names:
        token, tid = names[choice]
        if tid is None:
            raise InvalidInput(f"This tokenizer has no {choice} token.", "Use baseline='auto'.")
        if not usable(tid):
            raise InvalidInput(
                f"The {choice} token's embedding is all zeros, which makes the attributions meaningless.",
                "Use baseline='auto' or another token.",
            )
        return choice, str(token), int(tid)
    ids = tok(choice, add_special_tokens=False)["input_ids"]
    vocab_id = tok.convert_tokens_to_ids(choice)
    if isinstance(vocab_id, int) and vocab_id != tok.unk_token_id:
        ids = [vocab_id]
    if len(ids) != 1:
        raise InvalidInput(
            f"The baseline {choice!r} is {len(ids)} tokens for this tokenizer, not one.",
            "Give a single token (e.g. 'mask', 'pad', 'unk', or a word in the vocabulary).",
        )
    if not usable(ids[0]):
        raise InvalidInput(f"The baseline token {choice!r} has an all-zero embedding.", "Pick another token.")
    return "token", tok.convert_ids_to_tokens(ids[0]), int(ids[0])
