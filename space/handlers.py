"""The page's event functions, bound to one ``Service`` (the operator's settings): loading
a checkpoint's labels, showing a task's boxes, explaining (for the page and for API
callers), switching between explained labels, deep links and the share panel, examples.

What each returns is a named tuple of ``panels``; failures become one plain message (the
page shows it inline, escaped once; API callers get it as a ``gr.Error``)."""

from __future__ import annotations

import contextvars
import logging
import os
import queue
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

import gradio as gr

from explain import logbook
from explain.errors import ExplainError
from explain.render import escape, page
from explain.serving import Request, Service, abandoned_when, catalog, share

from . import panels
from .internals import forget_session
from .internals import from_page as for_page
from .panels import ModelPanels, Panels, Sharing, TaskPanels

log = logging.getLogger("explain.app")
TASKS = [("One text", "one"), ("Text pair", "pair"), ("Zero-shot labels", "zero-shot")]


# --- messages: one line in the log, plain text to API callers, escaped once for the page ----------


def shown_as(text: str, request) -> str:
    """``text`` as the caller shows it: escaped for the page, plain for everyone else."""
    return escape.html(text, quote=False) if for_page(request) else text


def plain_message(exc: BaseException) -> str:
    """The visitor's message for a failure; the log gets one line (a traceback only for the unexpected)."""
    if isinstance(exc, ExplainError):  # the first of a kind in full, then one summary a minute
        logbook.note(log, f"refused ({exc.code})", "refused (%s): %s", exc.code, " ".join(str(exc).split())[:300])
        return str(exc)
    log.error("unexpected failure (%s): %s", type(exc).__name__, exc, exc_info=exc)
    return (
        f"Something went wrong inside the explainer ({type(exc).__name__}). "
        "Try again; if it persists, report it with the text and model used."
    )


def user_error(exc: BaseException, request=None) -> gr.Error:
    """The API caller's gr.Error (the page gets its errors inline instead)."""
    text = plain_message(exc)
    forget_session(request)
    return gr.Error(shown_as(text, request), print_exception=False)


def session_of(request) -> Optional[str]:
    return getattr(request, "session_hash", None)


def _fatal(exc: BaseException) -> bool:
    return isinstance(exc, (KeyboardInterrupt, SystemExit))


