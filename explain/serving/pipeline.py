"""One request of a public server, start to finish: check every field -> resolve ->
load (under a deadline; failed checkpoints remembered) -> estimate the cost -> explain +
checks under one deadline -> hide server paths. Returns an Explanation; the app maps it
to its components (no Gradio here). Every error leaving ``Service`` names folders by
their last name only, never by their place on the server's disk."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .. import api, env
from ..checkpoints import CACHE, HubPolicy, load_classifier
from ..checkpoints.load import FailureMemo
from ..checks.baselines import compare_baselines
from ..checks.trust import with_trust
from ..engine import Options, deadline
from ..errors import ExplainError, InvalidInput
from ..lru import BoundedLRU
from ..result import Explanation
from . import fairness
from .folders import FolderPolicy
from .limits import ServeLimits, check_field, check_flag, check_steps, check_text, check_tokens

Progress = Callable[[float, str], None]
# An absolute path of two or more parts (not part of a URL or an ID): shown by its last part.
_PATH = re.compile(r"(?<![\w.\-/:~@])(?:/[^\s/'\"`(),;:<>|]+){2,}/?")


@dataclass(frozen=True)
class Request:
    """What a visitor asks (the form's fields; empty strings mean "the default"). Values
    arrive as the caller sent them; ``Service.explain`` checks every type."""

    text: Any
    checkpoint: Any = ""
    target: Any = ""
    baseline: Any = "auto"
    n_steps: Any = 0  # 0: adaptive
    contrast: Any = ""
    faithfulness: Any = False
    compare: Any = False
    method: Any = "engine"


@dataclass(frozen=True)
class Shared:
    """A finished explanation as the share panel needs it: the result and what its link carries."""

    explanation: Explanation
    model: Optional[str]   # None: the app's default model
    target: Optional[str]


def recent_results(limits: ServeLimits) -> BoundedLRU:
    """Session -> Shared: one per session Gradio keeps, each at most the longest text."""
    return BoundedLRU(limits.sessions, limits.sessions * max(limits.max_chars, 1),
                      weight=lambda shared: len(shared.explanation.text))


@dataclass
class Service:
    """The explainer as a public server runs it, with the operator's settings."""

    folders: FolderPolicy
    limits: ServeLimits = field(default_factory=ServeLimits)
    hub_policy: Optional[HubPolicy] = None  # None: HubPolicy.from_env() at each load
    failures: Optional[FailureMemo] = None  # None: failed checkpoints are not remembered
    # The last explanation of each session (for its share panel), bounded like Gradio's sessions.
    recent: BoundedLRU = field(default_factory=lambda: recent_results(ServeLimits()))

    @classmethod
    def from_env(cls, default_model: str, environ: Optional[Mapping[str, str]] = None) -> Service:
        """Settings from the EXPLAIN_* variables; also sizes the process-wide caches of
        loaded models and finished explanations."""
        CACHE.resize(env.whole("EXPLAIN_CACHE_MODELS", CACHE.max_entries, environ),
                     env.number("EXPLAIN_CACHE_GB", CACHE.max_weight / 2**30, environ) * 2**30)
        api.RESULTS.resize(env.whole("EXPLAIN_RESULT_CACHE", api.RESULTS.max_entries, environ),
                           env.number("EXPLAIN_RESULT_CACHE_CHARS", api.RESULTS.max_weight, environ))
        limits = ServeLimits.from_env(environ)
        return cls(FolderPolicy(default_model, environ), limits, failures=FailureMemo(limits.failed_ttl_s),
                   recent=recent_results(limits))

    def load(self, checkpoint: Any) -> tuple:
        """A visitor's checkpoint field -> (Classifier, is an operator's folder)."""
        try:
            check_field(self.limits, checkpoint, "checkpoint")
            source, allow_local = self.folders.resolve(checkpoint or "")
            policy = self.hub_policy or HubPolicy.from_env()
            clf = load_classifier(source, allow_local=allow_local, hub_policy=policy,
                                  max_parameters=policy.max_parameters, load_deadline_s=self.limits.load_deadline_s,
                                  failures=self.failures)
            return clf, allow_local
        except ExplainError as exc:
            raise self.public(exc) from None

    def explain(self, request: Request, progress: Optional[Progress] = None,
                session: Optional[str] = None) -> Explanation:
        """The whole request under the server's limits; raises ExplainError subclasses with
        messages for the visitor. ``session``: remember the result for that session's share panel."""
        try:
            return self._explain(request, progress or (lambda fraction, what: None), session)
        except ExplainError as exc:
            raise self.public(exc) from None

    def _explain(self, r: Request, progress: Progress, session: Optional[str]) -> Explanation:
        check_text(self.limits, r.text)
        for name in ("checkpoint", "target", "baseline", "contrast", "method"):
            check_field(self.limits, getattr(r, name), name)
        steps = check_steps(self.limits, r.n_steps)
        faithfulness, compare = check_flag(r.faithfulness, "faithfulness"), check_flag(r.compare, "compare")
        method = r.method or "engine"
        progress(0.0, "Loading the checkpoint (downloading it the first time)")
        clf, local = self.load(r.checkpoint)
        n_tokens = check_tokens(clf.tokenizer, r.text, self.limits.max_tokens)
        cost = fairness.estimate(n_tokens, clf.max_length, steps, method, faithfulness, compare,
                                 fairness.rate(clf.memo, clf.n_parameters))
        fairness.check_cost(cost, self.limits.deadline_s, n_tokens, steps, faithfulness, compare)
        progress(0.5, "Explaining")
        # One deadline for the whole request after loading: the explanation, its
        # faithfulness curves and the baseline comparison (more explanations) share it.
        with deadline(self.limits.deadline_s):
            expl = api.explain(r.text, clf, target=r.target or None, contrast=r.contrast or None,
                               baseline=r.baseline or "auto", n_steps=steps or None, method=method,
                               faithfulness=faithfulness)
            comparison = (compare_baselines(clf, r.text, reference=expl, options=Options(n_steps=steps or None,
                                                                                         method=method))
                          if compare else None)
        if expl.timings.get("cache") != "hit" and expl.windows:
            window_tokens = sum(w.n_tokens for w in expl.windows) / len(expl.windows)
            fairness.learn(clf.memo, expl.timings.get("attribution_s", 0.0), expl.steps, window_tokens)
        expl = with_trust(expl, comparison)
        if local:  # an operator's folder: show its name, never the server path
            expl = expl.replace(checkpoint={**expl.checkpoint, "source": Path(expl.checkpoint["source"]).name})
        if session:
            model = None if self.folders.is_default(r.checkpoint or "") else str(r.checkpoint).strip()
            self.recent.put(session, Shared(expl, model, r.target or None))
        return expl

    def shared(self, session: Optional[str]) -> Optional[Shared]:
        """The last explanation this server made for ``session`` (None: none kept)."""
        return self.recent.get(session) if session else None

    def public(self, exc: ExplainError) -> ExplainError:
        """The same error with every server path in its message replaced by a last name.
        Invalid input is left as it is: it quotes what the visitor sent, never a server path."""
        if isinstance(exc, InvalidInput):
            return exc
        problem, fix = self.hide_paths(exc.problem), self.hide_paths(exc.fix)
        if (problem, fix) == (exc.problem, exc.fix):
            return exc
        return type(exc)(problem, fix)

    def hide_paths(self, text: str) -> str:
        """``text`` with the operator's folders (as configured or resolved) and any other
        absolute path on this machine (the download cache's, a temporary folder's) shown by
        their last name."""
        known = {}
        for resolved, given in self.folders.allowed().items():
            known[resolved] = known[str(Path(given).expanduser())] = known[given] = Path(given).name
        for where in sorted((k for k in known if k and k not in ("/", ".")), key=len, reverse=True):
            text = text.replace(where, known[where])
        return _PATH.sub(lambda m: m.group(0).rstrip("/").rsplit("/", 1)[-1], text)
