"""One request of a public server, start to finish: limits -> resolve -> load ->
explain + checks under one deadline -> hide server paths. Returns an Explanation;
the app maps it to its components (no Gradio here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from .. import api, env
from ..checkpoints import CACHE, HubPolicy, load_classifier
from ..checks.baselines import compare_baselines
from ..checks.trust import with_trust
from ..engine import Options, deadline
from ..result import Explanation
from .folders import FolderPolicy
from .limits import ServeLimits, check_request, check_tokens

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Request:
    """What a visitor asks (the form's fields; empty strings mean "the default")."""

    text: str
    checkpoint: str = ""
    target: str = ""
    baseline: str = "auto"
    n_steps: float = 0  # 0: adaptive
    contrast: str = ""
    faithfulness: bool = False
    compare: bool = False
    method: str = "engine"


@dataclass
class Service:
    """The explainer as a public server runs it, with the operator's settings."""

    folders: FolderPolicy
    limits: ServeLimits = field(default_factory=ServeLimits)
    hub_policy: Optional[HubPolicy] = None  # None: HubPolicy.from_env() at each Hub load

    @classmethod
    def from_env(cls, default_model: str, environ: Optional[Mapping[str, str]] = None) -> Service:
        """Settings from the EXPLAIN_* variables; also sizes the process-wide caches of
        loaded models and finished explanations."""
        CACHE.resize(env.whole("EXPLAIN_CACHE_MODELS", CACHE.max_entries, environ),
                     env.number("EXPLAIN_CACHE_GB", CACHE.max_weight / 2**30, environ) * 2**30)
        api.RESULTS.resize(env.whole("EXPLAIN_RESULT_CACHE", api.RESULTS.max_entries, environ),
                           env.number("EXPLAIN_RESULT_CACHE_CHARS", api.RESULTS.max_weight, environ))
        return cls(FolderPolicy(default_model, environ), ServeLimits.from_env(environ))

    def load(self, checkpoint: str) -> tuple:
        """A visitor's checkpoint field -> (Classifier, is an operator's folder)."""
        check_request(self.limits, "", checkpoint)
        source, allow_local = self.folders.resolve(checkpoint)
        return load_classifier(source, allow_local=allow_local, hub_policy=self.hub_policy), allow_local

    def explain(self, request: Request, progress: Optional[Progress] = None) -> Explanation:
        """The whole request under the server's limits; raises ExplainError subclasses with
        messages for the visitor."""
        r = request
        progress = progress or (lambda fraction, what: None)
        check_request(self.limits, r.text, r.checkpoint, r.target, r.baseline, r.contrast, r.method,
                      n_steps=r.n_steps)
        progress(0.0, "Loading the checkpoint (downloading it the first time)")
        clf, local = self.load(r.checkpoint)
        check_tokens(clf.tokenizer, r.text, self.limits.max_tokens)
        progress(0.5, "Explaining")
        steps = int(float(r.n_steps)) if r.n_steps else None
        method = r.method or "engine"
        # One deadline for the whole request after loading: the explanation, its
        # faithfulness curves and the baseline comparison (more explanations) share it.
        with deadline(self.limits.deadline_s):
            expl = api.explain(r.text, clf, target=r.target or None, contrast=r.contrast or None,
                               baseline=r.baseline or "auto", n_steps=steps, method=method,
                               faithfulness=bool(r.faithfulness))
            comparison = (compare_baselines(clf, r.text, reference=expl, options=Options(n_steps=steps, method=method))
                          if r.compare else None)
        expl = with_trust(expl, comparison)
        if local:  # an operator's folder: show its name, never the server path
            expl = expl.replace(checkpoint={**expl.checkpoint, "source": Path(expl.checkpoint["source"]).name})
        return expl
