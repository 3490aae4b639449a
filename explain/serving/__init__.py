"""What a public server adds around the explainer (no Gradio here): request limits
(``limits``), which server folders a visitor may name (``folders``), the request
pipeline under one deadline (``pipeline``), and deep links, embeds and downloads
(``share``)."""

from ..engine.device import configure_threads
from ..engine.reference import BASELINE_KINDS
from .folders import FolderPolicy
from .limits import ServeLimits, check_request, check_tokens
from .pipeline import Request, Service

__all__ = [
           "BASELINE_KINDS",
           "FolderPolicy",
           "Request",
           "ServeLimits",
           "Service",
           "check_request",
           "check_tokens",
           "configure_threads",
]
