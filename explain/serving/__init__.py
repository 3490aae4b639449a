"""What a public server adds around the explainer (no Gradio here): request limits
(``limits``), which server folders a visitor may name (``folders``), the request
pipeline under one deadline (``pipeline``) and what it reports while it runs
(``progress``), deep links, embeds and downloads (``share``), a request-body size limit
as ASGI middleware (``bodylimit``), a fair share of the server per visitor
(``fairness``), what the page says about models and examples (``catalog``), and the
ZeroGPU wrapper (``gpu``)."""

from ..checkpoints.sizing import warm
from ..engine.clock import abandoned_when
from ..engine.device import configure_threads
from ..engine.reference import BASELINE_KINDS
from .bodylimit import BodyLimit
from .fairness import client_key, over_cap
from .folders import FolderPolicy
from .gpu import on_gpu
from .limits import ServeLimits, check_tokens
from .pipeline import Answer, Request, Service, Shared

__all__ = [
    "Answer",
    "BASELINE_KINDS",
    "BodyLimit",
    "FolderPolicy",
    "Request",
    "ServeLimits",
    "Service",
    "Shared",
    "abandoned_when",
    "check_tokens",
    "client_key",
    "configure_threads",
    "on_gpu",
    "over_cap",
    "warm",
]
