"""The engine: attribution maths on a loaded classifier (torch only; no Hub, no UI).

Call sites of the word embeddings (``sites``), heads and the explained quantity
(``heads``), the baseline (``reference``), batched path rows (``path``), adaptive
quadrature (``quadrature``), long texts (``windows``), word units (``words``), the
request deadline it polls (``clock``), Captum's LIG as a reference (``captum_lig``),
and ``run.explain_loaded``, which puts them together."""

from ..options import Options
from .classifier import Classifier
from .clock import abandoned_when, check_deadline, deadline
from .reference import BASELINE_KINDS, reference_token
from .run import check_text, explain_loaded

__all__ = [
    "BASELINE_KINDS",
    "Classifier",
    "Options",
    "abandoned_when",
    "check_deadline",
    "check_text",
    "deadline",
    "explain_loaded",
    "reference_token",
]
