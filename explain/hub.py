"""A visitor-chosen Hub ID -> a checked local snapshot, safely.

Order matters: the ID is validated before any network or disk access; then the Hub is
asked for metadata only (pinned to one commit, ``token=False``), and private, gated,
disabled, code-pulling, pickle-only, non-classifier and too-large checkpoints are
refused before a single weight is downloaded; then only an allow-list of files is
downloaded, after checking their total size, into a byte-capped cache. All Hub I/O
runs in a child process (see ``_hubchild``) that is killed at its deadline, so a slow
or vanishing Hub costs seconds, never a hang."""

from __future__ import annotations

import fnmatch
import os
import re
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from .errors import (AccessDenied, BrokenCheckpoint, CheckpointNotFound, CheckpointTooLarge, HubUnavailable,
                     InvalidInput, ServerBusy, UnsafeCheckpoint, UnsupportedModel)
from ._hubchild import HubChild
from .hubcache import FORBIDDEN_SUFFIXES, HubCache

TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json",
                   "vocab.txt", "vocab.json", "merges.txt", "spiece.model", "sentencepiece.bpe.model",
                   "tokenizer.model", "spm.model")
_CORE_TOKENIZER = set(TOKENIZER_FILES) - {"tokenizer_config.json", "special_tokens_map.json",
                                          "added_tokens.json", "merges.txt"}
_SHARD = re.compile(r"^model-\d{5}-of-\d{5}\.safetensors$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,127}$")


