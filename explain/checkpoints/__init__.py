"""Checkpoints: a Hub ID or a folder -> a checked, loaded Classifier. The security
boundary for visitor-chosen models: ``rules`` (what is refused, pure functions),
``hub`` (metadata checks and an allow-listed download in a child process, never a
load), ``hubcache`` (the byte-capped download cache), ``sizing`` (parameter counts: stored,
and implied by a config - in a child process under a time and memory limit for
visitor-chosen checkpoints), ``folder`` (safe loading) and ``load`` (dispatch and the
cache of loaded models)."""

from .folder import load_folder
from .hub import HubPolicy, fetch_checkpoint
from .load import CACHE, classifier_cache, load_classifier, load_hub_classifier
from .rules import parse_repo_id

__all__ = [
    "CACHE",
    "HubPolicy",
    "classifier_cache",
    "fetch_checkpoint",
    "load_classifier",
    "load_folder",
    "load_hub_classifier",
    "parse_repo_id",
]
