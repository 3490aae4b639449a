"""A visitor-chosen Hub ID -> a checked local snapshot, safely (it never loads one).

Order matters: the ID is validated before any network or disk access; then the Hub is
asked for metadata only (pinned to one commit, ``token=False``), and private, gated,
disabled, code-pulling, pickle-only, non-classifier and too-large checkpoints are
refused before a single weight is downloaded (the rules: ``rules``); then only an
allow-list of files is downloaded, after checking their total size, into a byte-capped
cache. All Hub I/O runs in a child process (see ``_hubchild``) that is killed at its
deadline, so a slow or vanishing Hub costs seconds, never a hang."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Optional

from .. import env, logbook
from ..errors import BrokenCheckpoint, CheckpointNotFound, HubUnavailable, UnsafeCheckpoint
from . import rules
from ._hubchild import HubChild
from .hubcache import HubCache
from .sizing import SizingLimits, bounded_implied_parameters

_LOG = logging.getLogger("explain.hub")


def _default_cache_dir() -> str:
    return env.text("EXPLAIN_HUB_CACHE") or str(Path("~/.cache/explain/hub").expanduser())


@dataclass(frozen=True)
class HubPolicy:
    """Limits for loading visitor-chosen Hub checkpoints. ``from_env()`` reads the
    EXPLAIN_* variables an operator sets."""

    max_parameters: int = 600_000_000
    max_bytes: int = 3 * 2**30  # all downloaded files of one checkpoint
    max_config_bytes: int = 2**20
    timeout_s: float = 5.0  # one Hub request (connect / read)
    metadata_deadline_s: float = 20.0  # every metadata step together
    download_deadline_s: float = 300.0
    lock_wait_s: float = 30.0  # waiting for another download to finish
    cache_dir: str = field(default_factory=_default_cache_dir)
    cache_max_bytes: int = 10 * 2**30
    endpoint: Optional[str] = None  # None: HF_ENDPOINT, else the public Hub
    sizing_deadline_s: float = SizingLimits.deadline_s  # counting the parameters a config implies
    sizing_memory_bytes: int = SizingLimits.memory_bytes  # ... and the memory that may take
    max_tokenizer_bytes: int = 40 * 2**20  # one tokenizer file (the largest real ones: ~34 MB)

    @classmethod
    def from_env(cls, environ: Optional[Mapping[str, str]] = None, **overrides) -> HubPolicy:
        d = cls()
        base = cls(
            max_parameters=env.whole("EXPLAIN_MAX_PARAMETERS", d.max_parameters, environ),
            max_bytes=int(env.number("EXPLAIN_MAX_DOWNLOAD_GB", d.max_bytes / 2**30, environ) * 2**30),
            timeout_s=env.number("EXPLAIN_HUB_TIMEOUT_S", d.timeout_s, environ),
            download_deadline_s=env.number("EXPLAIN_DOWNLOAD_DEADLINE_S", d.download_deadline_s, environ),
            cache_max_bytes=int(env.number("EXPLAIN_HUB_CACHE_GB", d.cache_max_bytes / 2**30, environ) * 2**30),
            sizing_deadline_s=env.number("EXPLAIN_SIZING_DEADLINE_S", d.sizing_deadline_s, environ),
            sizing_memory_bytes=int(env.number("EXPLAIN_SIZING_MEMORY_MB", d.sizing_memory_bytes / 2**20, environ) * 2**20),
            max_tokenizer_bytes=int(env.number("EXPLAIN_MAX_TOKENIZER_MB", d.max_tokenizer_bytes / 2**20, environ) * 2**20),
        )
        return replace(base, **overrides)

    @property
    def sizing(self) -> SizingLimits:
        """The limits of the sizing child (see ``sizing.bounded_implied_parameters``)."""
        return SizingLimits(self.sizing_deadline_s, self.sizing_memory_bytes)


def fetch_checkpoint(text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None) -> tuple:
    """Check and download a Hub model; returns (folder, commit, repo_id). Raises one of
    explain.errors with a message saying what to do."""
    policy = policy or HubPolicy.from_env()
    repo_id, revision = rules.parse_repo_id(text, revision)
    cache = HubCache(policy.cache_dir, policy.cache_max_bytes)
    if offline():
        hit = cache.cached_snapshot(repo_id, revision)
        if hit is None:
            raise HubUnavailable(
                f"This server is offline (HF_HUB_OFFLINE) and {repo_id} is not in its cache.",
                "Give a local folder, or unset HF_HUB_OFFLINE.",
            )
        cache.touch(repo_id, hit[1])
        return hit[0], hit[1], repo_id
    with HubChild(policy) as child:
        sha, files = _inspect(child, repo_id, revision, policy, cache)
        plan = child.call(
            "dryrun", policy.metadata_deadline_s, repo_id=repo_id, sha=sha, files=files, cache_dir=str(cache.root)
        )
        _raise_for(plan, repo_id, revision, policy)
        rules.check_tokenizer_files({f["name"]: f["size"] or 0 for f in plan["files"]}, policy.max_tokenizer_bytes, repo_id)
        rules.check_download_size(sum(f["size"] or 0 for f in plan["files"]), policy.max_bytes, repo_id)
        cache.make_room(sum(f["size"] or 0 for f in plan["files"] if f["will_download"]), keep=(repo_id, sha))
        try:
            got = child.call(
                "download",
                policy.download_deadline_s,
                repo_id=repo_id,
                sha=sha,
                files=files,
                cache_dir=str(cache.root),
                what="Downloading",
            )
        finally:
            cache.drop_partial()
        _raise_for(got, repo_id, revision, policy)
    folder = Path(got["folder"])
    present = sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
    try:
        rules.check_downloaded(repo_id, files, present, sum((folder / p).stat().st_size for p in present), policy.max_bytes)
    except UnsafeCheckpoint:
        cache.drop(repo_id, sha)
        raise
    return str(folder), sha, repo_id


def _inspect(child: HubChild, repo_id: str, revision: Optional[str], policy: HubPolicy, cache: HubCache) -> tuple:
    """Metadata checks, before any weight is downloaded. Returns (commit, files to get)."""
    from transformers import CONFIG_MAPPING

    info = child.call("info", policy.timeout_s * 2, repo_id=repo_id, revision=revision)
    _raise_for(info, repo_id, revision, policy)
    sha = info["sha"]
    rules.check_access(info, repo_id)
    files = rules.select_files(repo_id, info["files"])
    got = child.call(
        "config",
        policy.timeout_s * 2,
        repo_id=repo_id,
        sha=sha,
        cache_dir=str(cache.root),
        max_bytes=policy.max_config_bytes,
    )
    _raise_for(got, repo_id, revision, policy)
    if "too_big" in got:
        raise UnsafeCheckpoint(
            f"{repo_id}'s config.json is {got['too_big']:,} bytes, far more than a config needs.", "Pick another model."
        )
    config = got["config"]
    if not isinstance(config, dict):
        raise BrokenCheckpoint(f"{repo_id}'s config.json is not a JSON object.", "Pick another model.")
    rules.check_config(config, where=f"config.json ({repo_id})")
    rules.check_config_sizes(config, where=f"config.json ({repo_id})")
    rules.check_architectures(config.get("architectures") or [])
    rules.check_model_type(config.get("model_type"), repo_id, CONFIG_MAPPING)
    n = info["parameters"]
    if n is None:
        got = child.call("parameters", policy.timeout_s * 2, repo_id=repo_id, sha=sha)
        _raise_for(got, repo_id, revision, policy)
        n = got["parameters"]
    rules.check_parameters(n, policy.max_parameters, repo_id)
    # What the config implies (its model built without memory, in the sizing child under
    # its limits) against what is stored.
    implied = bounded_implied_parameters(config, repo_id, policy.sizing)
    rules.check_implied_parameters(implied, n, policy.max_parameters, repo_id)
    return sha, files


def offline() -> bool:
    return env.flag("HF_HUB_OFFLINE") or env.flag("TRANSFORMERS_OFFLINE")


# Why a connection failed (the child's "reason"), in words: never the library's or the
# OS's own text, which names URLs, response bodies and error numbers.
REASONS = {
    "dns": "its address could not be resolved",
    "refused": "it refused the connection",
    "tls": "a secure connection to it could not be made",
    "disconnected": "the connection to it broke off",
}


def _raise_for(answer: dict, repo_id: str, revision: Optional[str], policy: HubPolicy) -> None:
    """Turn a child's ``{"fail": kind}`` answer into the user-facing error. Messages say
    what failed in words; the library's own text (URLs, bodies) goes to the server's log."""
    kind = answer.get("fail")
    if not kind:
        return
    detail, status, reason = answer.get("detail", ""), answer.get("status"), answer.get("reason")
    later = "Try again in a minute, or run the explainer locally on a downloaded folder."
    if kind not in ("not_found", "revision_not_found", "gated", "disabled", "timeout", "deadline"):
        logbook.note(_LOG, f"hub {kind}", "Fetching %s from the Hub failed (%s): %s", repo_id, kind, detail)
    if kind == "not_found":
        raise CheckpointNotFound(
            f"There is no public model {repo_id!r} on the Hugging Face Hub (or it is private).",
            "Check the spelling, e.g. 'distilbert/distilbert-base-uncased-finetuned-sst-2-english'.",
        )
    if kind == "revision_not_found":
        raise CheckpointNotFound(
            f"{repo_id} has no revision {revision!r}.", "Use a branch, tag or commit that exists, or leave the revision out."
        )
    if kind in ("gated", "disabled"):
        rules.refuse_access(kind, repo_id)
    if kind == "timeout":
        raise HubUnavailable(f"The Hugging Face Hub did not answer within {policy.timeout_s:g} s.", later)
    if kind == "deadline":
        raise HubUnavailable(f"{detail}, so it was stopped: the Hugging Face Hub is slow or unreachable.", later)
    if kind == "busy":
        raise HubUnavailable("The Hugging Face Hub is limiting requests right now (429).", later)
    if kind in ("server_error", "http"):
        code = f" ({status})" if isinstance(status, int) else ""
        raise HubUnavailable(f"The Hugging Face Hub answered with an error{code}.", later)
    if kind == "unreachable":
        raise HubUnavailable(f"The Hugging Face Hub cannot be reached: {REASONS.get(reason, 'no connection')}.", later)
    if kind == "died":
        raise HubUnavailable("The helper process that talks to the Hugging Face Hub stopped.", later)
    if kind == "bad_safetensors":
        raise BrokenCheckpoint(
            f"{repo_id}'s safetensors weights are corrupt: their header cannot be read.", "Pick another model or revision."
        )
    if kind == "bad_config":
        raise BrokenCheckpoint(f"{repo_id}'s config.json is not valid JSON.", "Pick another model.")
    if kind == "entry_not_found":
        raise BrokenCheckpoint(f"{repo_id}'s files are incomplete: a file the Hub listed is missing.", "Pick another model.")
    if kind == "size_mismatch":
        raise BrokenCheckpoint(
            f"{repo_id}'s files are incomplete or corrupt: a downloaded file's size differs from what the Hub announced.",
            "Pick another model.",
        )
    raise HubUnavailable(f"Fetching {repo_id} from the Hugging Face Hub failed.", later)