@dataclass
class Page:
    """The page's events on ``service``; the files it reads (examples, catalog) and the
    folder its downloads go to."""

    service: Service
    default_model: str
    hub_file: Path  # examples/hub_models.json: the well-known checkpoints
    examples_file: Path  # examples/texts.json: the example texts
    downloads: Path
    _marks: dict = field(default_factory=dict)

    # --- models: labels, what the model takes, one line about it ---------------------------------

    def _model_outputs(self, checkpoint, request, progress=None) -> ModelPanels:
        page_call = for_page(request)
        try:
            info = self.service.describe(checkpoint, catalog.read_json(self.hub_file), progress)
        except BaseException as exc:  # keep serving whatever the checkpoint does
            if _fatal(exc):
                raise
            text = plain_message(exc)
            if not page_call:
                gr.Warning(shown_as(text, request) if isinstance(exc, ExplainError) else "Could not load that model.")
            error = page.error_panel(
                text, kept=self.service.shared(session_of(request)) is not None, title="Could not load this model."
            )
            name = str(checkpoint)[:80] if isinstance(checkpoint, str) else "that model"
            card = escape.markdown(
                f"Could not load {name}: no model card to show. Fix the model name, or clear it for the default model."
            )
            return ModelPanels(
                "",
                gr.update(choices=[""], value=""),
                gr.update(value="one", visible=False),
                gr.update(visible=False),
                card,
                error,
                None,
            )
        contrast = [""] + info["labels"] if info["head"] != "regression" else [""]
        tasks = info["tasks"]
        offered = [
            t for t in TASKS if t[1] == "one" or (t[1] == "pair" and tasks.pair) or (t[1] == "zero-shot" and tasks.zero_shot)
        ]
        return ModelPanels(
            target="",
            contrast=gr.update(choices=contrast, value=""),
            task=gr.update(
                choices=offered, value="pair" if tasks.pair and tasks.zero_shot else "one", visible=len(offered) > 1
            ),
            text_pair=gr.update(label=f"{tasks.pair_name} (the second text of the pair)"),
            card=escape.markdown(info["line"]),
            error="",
            loaded={"checkpoint": str(checkpoint or "").strip(), "labels": info["labels"]},
        )

    def _labels(self, checkpoint, request, progress=None) -> ModelPanels:
        if checkpoint is not None and not isinstance(checkpoint, str):
            try:
                self.service.load(checkpoint)
            except ExplainError as exc:
                raise user_error(exc, request) from None
        return self._model_outputs(checkpoint, request, progress)

    def labels_for(self, checkpoint: str, request: gr.Request = None, progress=gr.Progress()):
        """The model's labels for the target and contrast dropdowns (empty = the predicted label /
        no contrast; both reset), the inputs it takes, one line about it, and an error if it
        does not load. A checkpoint field that is not text is an error."""
        return tuple(self._labels(checkpoint, request, progress))

    def model_changed(self, checkpoint, loaded, request: gr.Request = None, progress=gr.Progress()):
        """The page's checkpoint box lost focus or a checkpoint chip was clicked: the same as
        labels_for, unless that checkpoint's labels are already loaded (the target stays)."""
        if isinstance(loaded, dict) and isinstance(checkpoint, str) and loaded.get("checkpoint") == checkpoint.strip():
            return tuple(ModelPanels.unchanged())
        return tuple(self._labels(checkpoint, request, progress))

    def labels_and_target(
        self, checkpoint: str, wanted: str, task: str, candidates: str, request: gr.Request = None, progress=gr.Progress()
    ):
        """labels_for, then the deep link's task and target (if any)."""
        out = self._labels(checkpoint, request, progress)
        task_box = out.task
        offered = [value for _, value in (task_box.get("choices") or [])] if isinstance(task_box, dict) else []
        if task and task in offered:
            out = out._replace(task=gr.update(choices=task_box["choices"], value=task, visible=True))
        if wanted:
            out = out._replace(target=wanted)
        return tuple(out)

    def show_task(self, task, loaded, candidates, target, contrast):
        """One text, a text pair or zero-shot labels: the boxes each needs (the others hidden
        and emptied, so nothing hidden is sent), and for zero-shot the candidates as the labels
        to explain (a chosen label stays when it is still one)."""
        pair, zero = task == "pair", task == "zero-shot"
        labels = list(loaded.get("labels", [])) if isinstance(loaded, dict) else []
        wanted = self.candidates(candidates) if zero else labels
        keep = lambda value, among: value if isinstance(value, str) and value in among else ""
        return tuple(
            TaskPanels(
                text_pair=gr.update(visible=pair, **({} if pair else {"value": ""})),
                candidates=gr.update(visible=zero, **({} if zero else {"value": ""})),
                template=gr.update(visible=zero),
                multi_label=gr.update(visible=zero),
                target=keep(target, wanted),
                contrast=gr.update(
                    choices=[""] if zero else [""] + labels,
                    value="" if zero else keep(contrast, labels),
                    interactive=not zero,
                ),
            )
        )

    def candidates_changed(self, candidates, task, target):
        """Zero-shot: the labels to explain are the candidates (a chosen one that is no longer
        among them is dropped)."""
        if task != "zero-shot":
            return gr.skip()
        return target if isinstance(target, str) and target in self.candidates(candidates) else ""

    def candidates(self, value) -> list:
        if not isinstance(value, str):
            return []
        wanted = dict.fromkeys(c.strip() for c in value.split(",") if c.strip())
        return list(wanted)[: self.service.limits.max_candidates]

    # --- explaining: the pipeline's answer -> what the page and the API show -----------------------

    def run_explain(
        self,
        text: str,
        checkpoint: str,
        target: str = "",
        baseline: str = "auto",
        n_steps: float = 0,
        contrast: str = "",
        faithfulness: bool = False,
        compare: bool = False,
        method: str = "engine",
        text_pair: str = "",
        candidate_labels: str = "",
        hypothesis_template: str = "",
        multi_label: bool = False,
        progress=gr.Progress(track_tqdm=True),
        request: gr.Request = None,
    ):
        """The /explain endpoint (outputs: ``panels.Panels``, in its field order). Its inputs
        arrive as the caller sent them (no Gradio preprocessing): the service checks each. The
        page gets every label explained on one path (to switch between them) and its errors
        inline; API callers get the target's explanation and their errors as errors."""
        r = Request(
            text,
            checkpoint,
            target,
            baseline,
            n_steps,
            contrast,
            faithfulness,
            compare,
            method,
            text_pair,
            candidate_labels,
            hypothesis_template,
            multi_label,
        )
        if not for_page(request):
            yield tuple(self.explain_form(r, progress, request))
            return
        yield from self._streamed(r, progress, request)

    def _streamed(self, r: Request, progress, request):
        """The page's run: a first, coarser set of colours as soon as the engine has one
        (only when the run is estimated to take more than a few seconds; marked
        "refining"), then the final result. The explanation runs in a worker thread (with
        this context: Gradio's progress needs it); this generator hands on what it sends."""
        sent: queue.Queue = queue.Queue()
        done: dict = {}
        gone = threading.Event()  # Gradio closed this generator: the tab went, nobody reads on

        def work() -> None:
            try:
                with abandoned_when(gone):
                    done["panels"] = self.explain_form(r, progress, request, draft=sent.put)
            except BaseException as exc:  # noqa: BLE001 - handed to the generator, raised in Gradio's thread
                done["error"] = exc
            finally:
                sent.put(None)

        threading.Thread(target=contextvars.copy_context().run, args=(work,), daemon=True, name="explain-page-run").start()
        try:
            while (first := sent.get()) is not None:
                yield tuple(panels.draft(first))
        finally:
            gone.set()  # after the last answer, a no-op; when closed at the draft, the run stops at its next round
        if "error" in done:
            raise done["error"]
        yield tuple(done["panels"])

    def explain_form(self, r: Request, progress=None, request=None, draft=None) -> Panels:
        """The form's request -> its panels (for the page, or an API caller). ``draft``: as
        ``Service.answer``'s."""
        page_call = for_page(request)
        session = session_of(request)
        report = (lambda fraction, what: progress(fraction, desc=what)) if progress is not None else None
        kept = self.service.shared(session) is not None  # a result on the page (a failed request forgets it)
        try:
            answer = self.service.answer(r, report, session, every_label=page_call, draft=draft)
        except BaseException as exc:
            if _fatal(exc):
                raise
            if not page_call:
                raise user_error(exc, request) from None
            message = plain_message(exc)
            self.service.forget(session)
            forget_session(request, keep_state=True)  # the tab's loaded model and chosen label stay
            return panels.failed(message, kept)
        if page_call:
            return panels.for_page(answer.explanation, answer.labels)
        return panels.values(answer.explanation, answer.labels)

    def explain_json(
        self,
        text: str,
        model: str = "",
        target: str = "",
        text_pair: str = "",
        candidate_labels: str = "",
        hypothesis_template: str = "",
        request: gr.Request = None,
    ) -> dict:
        """Explain a text classifier's prediction on a text: signed word attributions.

        Args:
            text: the text to classify and explain.
            model: a Hugging Face Hub ID of a sequence-classification model (empty: this app's default model).
            target: the label to explain (empty: the predicted label).
            text_pair: an optional second text, for models that read a pair (an NLI hypothesis, a passage).
            candidate_labels: zero-shot classification with an NLI model: comma-separated labels (empty: none).
            hypothesis_template: zero-shot: the hypothesis, with {} where the label goes (empty: "This example is {}.").

        Returns:
            The explanation as JSON: probabilities per label, the predicted and explained label, and "words" with
            their character spans in the text and signed scores (positive pushes toward the target label).
        """
        r = Request(
            text,
            model,
            target,
            text_pair=text_pair,
            candidate_labels=candidate_labels,
            hypothesis_template=hypothesis_template,
        )
        try:
            return self.service.explain(r, session=session_of(request)).to_dict()
        except BaseException as exc:
            if _fatal(exc):
                raise
            raise user_error(exc, request) from None

    def choose_label(
        self,
        label,
        text,
        checkpoint,
        target,
        baseline,
        n_steps,
        contrast,
        faithfulness,
        compare,
        method,
        text_pair,
        candidate_labels,
        hypothesis_template,
        multi_label,
        progress=gr.Progress(track_tqdm=True),
        request: gr.Request = None,
    ):
        """The one place to pick the label explained: one already explained with the shown
        result is switched to at once; any other is explained (the form with that target)."""
        shown = self.service.show(session_of(request), label)
        if shown is not None:
            out = panels.for_page(shown.explanation, shown.labels)._replace(labels=gr.skip())
            return tuple(out) + (label,)
        if not isinstance(label, str) or not label:
            return tuple(Panels.unchanged()) + (gr.skip(),)
        r = Request(
            text,
            checkpoint,
            label,
            baseline,
            n_steps,
            contrast,
            faithfulness,
            compare,
            method,
            text_pair,
            candidate_labels,
            hypothesis_template,
            multi_label,
        )
        return tuple(self.explain_form(r, progress, request)) + (label,)

    def hide_clicked(self, which, request: gr.Request = None) -> str:
        """A word clicked on the page (its number, 1-based): the model's answer without it."""
        return self._verify(request, words=which if isinstance(which, str) else "")

    def hide_top(self, request: gr.Request = None) -> str:
        """ "Hide the top 3 words": the model's answer without the words that speak most for the label."""
        return self._verify(request, top=3)

    def _verify(self, request, words="", top=0) -> str:
        shared = self.service.shared(session_of(request))
        if shared is None:
            return page.verify_message("Explain a text first; then click one of its words.")
        try:
            got = self.service.hide(shared.explanation, shared.model or "", words.split("#")[0], top)
        except BaseException as exc:
            if _fatal(exc):
                raise
            return page.verify_message(plain_message(exc))
        return page.verify_panel(got)

    def hide_words(
        self,
        text: str,
        model: str = "",
        target: str = "",
        text_pair: str = "",
        words: str = "",
        top: int = 0,
        request: gr.Request = None,
    ) -> dict:
        """Check an explanation yourself: what the model says with some words hidden.

        Args:
            text: the text that was explained.
            model: the model's Hub ID (empty: this app's default model).
            target: the label explained (empty: the predicted label).
            text_pair: the second text of a pair, if any.
            words: word numbers to hide, comma-separated (1 is the first word of the explanation's "words").
            top: instead, hide this many of the words that speak most for the label.

        Returns:
            The words hidden, the model's probabilities without them, its prediction, and for the explained label
            its value with the words ("before"), the value the word scores predict without them ("claimed") and
            the model's own ("measured"), in "unit" (probability, share, score or value).
        """
        try:
            got = self.service.verify(
                Request(text, model, target, text_pair=text_pair), words, top, session=session_of(request)
            )
        except BaseException as exc:
            if _fatal(exc):
                raise
            raise user_error(exc, request) from None
        return {
            "words": [
                {"text": w.text, "start": w.start, "end": w.end, "score": w.score, "segment": w.segment} for w in got.words
            ],
            "probabilities": got.probabilities,
            "predicted": got.predicted,
            "target": got.target,
            "before": got.before,
            "claimed": got.claimed,
            "measured": got.measured,
            "unit": got.unit,
        }

    @staticmethod
    def start_run():
        """A run starts: its share panel, download and error from the last run are cleared."""
        return tuple(Sharing.cleared()) + ("",)

    # --- share / embed panel and deep links (?model=ID&text=...&target=...&text_pair=...&labels=...) ----

    @staticmethod
    def from_link(request: gr.Request):
        """On page load: fill the form from the query (text, checkpoint, text pair or zero-shot
        labels and template) and remember the target."""
        asked = share.read_link(dict(getattr(request, "query_params", None) or {}))
        fill = lambda key: gr.update(value=asked[key]) if key in asked else gr.skip()
        task = "zero-shot" if "labels" in asked else "pair" if "text_pair" in asked else None
        multi = asked.get("multi_label", "").lower() in ("1", "true", "yes", "on")
        return (
            fill("text"),
            fill("model"),
            fill("text_pair"),
            fill("labels"),
            fill("template"),
            gr.update(value=multi) if "multi_label" in asked else gr.skip(),
            asked.get("target", ""),
            task or "",
        )

    def share_panel(self, request: gr.Request):
        """After an explanation: the deep link, badge, embeds, static renderings and downloads of
        the result this server made for the session and shows (never of values a client sends);
        cleared when the session has none (its last run failed)."""
        shared = self.service.shared(session_of(request))
        if shared is None:
            return tuple(Sharing.cleared())
        base = share.public_base(os.environ, *_page_urls(request))
        b = share.bundle(shared.explanation.to_dict(), base, shared.model, shared.target, gr.__version__, dict(shared.link))
        json_path, *files = share.write_files(
            self.downloads, b["files"], max_bytes=int(self.service.limits.downloads_mb * 2**20)
        )
        return tuple(
            Sharing(
                link=gr.update(value=b["link"], info=b["note"] or None),
                badge=b["badge"],
                iframe=b["iframe"],
                web_component=b["web_component"],
                static=b["html"],
                preview=b["html"],
                files=files,
                download=gr.update(value=json_path, interactive=True),
            )
        )

    # --- the default model, examples and well-known checkpoints ------------------------------------

    def default_card(self) -> str:
        """The default model's one-line card (its README and labels), or its name alone."""
        labels = None
        try:
            labels = self.service.load("")[0].labels
        except ExplainError as exc:
            log.info("default model not loaded for its card: %s", exc)
        folder = self.default_model if Path(self.default_model).is_dir() else None
        return escape.markdown(catalog.default_line(self.service.folders.default_name(), folder, labels))

    def example_texts(self) -> list:
        """The example texts: (text, expected label, the default model's own answer or None, language)."""
        texts = [t for t in catalog.read_json(self.examples_file) if isinstance(t, dict) and isinstance(t.get("text"), str)]
        key = (self.default_model, tuple(t["text"] for t in texts))
        if texts and key not in self._marks:
            try:
                self._marks[key] = self.service.predict([t["text"] for t in texts])
            except ExplainError as exc:
                log.info("example predictions not made: %s", exc)
                self._marks[key] = [None] * len(texts)
        return [(t["text"], t.get("label"), got, t.get("lang")) for t, got in zip(texts, self._marks.get(key, []))]

    def models(self) -> list:
        return [m for m in catalog.read_json(self.hub_file) if isinstance(m, dict) and m.get("id")]

    def pick_example(self, index):
        """An example clicked: the form filled with its text on the default model, one text, no
        target or contrast (the other options stay as the visitor set them)."""
        examples = self.example_texts()
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(examples):
            return tuple(gr.skip() for _ in range(5))
        return examples[index][0], self.service.folders.default_name(), "", "", "one"

    def pick_model(self, index):
        """A well-known checkpoint clicked: its ID in the checkpoint box (its labels load next)."""
        models = self.models()
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(models):
            return gr.skip()
        return models[index]["id"]


def _page_urls(request) -> tuple:
    try:
        return request.headers.get("referer"), str(request.url)
    except Exception:  # noqa: BLE001 - a request without headers (direct calls): fall back to env / default
        return None, None
