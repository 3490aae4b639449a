"""Hub ID -> local snapshot folder, downloading only what a classifier needs.

(The public app's stricter checks - metadata first, size limits, gated/private repos -
live here too; see HubPolicy.)"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .errors import CheckpointNotFound, HubUnavailable, InvalidInput

ALLOW_PATTERNS = ["config.json", "*.safetensors", "*.safetensors.index.json", "tokenizer.json",
                  "tokenizer_config.json", "special_tokens_map.json", "vocab.txt", "vocab.json",
                  "merges.txt", "spiece.model", "sentencepiece.bpe.model", "*.spm", "added_tokens.json"]
_REPO_ID = re.compile(r"^(?:[A-Za-z0-9][\w.\-]{0,95}/)?[A-Za-z0-9][\w.\-]{0,95}$")


@dataclass(frozen=True)
class HubPolicy:
    max_parameters: int = 600_000_000
    max_bytes: int = 3 * 2**30
    timeout_s: float = 10.0


def parse_repo_id(text: str, revision: Optional[str] = None) -> tuple:
    """'org/name[@revision]' -> (repo_id, revision); refuses anything else."""
    text = text.strip()
    if "@" in text:
        text, _, rev = text.partition("@")
        revision = revision or rev
    if not _REPO_ID.match(text) or ".." in text or text.endswith((".git", ".")) or "--" in text:
        raise InvalidInput(f"{text!r} is not a valid Hub model ID.", "A Hub ID looks like 'org/name' (letters, digits, '-', '_', '.').")
    return text, revision or None


def fetch_checkpoint(text: str, *, revision: Optional[str] = None, policy: Optional[HubPolicy] = None) -> tuple:
    """Download the allow-listed files of a Hub model; returns (folder, commit, repo_id)."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (GatedRepoError, LocalEntryNotFoundError, OfflineModeIsEnabled,
                                        RepositoryNotFoundError, RevisionNotFoundError)

    repo_id, revision = parse_repo_id(text, revision)
    try:
        folder = snapshot_download(repo_id, revision=revision, allow_patterns=ALLOW_PATTERNS, token=False)
    except GatedRepoError as exc:
        from .errors import AccessDenied
        raise AccessDenied(f"{repo_id} is gated.", "Accept its terms on the Hub and load it locally.") from exc
    except RepositoryNotFoundError as exc:
        raise CheckpointNotFound(f"There is no public model {repo_id!r} on the Hub.", "Check the spelling.") from exc
    except RevisionNotFoundError as exc:
        raise CheckpointNotFound(f"{repo_id} has no revision {revision!r}.", "Use a branch, tag or commit that exists.") from exc
    except (OfflineModeIsEnabled, LocalEntryNotFoundError) as exc:
        raise HubUnavailable(f"The Hugging Face Hub cannot be reached, and {repo_id} is not in the local cache.",
                             "Try again when online, or give a local folder.") from exc
    except OSError as exc:
        raise HubUnavailable(f"Downloading {repo_id} failed ({exc}).", "Try again later.") from exc
    commit = folder.rstrip("/").split("/")[-1]
    return folder, commit, repo_id