def _env_float(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


@dataclass(frozen=True)
class HubPolicy:
    """Limits for loading visitor-chosen Hub checkpoints. ``from_env()`` reads the
    EXPLAIN_* variables an operator sets."""

    max_parameters: int = 600_000_000
    max_bytes: int = 3 * 2**30            # all downloaded files of one checkpoint
    max_config_bytes: int = 2**20
    timeout_s: float = 5.0                # one Hub request (connect / read)
    metadata_deadline_s: float = 20.0     # every metadata step together
    download_deadline_s: float = 300.0
    lock_wait_s: float = 30.0             # waiting for another download to finish
    cache_dir: str = field(default_factory=lambda: os.environ.get(
        "EXPLAIN_HUB_CACHE", str(Path("~/.cache/explain/hub").expanduser())))
    cache_max_bytes: int = 10 * 2**30
    endpoint: Optional[str] = None        # None: HF_ENDPOINT, else the public Hub

    @classmethod
    def from_env(cls, **overrides) -> "HubPolicy":
        base = cls(max_parameters=int(_env_float("EXPLAIN_MAX_PARAMETERS", 600e6)),
                   max_bytes=int(_env_float("EXPLAIN_MAX_DOWNLOAD_GB", 3) * 2**30),
                   timeout_s=_env_float("EXPLAIN_HUB_TIMEOUT_S", 5.0),
                   download_deadline_s=_env_float("EXPLAIN_DOWNLOAD_DEADLINE_S", 300.0),
                   cache_max_bytes=int(_env_float("EXPLAIN_HUB_CACHE_GB", 10) * 2**30))
        return replace(base, **overrides)


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
    hint = "A Hub ID looks like 'org/name' or 'org/name@revision' (letters, digits, '-', '_', '.')."
    if text.startswith(("/", ".", "~", "\\")) or "\\" in text or ":" in text:
        raise InvalidInput(f"{text!r} looks like a path on the server; this app loads Hub models by ID.", hint)
    try:
        validate_repo_id(text)
    except HFValidationError:
        raise InvalidInput(f"{text!r} is not a valid Hub model ID.", hint) from None
    if revision is not None:
        revision = str(revision).strip()
        if not _REVISION.match(revision) or ".." in revision or "//" in revision or revision.endswith(("/", ".lock")):
            raise InvalidInput(f"{revision!r} is not a valid revision.", "Use a branch, a tag or a commit hash.")
    return text, revision or None


def fetch_checkpoint(text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None) -> tuple:
    """Check and download a Hub model; returns (folder, commit, repo_id). Raises one of
    explain.errors with a message saying what to do."""
    policy = policy or HubPolicy.from_env()
    repo_id, revision = parse_repo_id(text, revision)
    cache = HubCache(policy.cache_dir, policy.cache_max_bytes)
    if _offline():
        hit = cache.cached_snapshot(repo_id, revision)
        if hit is None:
            raise HubUnavailable(f"This server is offline (HF_HUB_OFFLINE) and {repo_id} is not in its cache.",
                                 "Give a local folder, or unset HF_HUB_OFFLINE.")
        cache.touch(repo_id, hit[1])
        return hit[0], hit[1], repo_id
    with HubChild(policy) as child:
        sha, files = _inspect(child, repo_id, revision, policy, cache)
        plan = child.call("dryrun", policy.metadata_deadline_s, repo_id=repo_id, sha=sha, files=files,
                          cache_dir=str(cache.root))
        _raise_for(plan, repo_id, revision, policy)
        total = sum(f["size"] or 0 for f in plan["files"])
        if total > policy.max_bytes:
            raise CheckpointTooLarge(f"{repo_id}'s files are {_size(total)}; this server downloads at most "
                                     f"{_size(policy.max_bytes)} per model.",
                                     "Pick a smaller model, or run the explainer locally.")
        cache.make_room(sum(f["size"] or 0 for f in plan["files"] if f["will_download"]), keep=(repo_id, sha))
        try:
            got = child.call("download", policy.download_deadline_s, repo_id=repo_id, sha=sha, files=files,
                             cache_dir=str(cache.root), what="Downloading")
        finally:
            cache._drop_partial()
        _raise_for(got, repo_id, revision, policy)
    folder = Path(got["folder"])
    _verify_folder(folder, files, policy, cache, repo_id, sha)
    return str(folder), sha, repo_id


def _inspect(child: HubChild, repo_id: str, revision: Optional[str], policy: HubPolicy, cache: HubCache) -> tuple:
    """Metadata checks, before any weight is downloaded. Returns (commit, files to get)."""
    from .loading import check_architectures, check_config

    info = child.call("info", policy.timeout_s * 2, repo_id=repo_id, revision=revision)
    _raise_for(info, repo_id, revision, policy)
    sha = info["sha"]
    if info["private"]:
        raise AccessDenied(f"{repo_id} is private.", "This public app only loads public models.")
    if info["gated"]:
        raise AccessDenied(f"{repo_id} is gated: its files need an accepted licence and a login, and this public "
                           "app never uses a token.", "Download it yourself and run the explainer locally.")
    if info["disabled"]:
        raise AccessDenied(f"{repo_id} has been disabled on the Hub.", "Pick another model.")
    files = _select_files(repo_id, info["files"])
    got = child.call("config", policy.timeout_s * 2, repo_id=repo_id, sha=sha, cache_dir=str(cache.root),
                     max_bytes=policy.max_config_bytes)
    _raise_for(got, repo_id, revision, policy)
    if "too_big" in got:
        raise UnsafeCheckpoint(f"{repo_id}'s config.json is {got['too_big']:,} bytes, far more than a config needs.",
                               "Pick another model.")
    config = got["config"]
    if not isinstance(config, dict):
        raise BrokenCheckpoint(f"{repo_id}'s config.json is not a JSON object.", "Pick another model.")
    check_config(config, where=f"config.json ({repo_id})")
    check_architectures(config.get("architectures") or [])
    _check_model_type(config.get("model_type"), repo_id)
    n = info["parameters"]
    if n is None:
        got = child.call("parameters", policy.timeout_s * 2, repo_id=repo_id, sha=sha)
        _raise_for(got, repo_id, revision, policy)
        n = got["parameters"]
    if n > policy.max_parameters:
        raise CheckpointTooLarge(f"{repo_id} has {_count(n)} parameters; this server explains models of up to "
                                 f"{_count(policy.max_parameters)}.", "Pick a smaller model, or run the "
                                 "explainer yourself with a higher EXPLAIN_MAX_PARAMETERS.")
    return sha, files


def _select_files(repo_id: str, names: list) -> list:
    """The allow-list for this repo: config, safetensors weights, tokenizer files (top
    level only, exact names)."""
    top = {n for n in names if "/" not in n and not any(c in n for c in "*?[]")}
    if "config.json" not in top:
        raise CheckpointNotFound(f"{repo_id} has no config.json, so it is not a transformers checkpoint.",
                                 "Pick a model made with transformers' save_pretrained().")
    if "model.safetensors" in top:
        weights = ["model.safetensors"]
    elif "model.safetensors.index.json" in top:
        weights = ["model.safetensors.index.json"] + sorted(n for n in top if _SHARD.match(n))
    else:
        pickles = sorted(n for n in top if n.lower().endswith(FORBIDDEN_SUFFIXES))
        found = f" (it has {', '.join(pickles[:3])})" if pickles else ""
        raise UnsafeCheckpoint(f"{repo_id} has no model.safetensors weights{found}; pickled weights can run code "
                               "when loaded, so this app never loads them.",
                               "Pick a model with safetensors weights (many repos have a safetensors conversion "
                               "under a 'refs/pr/N' revision).")
    tokenizer = [n for n in TOKENIZER_FILES if n in top]
    if not _CORE_TOKENIZER & set(tokenizer):
        raise BrokenCheckpoint(f"{repo_id} has no tokenizer files (tokenizer.json, vocab...).",
                               "Pick a checkpoint saved together with its tokenizer.")
    return ["config.json"] + weights + tokenizer


def _check_model_type(model_type, repo_id: str) -> None:
    from transformers import CONFIG_MAPPING

    if not isinstance(model_type, str) or model_type not in CONFIG_MAPPING:
        raise UnsupportedModel(f"{repo_id}'s config has model_type {model_type!r}, which this version of "
                               "transformers does not know.", "Pick a model of a standard architecture.")


def _verify_folder(folder: Path, files: list, policy: HubPolicy, cache: HubCache, repo_id: str, sha: str) -> None:
    """After download: exactly the allow-listed files, within the byte limit."""
    present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    extra = [p for p in present if p not in files]
    size = sum((folder / p).stat().st_size for p in present)
    if extra or size > policy.max_bytes or any(p.lower().endswith(FORBIDDEN_SUFFIXES) for p in present):
        cache.drop(repo_id, sha)
        raise UnsafeCheckpoint(f"The download of {repo_id} did not match what the Hub announced "
                               f"({', '.join(extra[:3]) or f'{size:,} bytes'}).", "Pick another model.")


def _raise_for(answer: dict, repo_id: str, revision: Optional[str], policy: HubPolicy) -> None:
    """Turn a child's ``{"fail": kind}`` answer into the user-facing error."""
    kind = answer.get("fail")
    if not kind:
        return
    detail = answer.get("detail", "")
    later = "Try again in a minute, or run the explainer locally on a downloaded folder."
    if kind == "not_found":
        raise CheckpointNotFound(f"There is no public model {repo_id!r} on the Hugging Face Hub (or it is private).",
                                 "Check the spelling, e.g. 'distilbert/distilbert-base-uncased-finetuned-sst-2-english'.")
    if kind == "revision_not_found":
        raise CheckpointNotFound(f"{repo_id} has no revision {revision!r}.",
                                 "Use a branch, tag or commit that exists, or leave the revision out.")
    if kind == "gated":
        raise AccessDenied(f"{repo_id} is gated: its files need an accepted licence and a login, and this public "
                           "app never uses a token.", "Download it yourself and run the explainer locally.")
    if kind == "disabled":
        raise AccessDenied(f"{repo_id} has been disabled on the Hub.", "Pick another model.")
    if kind == "timeout":
        raise HubUnavailable(f"The Hugging Face Hub did not answer within {policy.timeout_s:g} s.", later)
    if kind == "deadline":
        raise HubUnavailable(f"{detail}, so it was stopped: the Hugging Face Hub is slow or unreachable.", later)
    if kind in ("unreachable", "server_error", "busy", "http", "died"):
        raise HubUnavailable(f"The Hugging Face Hub cannot be reached or answered with an error ({detail}).", later)
    if kind == "bad_safetensors":
        raise BrokenCheckpoint(f"{repo_id}'s safetensors weights are corrupt: their header cannot be read.",
                               "Pick another model or revision.")
    if kind in ("bad_config", "entry_not_found", "size_mismatch"):
        raise BrokenCheckpoint(f"{repo_id}'s files are incomplete or corrupt ({detail}).", "Pick another model.")
    raise HubUnavailable(f"Fetching {repo_id} failed ({detail}).", later)


def _count(n: int) -> str:
    return f"{n / 1e6:,.1f}M" if n >= 1e6 else f"{n:,}"


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:,.1f} {unit}"
    return f"{n:,} bytes"


def _offline() -> bool:
    return any(os.environ.get(v, "").strip().upper() in ("1", "ON", "YES", "TRUE")
               for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


_FETCH_LOCK = threading.Lock()


def load_hub_classifier(text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None,
                        device=None):
    """Fetch (checked) and load a Hub classifier. One Hub load at a time: downloads and
    cache eviction never race, and a flood of new IDs queues instead of filling disk."""
    from .loading import load_folder

    policy = policy or HubPolicy.from_env()
    parse_repo_id(text, revision)  # refuse bad IDs before waiting for the lock
    if not _FETCH_LOCK.acquire(timeout=policy.lock_wait_s):
        raise ServerBusy("Another model is being downloaded right now.", "Try again in a minute.")
    try:
        folder, sha, repo_id = fetch_checkpoint(text, revision=revision, policy=policy)
        clf = load_folder(folder, source=repo_id, revision=sha, device=device)
        cache = HubCache(policy.cache_dir, policy.cache_max_bytes)
        cache.mark_verified(repo_id, sha, {"parameters": clf.n_parameters}, parse_repo_id(text, revision)[1])
        return clf
    finally:
        _FETCH_LOCK.release()
