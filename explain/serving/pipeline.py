"""One request of a public server, start to finish: check every field -> resolve ->
load (under a deadline; failed checkpoints remembered; a download reports its megabytes)
-> estimate the cost (the explanation must fit the deadline; a check that would not is
skipped, with the reason) -> explain (one label, or the few most probable labels on one
shared path so that a page can switch between them without recomputing; a text pair;
zero-shot labels) + checks under one deadline -> hide server paths. Returns an
Explanation, or an ``Answer`` with every label explained; the app maps it to its
components (no Gradio here). Every error leaving ``Service`` names folders by their last
name only, never by their place on the server's disk."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from .. import api, env
from ..checkpoints import CACHE, HubPolicy, load_classifier
from ..checkpoints.load import FailureMemo
from ..checks.baselines import compare_baselines
from ..checks.faithfulness import evaluate_faithfulness, hide_words
from ..checks.trust import with_trust
from ..engine import deadline
from ..errors import ExplainError, InvalidInput, ServerBusy
from ..lru import BoundedLRU
from ..options import DEFAULT_TEMPLATE, Options
from ..result import Explanation, TrustCheck, WordsHidden
from . import catalog, fairness
from .folders import FolderPolicy
from .limits import (
    ServeLimits,
    check_candidates,
    check_field,
    check_flag,
    check_pair,
    check_steps,
    check_template,
    check_text,
    check_tokens,
)
from .progress import hub_folder, ticking, watching_download

Progress = Callable[[float, str], None]
# An absolute path of two or more parts (not part of a URL or an ID): shown by its last part.
_PATH = re.compile(r"(?<![\w.\-/:~@])(?:/[^\s/'\"`(),;:<>|]+){2,}/?")
HYPOTHESIS_TOKENS = 12  # a zero-shot hypothesis ("This example is {}.") in tokens, for the estimate


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
    text_pair: Any = ""  # a second text (an NLI hypothesis, a reranker's passage); empty: one text
    candidate_labels: Any = ""  # zero-shot: comma-separated labels (with an NLI model); empty: not zero-shot
    hypothesis_template: Any = ""  # zero-shot: the hypothesis, '{}' standing for a label; empty: the default
    multi_label: Any = False  # zero-shot: score each label on its own


@dataclass(frozen=True)
class Shared:
    """A finished explanation as the share panel needs it: the one shown, what its link
    carries, and every label explained with it (for a switch between them)."""

    explanation: Explanation
    model: Optional[str]  # None: the app's default model
    target: Optional[str]
    labels: tuple = ()  # Explanations, most probable first (``explanation`` among them)
    link: tuple = ()  # further deep-link parameters: (("text_pair", ...), ("labels", ...), ...)


@dataclass(frozen=True)
class Answer:
    """A request's result: the explanation of its target (trust checks included) and every
    label explained on the same path, most probable first (the target's among them)."""

    explanation: Explanation
    labels: tuple


@dataclass(frozen=True)
class Checked:
    """A request after ``Service.check``: every field typed and within this server's limits,
    the options by their one name (``Options``) and valid together."""

    text: str
    checkpoint: str  # "" : the server's default model
    text_pair: Optional[str]
    options: Options
    faithfulness: bool
    compare: bool
    every_label: bool  # also the other labels on the same path (for the page's switch)

    def link(self) -> tuple:
        """The deep link's parameters beyond model, text and target."""
        o = self.options
        zero = o.zero_shot
        return tuple(
            (k, v)
            for k, v in (
                ("text_pair", self.text_pair),
                ("labels", ", ".join(o.candidate_labels or ())),
                ("template", o.hypothesis_template if zero and o.hypothesis_template != DEFAULT_TEMPLATE else ""),
                ("multi_label", "1" if o.multi_label and zero else ""),
            )
            if v
        )


@dataclass(frozen=True)
class Plan:
    """A checked request on its loaded model: the labels it explains on one path, its
    estimated cost, and the checks that will not run (with why)."""

    clf: Any
    local: bool  # an operator's folder (shown by its name only)
    n_labels: int
    base: fairness.Cost
    skipped: dict
    n_windows: int


def recent_results(limits: ServeLimits) -> BoundedLRU:
    """Session -> Shared: one per session Gradio keeps, each at most the longest text times
    the labels explained with it."""
    return BoundedLRU(
        limits.sessions,
        limits.sessions * max(limits.max_chars, 1) * max(limits.max_labels, 1),
        weight=lambda shared: len(shared.explanation.text) * max(1, len(shared.labels)),
    )


@dataclass
class Service:
    """The explainer as a public server runs it, with the operator's settings."""

    folders: FolderPolicy
    limits: ServeLimits = field(default_factory=ServeLimits)
    hub_policy: Optional[HubPolicy] = None  # None: HubPolicy.from_env() at each load
    failures: Optional[FailureMemo] = None  # None: failed checkpoints are not remembered
    # The last explanation of each session (for its share panel), bounded like Gradio's sessions.
    recent: BoundedLRU = field(default_factory=lambda: recent_results(ServeLimits()))
    # Faithfulness reports of recent explanations (a repeat request is free, as the explanation is).
    checked: BoundedLRU = field(default_factory=lambda: BoundedLRU(64, 64, weight=lambda report: 1))

    @classmethod
    def from_env(cls, default_model: str, environ: Optional[Mapping[str, str]] = None) -> Service:
        """Settings from the EXPLAIN_* variables; also sizes the process-wide caches of
        loaded models and finished explanations."""
        CACHE.resize(
            env.whole("EXPLAIN_CACHE_MODELS", CACHE.max_entries, environ),
            env.number("EXPLAIN_CACHE_GB", CACHE.max_weight / 2**30, environ) * 2**30,
        )
        api.RESULTS.resize(
            env.whole("EXPLAIN_RESULT_CACHE", api.RESULTS.max_entries, environ),
            env.number("EXPLAIN_RESULT_CACHE_CHARS", api.RESULTS.max_weight, environ),
        )
        limits = ServeLimits.from_env(environ)
        return cls(
            FolderPolicy(default_model, environ),
            limits,
            failures=FailureMemo(limits.failed_ttl_s),
            recent=recent_results(limits),
        )

    def load(self, checkpoint: Any, progress: Optional[Progress] = None) -> tuple:
        """A visitor's checkpoint field -> (Classifier, is an operator's folder). With
        ``progress``, a Hub download reports the megabytes that have arrived."""
        try:
            check_field(self.limits, checkpoint, "checkpoint")
            source, allow_local = self.folders.resolve(checkpoint or "")
            policy = self.hub_policy or HubPolicy.from_env()
            watched = None if allow_local else hub_folder(policy.cache_dir, source)
            with watching_download(progress, watched, source, 0.05):
                clf = load_classifier(
                    source,
                    allow_local=allow_local,
                    hub_policy=policy,
                    max_parameters=policy.max_parameters,
                    load_deadline_s=self.limits.load_deadline_s,
                    failures=self.failures,
                )
            return clf, allow_local
        except ExplainError as exc:
            raise self.public(exc) from None

    def explain(self, request: Request, progress: Optional[Progress] = None, session: Optional[str] = None) -> Explanation:
        """The whole request under the server's limits; raises ExplainError subclasses with
        messages for the visitor. ``session``: remember the result for that session's share panel."""
        return self.answer(request, progress, session, every_label=False).explanation

    def answer(
        self,
        request: Request,
        progress: Optional[Progress] = None,
        session: Optional[str] = None,
        every_label: bool = True,
        draft: Optional[Callable[[Explanation], None]] = None,
    ) -> Answer:
        """As ``explain``, and with ``every_label`` also the other labels on the same path
        (at most ``limits.max_labels``, the most probable; every candidate of a zero-shot
        query), unless a contrast or Captum asks for one label. A failed request forgets
        the session's last result (its share panel must not outlive it). ``draft``: called at
        most once with a first, coarser explanation of the target (``draft=True``, server paths
        hidden) when the run is estimated to take more than a few seconds."""
        try:
            return self._answer(request, progress or (lambda fraction, what: None), session, every_label, draft)
        except ExplainError as exc:
            self.forget(session)
            raise self.public(exc) from None
        except BaseException:
            self.forget(session)
            raise

    def _answer(
        self,
        r: Request,
        progress: Progress,
        session: Optional[str],
        every_label: bool,
        draft: Optional[Callable[[Explanation], None]] = None,
    ) -> Answer:
        req = self.check(r, every_label)
        progress(0.0, "Loading the model (downloading it the first time)")
        clf, local = self.load(req.checkpoint, progress)
        plan = self.plan(req, clf, local)
        explained, comparison, skipped = self.run(req, plan, progress, draft)
        return self.finish(req, plan, explained, comparison, skipped, session)

    def check(self, r: Request, every_label: bool = False) -> Checked:
        """Stage 1: every field of a raw request checked against this server's limits and
        typed; the options' combination rules are ``Options.validate``'s."""
        limits = self.limits
        check_text(limits, r.text)
        pair = check_pair(limits, r.text_pair, r.text)
        candidates = check_candidates(limits, r.candidate_labels)
        template = check_template(limits, r.hypothesis_template, DEFAULT_TEMPLATE)
        for name in ("checkpoint", "target", "baseline", "contrast", "method"):
            check_field(limits, getattr(r, name), name)
        steps = check_steps(limits, r.n_steps)
        options = Options(
            target=r.target or None,
            contrast=r.contrast or None,
            baseline=r.baseline or "auto",
            method=r.method or "engine",
            n_steps=steps or None,
            candidate_labels=candidates,
            hypothesis_template=template,
            multi_label=check_flag(r.multi_label, "multi-label"),
        )
        return Checked(
            text=r.text,
            checkpoint=str(r.checkpoint or "").strip(),
            text_pair=pair,
            options=options.validate(text_pair=pair is not None),
            faithfulness=check_flag(r.faithfulness, "faithfulness"),
            compare=check_flag(r.compare, "compare"),
            every_label=bool(every_label),
        )

    def plan(self, req: Checked, clf, local: bool) -> Plan:
        """Stage 2: what the request costs on this model (refused when it cannot fit the
        deadline), how many labels it explains on one path, and which checks will not run."""
        limits, o = self.limits, req.options
        n_tokens = check_tokens(clf.tokenizer, req.text, limits.max_tokens)
        if req.text_pair is not None:
            n_tokens += _pair_tokens(clf.tokenizer, req.text_pair, n_tokens, limits.max_tokens)
        rows = n_tokens
        if o.zero_shot:
            rows = len(o.candidate_labels) * (n_tokens + HYPOTHESIS_TOKENS)
            n_labels = len(o.candidate_labels) if req.every_label else 1
        elif not req.every_label or o.contrast or o.method == "captum" or clf.head == "regression":
            n_labels = 1
        else:
            n_labels = min(len(clf.labels), limits.max_labels)
        steps = o.n_steps or 0
        rate = fairness.rate(clf.memo, clf.n_parameters)
        base = fairness.estimate(rows, clf.max_length, steps, o.method, False, False, rate, labels=n_labels)
        fairness.check_cost(base, limits.deadline_s, n_tokens, steps, False, False)
        return Plan(
            clf=clf,
            local=local,
            n_labels=n_labels,
            base=base,
            skipped=self._plan_checks(req, rows, clf.max_length, rate, base),
            n_windows=max(1, -(-n_tokens // max(clf.max_length - 2, 1))),
        )

    def run(
        self, req: Checked, plan: Plan, progress: Progress, draft: Optional[Callable[[Explanation], None]] = None
    ) -> tuple:
        """Stage 3, under one deadline: the explanation(s), then the checks that fit.
        Returns (explanations, target first; the baseline comparison or None; skipped checks)."""
        skipped = dict(plan.skipped)
        checks = (req.faithfulness and "faithfulness" not in skipped) or (req.compare and "baselines" not in skipped)
        with deadline(self.limits.deadline_s):
            with ticking(progress, 0.1, 0.6 if checks else 0.95, "Explaining", plan.base.seconds):
                explained = self._explain_labels(plan.clf, req, plan.n_labels, self._drafts(draft, plan, req))
            target = explained[0]
            if req.faithfulness:
                target = target.with_extras(
                    faithfulness=self._faithfulness(plan.clf, target, skipped.get("faithfulness"), progress)
                )
            comparison = None
            if req.compare and "baselines" not in skipped:
                try:
                    with ticking(
                        progress,
                        0.8,
                        0.95,
                        "Comparing baselines: two more explanations",
                        2 * plan.base.seconds / plan.n_labels,
                    ):
                        comparison = compare_baselines(
                            plan.clf,
                            req.text,
                            reference=target,
                            options=Options(n_steps=req.options.n_steps, method=req.options.method),
                        )
                except ServerBusy:
                    skipped["baselines"] = (
                        "The baseline comparison was stopped: it ran past this server's time "
                        "limit for one request. Run it locally or on a shorter text."
                    )
        return (target,) + tuple(explained[1:]), comparison, skipped

    def finish(
        self, req: Checked, plan: Plan, explained: tuple, comparison, skipped: dict, session: Optional[str]
    ) -> Answer:
        """Stage 4: the model's measured speed learnt, the trust checks, server paths
        hidden, the labels ranked, and the result remembered for the session's share panel."""
        target = explained[0]
        if target.cache != "hit" and target.windows:
            window_tokens = sum(w.n_tokens for w in target.windows) / len(target.windows)
            share = 1 + fairness.EXTRA_LABEL * (len(explained) - 1)
            fairness.learn(plan.clf.memo, target.timings.get("attribution_s", 0.0) / share, target.steps, window_tokens)
        target = with_trust(target, comparison)
        if req.compare and "baselines" in skipped:
            target = target.with_extras(
                trust=tuple(
                    TrustCheck("baselines", "not run", skipped["baselines"]) if t.check == "baselines" else t
                    for t in target.extras.trust
                )
            )
        labels = tuple(target if k == 0 else with_trust(e) for k, e in enumerate(explained))
        if plan.local:  # an operator's folder: show its name, never the server path
            labels = tuple(
                e.replace(checkpoint={**e.checkpoint, "source": Path(e.checkpoint["source"]).name}) for e in labels
            )
        ranked = (
            tuple(sorted(labels, key=lambda e: -e.probabilities.get(e.target, 0.0)))
            if labels[0].head != "regression"
            else labels
        )
        answer = Answer(labels[0], ranked)
        if session:
            model = None if self.folders.is_default(req.checkpoint) else req.checkpoint
            self.recent.put(session, Shared(answer.explanation, model, req.options.target or None, ranked, req.link()))
        return answer

    def _plan_checks(self, req: Checked, rows: int, max_length: int, rate: float, base) -> dict:
        """The checks that will not run, each with its reason: estimated past the deadline
        (after the explanation itself), or not made for this kind of input."""
        skipped = {}
        steps, method = req.options.n_steps or 0, req.options.method
        left = self.limits.deadline_s - base.seconds
        single = fairness.estimate(rows, max_length, steps, method, False, False, rate)
        costs = {
            "faithfulness": fairness.estimate(rows, max_length, steps, method, True, False, rate).fixed,
            "baselines": fairness.estimate(rows, max_length, steps, method, False, True, rate).seconds - single.seconds,
        }
        names = {"faithfulness": "faithfulness check", "baselines": "baseline comparison"}
        for key, wanted in (("faithfulness", req.faithfulness), ("baselines", req.compare)):
            if not wanted:
                continue
            if key == "baselines" and (req.text_pair is not None or req.options.zero_shot):
                kind = "text pairs" if req.text_pair is not None else "zero-shot explanations"
                skipped[key] = f"The baseline comparison was skipped: it is not available for {kind} yet."
                continue
            if key == "faithfulness" and req.options.zero_shot:
                continue  # the check itself says why it does not run
            if costs[key] > left:
                skipped[key] = (
                    f"The {names[key]} was skipped: it would take about {costs[key]:,.0f} s more on this "
                    f"server, and this request has about {max(left, 0):,.0f} s left of the "
                    f"{self.limits.deadline_s:g} s each request may run. Run it on a shorter text, with "
                    "fewer integration steps, or locally."
                )
            else:
                left -= costs[key]
        return skipped

    def _drafts(self, draft, plan: Plan, req: Checked):
        """The engine's draft (one explanation, or the labels' tuple) -> ``draft`` of the target's,
        its folder's path hidden; None when nobody asked for one."""
        if draft is None:
            return None

        def one(got) -> None:
            if isinstance(got, tuple):
                wanted = req.options.target
                got = next((e for e in got if wanted and e.target == wanted), got[0]) if got else None
            if got is None:
                return
            if plan.local:
                got = got.replace(checkpoint={**got.checkpoint, "source": Path(got.checkpoint["source"]).name})
            draft(got)

        return one

    def _explain_labels(self, clf, req: Checked, n_labels: int, draft=None) -> tuple:
        """The target's explanation first, then the other labels explained with it."""
        o, pair = req.options, req.text_pair
        wanted = o.target
        if o.zero_shot:
            if not req.every_label:
                return (api.explain(req.text, clf, o, draft=draft),)
            got = api.explain_labels(req.text, clf, options=o.but(target=None), draft=draft)
            return _target_first(got, wanted, lambda: _unknown_candidate(wanted, list(o.candidate_labels)))
        if n_labels == 1:
            return (api.explain(req.text, clf, o, text_pair=pair, draft=draft),)
        got = api.explain_labels(
            req.text, clf, "all", o.but(target=None, contrast=None), top_k=n_labels, text_pair=pair, draft=draft
        )
        return _target_first(got, wanted, lambda: (api.explain(req.text, clf, o, text_pair=pair),) + got[: n_labels - 1])

    def _faithfulness(self, clf, expl: Explanation, skip: Optional[str], progress: Progress):
        """The target's faithfulness report (from the recent ones when the same explanation
        was checked before), or a skipped one saying why."""
        if skip:
            return dataclasses.replace(evaluate_faithfulness(expl, clf, max_forward_tokens=-1), skipped=skip)
        key = (
            api.identity(clf),
            expl.text,
            expl.text_pair,
            expl.target,
            expl.contrast,
            expl.baseline.get("token_id"),
            expl.steps,
            expl.method,
            tuple(w.score for w in expl.words),
        )
        report = self.checked.get(key)
        if report is None:
            with ticking(progress, 0.6, 0.8, "Faithfulness check: hiding words and measuring the model", 0.0):
                report = evaluate_faithfulness(expl, clf)
            if not report.skipped:
                self.checked.put(key, report)
        return report

    def hide(self, explanation: Explanation, checkpoint: Any, words: Any = "", top: Any = 0) -> WordsHidden:
        """What the model says with some words of ``explanation`` hidden: ``words`` - word
        numbers as the page and the table show them (1 = the first word; a list, or text like
        "3, 7"), or ``top`` - the k words that speak most for the explained label. One forward
        pass per window, on the model that made the explanation (``checkpoint`` as the visitor
        named it)."""
        wanted = hidden_words(explanation, words, top)
        clf, _ = self.load(checkpoint)
        try:
            with deadline(self.limits.deadline_s):
                return hide_words(explanation, clf, wanted)
        except ExplainError as exc:
            raise self.public(exc) from None

    def verify(self, request: Request, words: Any = "", top: Any = 0, session: Optional[str] = None) -> WordsHidden:
        """The API's check of an explanation: the request explained (from the result cache when
        it was explained before), then ``hide`` on it."""
        explanation = self.explain(request, session=session)
        return self.hide(explanation, request.checkpoint, words, top)

    def shared(self, session: Optional[str]) -> Optional[Shared]:
        """The last explanation this server made for ``session`` (None: none kept)."""
        return self.recent.get(session) if session else None

    def show(self, session: Optional[str], label: Any) -> Optional[Shared]:
        """Switch the session's shown explanation to another label explained with it (no
        model runs); None when the session has no such label."""
        shared = self.shared(session)
        if shared is None or not isinstance(label, str):
            return None
        match = next((e for e in shared.labels if e.target == label), None)
        if match is None:
            return None
        shown = dataclasses.replace(shared, explanation=match, target=label)
        self.recent.put(session, shown)
        return shown

    def forget(self, session: Optional[str]) -> None:
        """Drop the session's last result (after a failed request)."""
        if session:
            self.recent.pop(session)

    def predict(self, texts: list, checkpoint: Any = "") -> list:
        """The model's own answer, (label, probability), per text - a plain forward pass
        (the explainer's predictions equal it) - or None for a text longer than the model
        reads. Used to mark the examples the model gets wrong."""
        import torch

        from ..engine.heads import probabilities

        clf, _ = self.load(checkpoint)
        out = []
        with clf.lock, torch.no_grad():
            for text in texts:
                enc = clf.tokenizer(text, return_tensors="pt", truncation=False)
                if enc["input_ids"].shape[1] > clf.max_length:
                    out.append(None)
                    continue
                logits = clf.model(**{k: v.to(clf.device) for k, v in enc.items()}).logits.float()
                probs = probabilities(logits, clf.head)[0]
                best = int(probs.argmax())
                out.append((clf.labels[best], float(probs[best])))
        return out

    def describe(self, checkpoint: Any, entries: list, progress: Optional[Progress] = None) -> dict:
        """What the page says about a loaded checkpoint: its labels and head, which inputs
        it takes (``catalog.Tasks``) and one line about it. Loads it (``progress``: the
        download's megabytes)."""
        if progress is not None:
            progress(0.0, "Loading the checkpoint (downloading it the first time)")
        clf, local = self.load(checkpoint, progress)
        entry = catalog.find(entries, str(checkpoint or ""))
        card = catalog.read_card(clf.source) if local else {}
        default = self.folders.is_default(checkpoint or "")
        name = self.folders.default_name() if default else (Path(clf.source).name if local else str(checkpoint).strip())
        if default:
            line = catalog.default_line(name, clf.source if local else None, list(clf.labels))
        else:
            line = catalog.model_line(name, clf.head, list(clf.labels), clf.n_parameters, entry, card)
        return {
            "labels": list(clf.labels),
            "head": clf.head,
            "tasks": catalog.tasks(clf.labels, clf.head, card, entry),
            "line": line,
        }

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


MAX_HIDDEN = 64  # words one check may hide (a click hides one; "the top k" a few)


def hidden_words(expl: Explanation, words: Any = "", top: Any = 0) -> list:
    """Indices into ``expl.words`` from what a visitor sends: word numbers (1-based, as shown)
    as a list or as text "3, 7", or ``top`` k (the words most in favour of the label)."""
    n = len(expl.words)
    if top not in (None, "", 0):
        if isinstance(top, bool) or not isinstance(top, (int, float)) or top != int(top) or not 1 <= top <= MAX_HIDDEN:
            raise InvalidInput(
                f"top must be a whole number from 1 to {MAX_HIDDEN}, not {top!r}.", "Ask for e.g. the top 3 words."
            )
        order = sorted(range(n), key=lambda i: (-expl.words[i].score, i))
        return order[: int(top)]
    if isinstance(words, str):
        parts = [p.strip() for p in words.replace(";", ",").split(",") if p.strip()]
        if len(parts) > MAX_HIDDEN or not all(p.isdigit() and len(p) <= 7 for p in parts):
            raise InvalidInput(
                f"Words to hide are word numbers separated by commas (at most {MAX_HIDDEN}), not {words[:40]!r}.",
                "Send e.g. '3, 7' (1 is the first word).",
            )
        numbers = [int(p) for p in parts]
    elif (
        isinstance(words, (list, tuple))
        and len(words) <= MAX_HIDDEN
        and all(isinstance(w, int) and not isinstance(w, bool) for w in words)
    ):
        numbers = list(words)
    else:
        raise InvalidInput(
            "Words to hide must be word numbers (a list, or text like '3, 7').", "Send e.g. '3, 7' (1 is the first word)."
        )
    if not numbers:
        raise InvalidInput("No words to hide were given.", "Send word numbers like '3, 7', or top=3.")
    bad = [k for k in numbers if not 1 <= k <= n]
    if bad:
        raise InvalidInput(f"The text has {n} words; there is no word {bad[0]}.", f"Use numbers from 1 to {n}.")
    return [k - 1 for k in numbers]


def _pair_tokens(tokenizer, pair: str, n_text: int, max_tokens: Optional[int]) -> int:
    n = len(tokenizer(pair, add_special_tokens=False, truncation=False)["input_ids"])
    if n == 0:
        raise InvalidInput(
            "This model's tokenizer finds no tokens in the text pair, so there is nothing to explain in it.",
            "Type words in the second text, or leave it empty.",
        )
    if max_tokens is not None and n_text + n > max_tokens:
        raise InvalidInput(
            f"The text and the text pair are {n_text + n:,} tokens long together for this model; this "
            f"server explains at most {max_tokens:,}.",
            "Shorten them, or run the explainer locally.",
        )
    return n


def _target_first(got: tuple, wanted: Optional[str], missing: Callable[[], tuple]) -> tuple:
    """``got`` (most probable first) with the explanation of ``wanted`` (a label name,
    matched exactly, else ignoring case) moved to the front; ``missing()`` when none is."""
    if not wanted:
        return tuple(got)
    name = str(wanted).strip()
    match = next((e for e in got if e.target == name), None) or next(
        (e for e in got if e.target.casefold() == name.casefold()), None
    )
    if match is None:
        return tuple(missing())
    return (match,) + tuple(e for e in got if e is not match)


def _unknown_candidate(wanted: str, candidates: list):
    raise InvalidInput(
        f"The label to explain, {wanted!r}, is not one of the candidate labels ({', '.join(candidates)}).",
        "Pick one of them, or leave it empty for the top one.",
    )
