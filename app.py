"""Gradio app: explain a text classifier's prediction, word by word.

Layout and wiring only: components, events, the queue. The request pipeline is
``explain.serving``, what the panels show (and the page's CSS and script) is
``explain.render``."""

from __future__ import annotations

import inspect
import logging
import os
import tempfile
import time
import weakref
from pathlib import Path

import gradio as gr
import pandas as pd
from fastapi import HTTPException
from starlette.middleware import Middleware

from explain.errors import ExplainError
from explain.render import escape, page
from explain.render.views import (
    CURVES,
    categories,
    comparison_markdown,
    curve_note,
    curve_rows,
    curve_titles,
    highlighted_levels,
    label_choices,
    label_scores,
    summary_markdown,
    trust_headline,
    trust_markdown,
    word_rows,
)
from explain.serving import BASELINE_KINDS, BodyLimit, Request, Service, catalog, client_key, on_gpu, over_cap, share

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = os.environ.get("EXPLAIN_DEFAULT_MODEL", str(HERE / "examples" / "minilm-rt-sentiment"))
# The text shown (and explained) on load: a review the bundled model gets right, whose
# words tell an easy story ("thin" against, "wonderful" for).
DEFAULT_TEXT = "The story is thin, but the performances are wonderful and the ending is moving."
DEFAULT_TEMPLATE = "This example is {}."
DOWNLOADS = Path(tempfile.gettempdir()) / "explain-downloads"  # newest results' files, capped in bytes
HUB_MODELS = HERE / "examples" / "hub_models.json"
EXAMPLE_TEXTS = HERE / "examples" / "texts.json"
# Faithfulness curves, in CURVES order: neutral greys and greens (not the words' orange and
# blue), the explanation's ranking dark, random orders light.
CURVE_COLOURS = ["#333333", "#a3a3a3", "#1b7837", "#99d8a0"]
TASKS = [("One text", "one"), ("Text pair", "pair"), ("Zero-shot labels", "zero-shot")]
log = logging.getLogger("explain.app")
# The operator's settings (EXPLAIN_* variables): limits, queue, caches, allowed folders.
SERVICE = Service.from_env(DEFAULT_MODEL)
# Every event that loads or runs a model shares one concurrency group (EXPLAIN_CONCURRENCY at once).
MODEL_GROUP = "model"
# /explain takes the form's nine inputs, then these optional ones (older callers send nine).
OPTIONAL_INPUTS = {"run_explain": 4, "explain_json": 3}
# ZeroGPU: a GPU for each call that runs a model, for about as long as a request may run.
GPU_SECONDS = int(SERVICE.limits.deadline_s + SERVICE.limits.load_deadline_s / 4)


# --- Messages: one line in the log, plain text to API callers, escaped once for the page ------------


def _for_page(request) -> bool:
    """Is the caller the app's own page? Its Gradio client sends ``x-gradio-user: app`` (the
    Python and JavaScript API clients send "api", MCP "mcp", curl nothing). Only the page
    renders a message as HTML, so only the page gets it escaped."""
    try:
        return (request.headers.get("x-gradio-user") or "").lower() == "app"
    except Exception:  # noqa: BLE001 - no request (a direct call): plain text
        return False


def _message(text: str, request) -> str:
    return escape.html(text, quote=False) if _for_page(request) else text


def _plain_message(exc: BaseException) -> str:
    """The visitor's message for a failure; the log gets one line (a traceback only for the unexpected)."""
    if isinstance(exc, ExplainError):
        log.info("refused (%s): %s", exc.code, " ".join(str(exc).split())[:300])
        return str(exc)
    log.error("unexpected failure (%s): %s", type(exc).__name__, exc, exc_info=exc)
    return (f"Something went wrong inside the explainer ({type(exc).__name__}). "
            "Try again; if it persists, report it with the text and model used.")


def _user_error(exc: BaseException, request=None) -> gr.Error:
    """The API caller's gr.Error (the page gets its errors inline instead)."""
    text = _plain_message(exc)
    _forget_session(request)
    return gr.Error(_message(text, request), print_exception=False)


def _forget_session(request) -> None:
    """Drop what Gradio stored for this session (the refused request's inputs among it):
    nothing a refused request sent outlives it. The page's own values live in the page."""
    try:
        holder = request.request.app.state_holder
        with holder.lock:
            holder.session_data.pop(request.session_hash, None)
            holder.time_last_used.pop(request.session_hash, None)
    except Exception:  # noqa: BLE001 - no session to forget (a direct call, another Gradio)
        pass


def _session(request) -> str | None:
    return getattr(request, "session_hash", None)


# --- Models: labels, what the model takes, one line about it --------------------------------------


def _model_outputs(checkpoint, request, progress=None) -> tuple:
    """(target, contrast, task, text pair box, model line, error, loaded) for a checkpoint."""
    page_call = _for_page(request)
    try:
        info = SERVICE.describe(checkpoint, catalog.read_json(HUB_MODELS), progress)
    except BaseException as exc:  # keep serving whatever the checkpoint does
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        text = _plain_message(exc)
        if not page_call:
            gr.Warning(_message(text, request) if isinstance(exc, ExplainError) else "Could not load that model.")
        empty = gr.update(choices=[""], value="")
        error = page.error_panel(text, kept=SERVICE.shared(_session(request)) is not None,
                                 title="Could not load this model.")
        return (empty, empty, gr.update(value="one", visible=False), gr.update(visible=False), gr.skip(), error,
                None)
    choices = [""] + info["labels"]
    contrast = choices if info["head"] != "regression" else [""]
    tasks = info["tasks"]
    offered = [t for t in TASKS if t[1] == "one" or (t[1] == "pair" and tasks.pair)
               or (t[1] == "zero-shot" and tasks.zero_shot)]
    task = gr.update(choices=offered, value="pair" if tasks.pair and tasks.zero_shot else "one",
                     visible=len(offered) > 1)
    pair_box = gr.update(label=f"{tasks.pair_name} (the second text of the pair)")
    loaded = {"checkpoint": str(checkpoint or "").strip(), "labels": info["labels"]}
    return (gr.update(choices=choices, value=""), gr.update(choices=contrast, value=""), task, pair_box,
            escape.markdown(info["line"]), "", loaded)


def _labels(checkpoint, request, progress=None) -> tuple:
    if checkpoint is not None and not isinstance(checkpoint, str):
        try:
            SERVICE.load(checkpoint)
        except ExplainError as exc:
            raise _user_error(exc, request) from None
    return _model_outputs(checkpoint, request, progress)


def labels_for(checkpoint: str, request: gr.Request = None, progress=gr.Progress()):
    """The model's labels for the target and contrast dropdowns (empty = the predicted label /
    no contrast; both reset), the inputs it takes, one line about it, and an error if it
    does not load. A checkpoint field that is not text is an error."""
    return _labels(checkpoint, request, progress)


def model_changed(checkpoint, loaded, request: gr.Request = None, progress=gr.Progress()):
    """The page's checkpoint box lost focus or a checkpoint chip was clicked: the same as
    labels_for, unless that checkpoint's labels are already loaded (the target stays)."""
    if isinstance(loaded, dict) and isinstance(checkpoint, str) and loaded.get("checkpoint") == checkpoint.strip():
        return tuple(gr.skip() for _ in range(7))
    return _labels(checkpoint, request, progress)


def show_task(task, loaded, candidates, target, contrast):
    """One text, a text pair or zero-shot labels: the boxes each needs (the others hidden
    and emptied, so nothing hidden is sent), and for zero-shot the candidates as the labels
    to explain (a chosen label stays when it is still one)."""
    pair, zero = task == "pair", task == "zero-shot"
    labels = list(loaded.get("labels", [])) if isinstance(loaded, dict) else []
    wanted = _candidates(candidates) if zero else labels
    keep = lambda value, among: value if isinstance(value, str) and value in among else ""
    target = gr.update(choices=[""] + list(wanted), value=keep(target, wanted))
    contrast = gr.update(choices=[""] if zero else [""] + labels, value="" if zero else keep(contrast, labels),
                         interactive=not zero)
    return (gr.update(visible=pair, **({} if pair else {"value": ""})),
            gr.update(visible=zero, **({} if zero else {"value": ""})),
            gr.update(visible=zero), gr.update(visible=zero), target, contrast)


def candidates_changed(candidates, task):
    """Zero-shot: the labels to explain are the candidates."""
    if task != "zero-shot":
        return gr.skip()
    return gr.update(choices=[""] + _candidates(candidates), value="")


def _candidates(value) -> list:
    if not isinstance(value, str):
        return []
    return list(dict.fromkeys(c.strip() for c in value.split(",") if c.strip()))[:SERVICE.limits.max_candidates]


# --- Explaining: the pipeline's answer -> what the page and the API show -------------------------


def _request(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method, text_pair,
             candidate_labels, hypothesis_template, multi_label) -> Request:
    return Request(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method, text_pair,
                   candidate_labels, hypothesis_template, multi_label)


def _views(shown, labels, page_call: bool) -> tuple:
    """The /explain outputs for one explanation (``labels``: every label explained with it)."""
    rows = curve_rows(shown)
    curves = pd.DataFrame(rows) if rows else None
    headers, table = word_rows(shown)
    pair = highlighted_levels(shown, 1) if shown.text_pair is not None else None
    present = page.present_panel(labels)
    values = [highlighted_levels(shown), label_scores(shown), summary_markdown(shown), shown.to_dict(), curves,
              trust_headline(shown), comparison_markdown(shown.extras.baselines), page.caption_panel(shown), pair,
              pd.DataFrame(table, columns=headers), shown.target, present, "", trust_markdown(shown.extras.trust),
              curve_note(shown)]
    if not page_call:
        return tuple(values)
    multi = shown.head == "sigmoid" and len(shown.labels) > 1
    title = "Prediction"
    if multi:
        present_now = [name for name, p in sorted(shown.probabilities.items(), key=lambda kv: -kv[1]) if p > 0.5]
        title = ("Labels present (> 50%): " + (", ".join(present_now) or "none")
                 + " - each label is scored on its own")
    elif shown.zero_shot is not None:
        title = "Zero-shot scores of the candidate labels"
    values[1] = gr.update(value=values[1], label=title,
                          elem_classes=["explain-result"] + (["explain-multi"] if multi else []))
    x_title, y_title = curve_titles(shown)
    values[4] = gr.update(value=curves, x_title=x_title, y_title=y_title)
    values[0] = gr.update(value=values[0], label="Text (the first of the pair)" if pair is not None else
                          "Word attributions")
    values[8] = gr.update(value=pair, visible=pair is not None)
    choices = label_choices(labels)
    values[10] = gr.update(choices=choices, value=shown.target, visible=len(choices) > 1)
    values[11] = gr.update(value=present, visible=bool(present))
    values[14] = gr.update(value=values[14], visible=bool(values[14]))
    return tuple(values)


def _failed(exc: BaseException, request, n_outputs: int, kept: bool) -> tuple:
    """A failure shown on the page: the message inline at the top of the results (escaped
    once), the previous result kept (dimmed by the page's CSS), everything else unchanged."""
    text = _plain_message(exc)
    SERVICE.forget(_session(request))
    _forget_session(request)
    out = [gr.skip()] * n_outputs
    out[12] = page.error_panel(text, kept=kept)
    return tuple(out)


def run_explain(text: str, checkpoint: str, target: str = "", baseline: str = "auto", n_steps: float = 0,
                contrast: str = "", faithfulness: bool = False, compare: bool = False, method: str = "engine",
                text_pair: str = "", candidate_labels: str = "", hypothesis_template: str = "",
                multi_label: bool = False, progress=gr.Progress(track_tqdm=True), request: gr.Request = None):
    """The /explain endpoint (outputs: see README). Its inputs arrive as the caller sent them
    (no Gradio preprocessing): the service checks each. The page gets every label explained
    on one path (to switch between them) and its errors inline; API callers get the target's
    explanation and their errors as errors."""
    return _explain_form(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method,
                         text_pair, candidate_labels, hypothesis_template, multi_label, progress=progress,
                         request=request)


def _explain_form(*form, progress=None, request=None) -> tuple:
    r = _request(*form)
    page_call = _for_page(request)
    report = (lambda fraction, what: progress(fraction, desc=what)) if progress is not None else None
    kept = SERVICE.shared(_session(request)) is not None  # a result on the page (the request forgets it if it fails)
    try:
        answer = SERVICE.answer(r, report, _session(request), every_label=page_call)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if page_call:
            return _failed(exc, request, N_OUTPUTS, kept)
        raise _user_error(exc, request) from None
    return _views(answer.explanation, answer.labels, page_call)


def explain_json(text: str, model: str = "", target: str = "", text_pair: str = "", candidate_labels: str = "",
                 hypothesis_template: str = "", request: gr.Request = None) -> dict:
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
    r = Request(text, model, target, text_pair=text_pair, candidate_labels=candidate_labels,
                hypothesis_template=hypothesis_template)
    try:
        return SERVICE.explain(r, session=_session(request)).to_dict()
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _user_error(exc, request) from None


def run_example(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method, text_pair,
                candidate_labels, hypothesis_template, multi_label, progress=gr.Progress(track_tqdm=True),
                request: gr.Request = None):
    """An example text clicked on the page: the form as the example filled it."""
    return _explain_form(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method,
                         text_pair, candidate_labels, hypothesis_template, multi_label, progress=progress,
                         request=request)


def run_on_load(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method, text_pair,
                candidate_labels, hypothesis_template, multi_label, progress=gr.Progress(track_tqdm=True),
                request: gr.Request = None):
    """On page load: the deep link's request, or the default example (served from the
    result cache after its first visitor)."""
    return _explain_form(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method,
                         text_pair, candidate_labels, hypothesis_template, multi_label, progress=progress,
                         request=request)


def explain_example(text: str, checkpoint: str):
    """An example text on a model with default options (the API's view)."""
    return _explain_form(text, checkpoint, "", "auto", 0, "", False, False, "engine", "", "", "", False)


def switch_label(label, request: gr.Request = None):
    """Show another label explained with the last result (no model runs)."""
    shown = SERVICE.show(_session(request), label)
    if shown is None:
        return tuple(gr.skip() for _ in range(N_OUTPUTS))
    out = list(_views(shown.explanation, shown.labels, True))
    out[1] = out[10] = gr.skip()
    return tuple(out)


def start_run():
    """A run starts: its share panel, download and error from the last run are cleared."""
    return (gr.update(value="", info=None), "", "", "", "", "", None, gr.update(value=None, interactive=False), "")


# --- Share / embed panel and deep links (?model=ID&text=...&target=...&text_pair=...&labels=...) ----------


def from_link(request: gr.Request):
    """On page load: fill the form from the query (text, checkpoint, text pair or zero-shot
    labels and template) and remember the target."""
    asked = share.read_link(dict(getattr(request, "query_params", None) or {}))
    fill = lambda key: gr.update(value=asked[key]) if key in asked else gr.skip()
    task = "zero-shot" if "labels" in asked else "pair" if "text_pair" in asked else None
    multi = asked.get("multi_label", "").lower() in ("1", "true", "yes", "on")
    return (fill("text"), fill("model"), fill("text_pair"), fill("labels"), fill("template"),
            gr.update(value=multi) if "multi_label" in asked else gr.skip(), asked.get("target", ""), task or "")


def labels_and_target(checkpoint: str, wanted: str, task: str, candidates: str, request: gr.Request = None,
                      progress=gr.Progress()):
    """labels_for, then the deep link's task and target (if any)."""
    out = list(_labels(checkpoint, request, progress))
    offered = [value for _, value in (out[2].get("choices") or [])] if isinstance(out[2], dict) else []
    if task and task in offered:
        out[2] = gr.update(choices=out[2]["choices"], value=task, visible=True)
    if wanted:
        choices = _candidates(candidates) if task == "zero-shot" else (out[6] or {}).get("labels", [])
        out[0] = gr.update(choices=[""] + [c for c in choices if c != wanted] + [wanted], value=wanted)
    return tuple(out)


def _page_urls(request: gr.Request) -> tuple:
    try:
        return request.headers.get("referer"), str(request.url)
    except Exception:  # noqa: BLE001 - a request without headers (direct calls): fall back to env / default
        return None, None


def share_panel(request: gr.Request):
    """After an explanation: the deep link, badge, embeds, static renderings and downloads of
    the result this server made for the session and shows (never of values a client sends);
    cleared when the session has none (its last run failed)."""
    shared = SERVICE.shared(_session(request))
    if shared is None:
        return start_run()[:8]
    base = share.public_base(os.environ, *_page_urls(request))
    b = share.bundle(shared.explanation.to_dict(), base, shared.model, shared.target, gr.__version__,
                     dict(shared.link))
    json_path, *files = share.write_files(DOWNLOADS, b["files"], max_bytes=int(SERVICE.limits.downloads_mb * 2**20))
    return (gr.update(value=b["link"], info=b["note"] or None), b["badge"], b["iframe"], b["web_component"],
            b["html"], b["html"], files, gr.update(value=json_path, interactive=True))


# --- Gradio's queue and inputs, as a public server needs them --------------------------------------


class AppBlocks(gr.Blocks):
    """gr.Blocks with the app's own answers where Gradio would give a bare ``{"error": null}``
    (a call with fewer inputs than the form), optional trailing inputs filled with their
    defaults (callers from before they existed send fewer), and a per-visitor cap on the queue."""

    def validate_inputs(self, block_fn, inputs) -> None:
        n = len(block_fn.inputs)
        optional = OPTIONAL_INPUTS.get(_fn_name(block_fn), 0)
        if n - optional <= len(inputs) < n:
            defaults = _defaults(block_fn)
            if len(defaults) == n:
                inputs.extend(defaults[len(inputs):])  # the list Gradio goes on to read
        if len(inputs) < n:
            names = _input_names(block_fn)
            required = n - optional
            shown = ", ".join(names[:required])
            extra = f" Optional after them: {', '.join(names[required:])}." if optional and names else ""
            raise gr.Error(f"This endpoint takes {required} input{'s' if required != 1 else ''}"
                           f"{f' ({shown})' if shown else ''}; the request sent {len(inputs)}. Send all of them in "
                           f"this order (gradio_client fills in the defaults for you).{extra}", print_exception=False)
        super().validate_inputs(block_fn, inputs)

    def queue(self, *args, **kwargs):
        out = super().queue(*args, **kwargs)
        VisitorCap(self._queue).install()
        return out


def _fn_name(block_fn) -> str:
    fn = inspect.unwrap(block_fn.fn) if callable(block_fn.fn) else block_fn.fn
    return getattr(fn, "__name__", "")


def _parameters(block_fn) -> list:
    try:
        params = inspect.signature(block_fn.fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p for p in params if p.name not in ("progress", "request") and p.kind != p.VAR_POSITIONAL]


def _input_names(block_fn) -> list:
    names = [p.name for p in _parameters(block_fn)]
    return names if len(names) == len(block_fn.inputs) else []


def _defaults(block_fn) -> list:
    params = _parameters(block_fn)
    if len(params) != len(block_fn.inputs):
        return []
    return [None if p.default is inspect.Parameter.empty else p.default for p in params]


class VisitorCap:
    """At most EXPLAIN_CLIENT_QUEUE model events per visitor in Gradio's queue, waiting or
    running, counting also finished results the visitor has not read (a /call/ result
    nobody fetches stays in memory). Unread results are dropped after UNREAD_S seconds.
    Reads Gradio 6.31's queue (``Queue.push``, ``event_ids_to_events``,
    ``pending_messages_per_session``, ``pending_event_ids_session``);
    tests/app/test_public.py fails if those change."""

    UNREAD_S = 300.0
    MAX_SESSIONS = 4096
    _installed: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, queue) -> None:
        self.queue = queue
        self.sessions: dict = {}  # session hash -> (visitor, time of its last event), oldest first

    def install(self) -> None:
        if self.queue in VisitorCap._installed:
            return
        VisitorCap._installed.add(self.queue)
        push = self.queue.push

        async def capped_push(body, request, username):
            refusal = self.admit(request)
            if refusal:  # 429 with the message: the page shows it (a 503 would read "busy")
                raise HTTPException(status_code=429, detail=refusal)
            answer = await push(body, request, username)
            if answer[0] and body.session_hash:
                self._seen(body.session_hash, self.visitor(request))
            return answer

        self.queue.push = capped_push

    @staticmethod
    def visitor(request) -> str:
        peer = getattr(getattr(request, "client", None), "host", None)
        return client_key(dict(getattr(request, "headers", {}) or {}), peer, SERVICE.limits.proxy_hops)

    def admit(self, request):
        """None, or the message refusing this visitor's next event."""
        self._drop_unread()
        key = self.visitor(request)
        events = [e for e in list(self.queue.event_ids_to_events.values()) if e.fn.concurrency_id == MODEL_GROUP]
        active = [self.visitor(e.request) for e in events]
        unread = sum(self._unread(s) for s, (k, _) in list(self.sessions.items()) if k == key)
        refusal = over_cap(key, active + [key] * unread, SERVICE.limits.client_queue)
        if refusal:
            log.info("refused (busy): visitor %s has %d model event(s) queued or running and %d result(s) unread",
                     key, active.count(key), unread)
            if unread:
                refusal += (f" ({unread} of them finished but were never read: read each result, or wait "
                            f"{self.UNREAD_S:.0f} s for unread ones to be dropped.)")
        return refusal

    def _unread(self, session: str) -> int:
        """Finished results waiting in the session's message queue (an asyncio.Queue)."""
        messages = self.queue.pending_messages_per_session.get(session)
        return sum(1 for m in list(getattr(messages, "_queue", ()))
                   if getattr(m, "msg", None) == "process_completed")

    def _seen(self, session: str, key: str) -> None:
        self.sessions.pop(session, None)
        self.sessions[session] = (key, time.monotonic())
        while len(self.sessions) > self.MAX_SESSIONS:
            self.sessions.pop(next(iter(self.sessions)))

    def _drop_unread(self) -> None:
        """Forget finished results nobody read within UNREAD_S (their memory with them)."""
        now = time.monotonic()
        busy = {e.session_hash for e in list(self.queue.event_ids_to_events.values())}
        for session, (_, when) in list(self.sessions.items()):
            if now - when > self.UNREAD_S and session not in busy:
                self.sessions.pop(session, None)
                self.queue.pending_event_ids_session.pop(session, None)
                self.queue.pending_messages_per_session.pop(session, None)


# --- The page ---------------------------------------------------------------------------------------


def _default_card() -> str:
    """The default model's one-line card (its README and labels), or its name alone."""
    labels = None
    try:
        labels = SERVICE.load("")[0].labels
    except ExplainError as exc:
        log.info("default model not loaded for its card: %s", exc)
    folder = DEFAULT_MODEL if Path(DEFAULT_MODEL).is_dir() else None
    return escape.markdown(catalog.default_line(SERVICE.folders.default_name(), folder, labels))


_MARKS: dict = {}


def _example_texts() -> list:
    """The example texts: (text, expected label, the default model's own answer or None, language)."""
    texts = [t for t in catalog.read_json(EXAMPLE_TEXTS) if isinstance(t, dict) and isinstance(t.get("text"), str)]
    key = (DEFAULT_MODEL, tuple(t["text"] for t in texts))
    if texts and key not in _MARKS:
        try:
            _MARKS[key] = SERVICE.predict([t["text"] for t in texts])
        except ExplainError as exc:
            log.info("example predictions not made: %s", exc)
            _MARKS[key] = [None] * len(texts)
    return [(t["text"], t.get("label"), got, t.get("lang")) for t, got in zip(texts, _MARKS.get(key, []))]


def _models() -> list:
    return [m for m in catalog.read_json(HUB_MODELS) if isinstance(m, dict) and m.get("id")]


def pick_example(index):
    """An example clicked: the form filled with its text on the default model, one text, no
    target or contrast (the other options stay as the visitor set them)."""
    examples = _example_texts()
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(examples):
        return tuple(gr.skip() for _ in range(5))
    return examples[index][0], SERVICE.folders.default_name(), "", "", "one"


def pick_model(index):
    """A well-known checkpoint clicked: its ID in the checkpoint box (its labels load next)."""
    models = _models()
    if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < len(models):
        return gr.skip()
    return models[index]["id"]


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of the download files older than an hour go, hourly.
    with AppBlocks(title="Explain a text classifier", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Why did the classifier say that?\n"
                    "Paste a text and pick a model: each word is coloured by how much it pushed the model's "
                    "answer, and which way. Hover over or tap a word for its exact score.")
        loaded = gr.State(None)
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Text", value=DEFAULT_TEXT, lines=4, elem_id="text")
                gr.HTML(page.counter(SERVICE.limits.max_chars, len(DEFAULT_TEXT)), elem_id="char-count")
                task = gr.Radio(TASKS, value="one", label="What the model reads", visible=False, elem_id="task")
                text_pair = gr.Textbox("", label="Second text of the pair", lines=2, visible=False,
                                       elem_id="text-pair")
                candidates = gr.Textbox("", label="Candidate labels (comma-separated)", visible=False,
                                        placeholder="sports, politics, cooking", elem_id="candidates")
                template = gr.Textbox(label="Hypothesis template ({} is the label)", value=DEFAULT_TEMPLATE,
                                      visible=False, elem_id="template")
                multi_label = gr.Checkbox(label="Several labels can be true (score each on its own)", value=False,
                                          visible=False)
                checkpoint = gr.Textbox(label="Checkpoint (Hub ID)", value=SERVICE.folders.default_name(),
                                        info="e.g. distilbert/distilbert-base-uncased-finetuned-sst-2-english; "
                                             "press Enter or leave the box to load its labels")
                card = gr.Markdown(_default_card(), elem_id="model-card")
                target = gr.Dropdown(label="Explain which label (empty = the predicted one)", choices=[""],
                                     value="", allow_custom_value=True)
                contrast = gr.Dropdown(label="...rather than which label (contrast; empty = none)", choices=[""],
                                       value="", allow_custom_value=True,
                                       info="Why A rather than B: explains the logit of A minus that of B")
                with gr.Row():
                    faithfulness = gr.Checkbox(label="Faithfulness check", value=False,
                                               info="Does hiding the top words change the answer more than "
                                                    "hiding random words?")
                    compare = gr.Checkbox(label="Compare baselines", value=False,
                                          info="Does the ranking change with the reference token?")
                with gr.Accordion("Advanced", open=False):
                    baseline = gr.Dropdown(list(BASELINE_KINDS), value="auto", allow_custom_value=True,
                                           label="Baseline token (auto: mask, else pad, else unk)")
                    n_steps = gr.Number(value=0, precision=0, minimum=0, maximum=SERVICE.limits.max_steps,
                                        label="Integration steps (0 = adaptive to error 0.01)")
                    method = gr.Radio([("this explainer's engine", "engine"),
                                       ("Captum's LayerIntegratedGradients (the citable reference)", "captum")],
                                      value="engine", label="Method",
                                      info="Captum: a fixed rule of the steps above (0 = Captum's default, 50)")
                button = gr.Button("Explain", variant="primary", elem_id="explain-btn")
            with gr.Column(scale=4, elem_id="results"):
                error = gr.HTML("", elem_id="error")
                labels = gr.Label(label="Prediction", num_top_classes=10, elem_id="prediction",
                                  elem_classes=["explain-result"])
                with gr.Column(elem_id="words-area", elem_classes=["explain-result"]):
                    caption = gr.HTML(page.empty_caption(), elem_id="caption")
                    switch = gr.Radio([], label="Show the words for", visible=False, elem_id="label-switch")
                    words = gr.HighlightedText(label="Word attributions", combine_adjacent=False,
                                               color_map=categories(), show_legend=False,
                                               show_inline_category=False, elem_id="words",
                                               elem_classes=["explain-words"])
                    words_pair = gr.HighlightedText(label="Text pair", combine_adjacent=False,
                                                    color_map=categories(), show_legend=False,
                                                    show_inline_category=False, elem_id="words-pair",
                                                    elem_classes=["explain-words"], visible=False)
                present = gr.HTML("", elem_id="present", visible=False, elem_classes=["explain-result"])
                trust = gr.Markdown(elem_id="trust", elem_classes=["explain-result"])
                with gr.Accordion("Every word's score (sortable table)", open=False, elem_id="word-table-box"):
                    table = gr.Dataframe(label="The strongest words (sort by any column with its ⋮ menu)",
                                         interactive=False,
                                         elem_id="word-table", wrap=True)
                with gr.Accordion("Details for experts: the numbers, the checks, the curves", open=False,
                                  elem_id="expert"):
                    details = gr.Markdown(elem_id="details")
                    trust_details = gr.Markdown()
                    curves = gr.LinePlot(x="percent", y="value", color="curve",
                                         label="Faithfulness curves: the measured value as the strongest words are "
                                               "hidden (deletion) or kept alone (insertion)",
                                         x_title="words hidden or kept, % of the text's words",
                                         y_title="measured value",
                                         color_map=dict(zip(CURVES.values(), CURVE_COLOURS)))
                    note = gr.Markdown(visible=False)
                    comparison = gr.Markdown()
                result = gr.JSON(label="Result (JSON)", visible=False)
                download = gr.DownloadButton("Download the result (JSON)", size="sm", variant="secondary",
                                             interactive=False)
                with gr.Accordion("Share / embed", open=False, elem_id="share"):
                    link = gr.Textbox(label="Link that opens this explanation (it runs on load)",
                                      buttons=["copy"], elem_id="share-link")
                    badge = gr.Code(label="Badge for a model card (Markdown)", language="markdown", lines=1)
                    iframe = gr.Code(label="Embed this explanation (iframe)", language="html", lines=1)
                    webcomp = gr.Code(label="Embed the app (Gradio web component; opens the app's defaults)",
                                      language="html", lines=2)
                    static = gr.Code(label="Static rendering: HTML with inline styles, no JavaScript "
                                           "(for a model card)", language="html", lines=3, max_lines=8)
                    preview = gr.HTML(label="Preview of the static rendering", elem_id="share-preview")
                    files = gr.File(label="Downloads: SVG image, HTML and Markdown", file_count="multiple",
                                    interactive=False)
        inputs = [text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method,
                  text_pair, candidates, template, multi_label]
        outputs = [words, labels, details, result, curves, trust, comparison, caption, words_pair, table, switch,
                   present, error, trust_details, note]
        assert len(outputs) == N_OUTPUTS
        sharing = [link, badge, iframe, webcomp, static, preview, files, download]
        starting = sharing + [error]
        model_out = [target, contrast, task, text_pair, card, error, loaded]
        # Inputs arrive as sent (preprocess=False): the service checks every type itself.
        model = dict(concurrency_limit=SERVICE.limits.concurrency, concurrency_id=MODEL_GROUP, preprocess=False)
        private = dict(api_visibility="private")

        def then_share(event):
            return event.then(share_panel, None, sharing, **private)

        then_share(button.click(start_run, None, starting, queue=False, **private)
                   .then(run_explain, inputs, outputs, api_name="explain", **model))
        checkpoint.submit(labels_for, [checkpoint], model_out, api_name="labels", **model)
        checkpoint.blur(model_changed, [checkpoint, loaded], model_out, **private, **model)
        task.change(show_task, [task, loaded, candidates, target, contrast],
                    [text_pair, candidates, template, multi_label, target, contrast], **private)
        candidates.blur(candidates_changed, [candidates, task], [target], **private)
        switch.input(switch_label, [switch], outputs, preprocess=False, **private).then(
            share_panel, None, sharing, **private)
        # On load: a deep link fills the form; its labels load; the form runs (the default example
        # without a link, served from the result cache after its first visitor); then its share panel.
        wanted, linked_task = gr.State(""), gr.State("")
        then_share(demo.load(from_link, None, [text, checkpoint, text_pair, candidates, template, multi_label,
                                               wanted, linked_task], **private)
                   .then(labels_and_target, [checkpoint, wanted, linked_task, candidates], model_out, **private,
                         **model)
                   .then(run_on_load, inputs, outputs, **private, **model))
        with gr.Column(elem_id="examples", elem_classes=["explain-examples"]):
            _examples(text, checkpoint, target, contrast, task, loaded, inputs, outputs, starting, model_out,
                      then_share, model, private)
        gr.api(on_gpu(explain_json, GPU_SECONDS), api_name="explain_json", concurrency_limit=SERVICE.limits.concurrency,
               concurrency_id=MODEL_GROUP)
    for fn in demo.fns.values():  # every event that runs a model shares the group
        if _fn_name(fn) in MODEL_FUNCTIONS:
            fn.concurrency_id, fn.concurrency_limit = MODEL_GROUP, SERVICE.limits.concurrency
    # Bounded queue: excess callers get a clean "queue is full" answer instead of waiting forever.
    demo.queue(max_size=SERVICE.limits.queue_size, default_concurrency_limit=SERVICE.limits.concurrency)
    return demo


N_OUTPUTS = 15


def _examples(text, checkpoint, target, contrast, task, loaded, inputs, outputs, starting, model_out, then_share,
              model, private) -> None:
    """Example texts (on the bundled model; each with the label a reader expects and whether
    the model agrees, the ones it gets wrong marked) and well-known Hub checkpoints (what
    each is, its labels and size); a click fills the form and runs it (texts) or loads the
    model (checkpoints)."""
    examples = _example_texts()
    if examples:
        texts = gr.Dataset(components=["html"], samples=[[page.example_html(*e)] for e in examples], type="index",
                           label="Example texts on the bundled model: the label a reader expects, and whether the "
                                 "model agrees", samples_per_page=20, elem_id="example-texts")
        then_share(texts.click(pick_example, [texts], [text, checkpoint, target, contrast, task], queue=False,
                               **private)
                   .then(start_run, None, starting, queue=False, **private)
                   .then(run_example, inputs, outputs, **private, **model)
                   .then(model_changed, [checkpoint, loaded], model_out, **private, **model))
    models = _models()
    if models:
        chips = gr.Dataset(components=["html"], samples=[[page.chip_html(catalog.chip(m))] for m in models],
                           type="index", label="Well-known Hub checkpoints (a click loads one; the first time it is "
                                               "downloaded, with its progress in MB)", samples_per_page=8,
                           elem_id="hub-models")
        chips.click(pick_model, [chips], [checkpoint], queue=False, **private).then(
            model_changed, [checkpoint, loaded], model_out, **private, **model)


# Functions that load or run a model: their events share MODEL_GROUP.
MODEL_FUNCTIONS = {"run_explain", "explain_json", "labels_for", "labels_and_target", "explain_example",
                   "run_example", "run_on_load", "model_changed"}
# ZeroGPU: each of them gets a GPU for its call (when the ``spaces`` package is importable).
run_explain = on_gpu(run_explain, GPU_SECONDS)
run_example = on_gpu(run_example, GPU_SECONDS)
run_on_load = on_gpu(run_on_load, GPU_SECONDS)
labels_for = on_gpu(labels_for, GPU_SECONDS)
model_changed = on_gpu(model_changed, GPU_SECONDS)
labels_and_target = on_gpu(labels_and_target, GPU_SECONDS)


def launch_options() -> dict:
    """Extra launch() settings: the page's CSS and script; sessions kept (EXPLAIN_SESSIONS:
    Gradio stores each session's last inputs and outputs); a request-body limit sized from
    the text limit, enforced before Gradio parses anything; EXPLAIN_MCP=1 also serves the API
    endpoints (explain_json among them) as MCP tools at /gradio_api/mcp/ (needs the
    "gradio[mcp]" extra)."""
    limits = SERVICE.limits
    body = Middleware(BodyLimit, max_bytes=limits.max_body_bytes,
                      explain=f"texts of up to {limits.max_chars:,} characters")
    options = {"css": page.css(), "js": page.SCRIPT, "state_session_capacity": limits.sessions,
               "app_kwargs": {"middleware": [body]}}
    if os.environ.get("EXPLAIN_MCP", "").strip().lower() not in ("1", "true", "yes", "on"):
        return options
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise SystemExit('EXPLAIN_MCP=1 needs the MCP extra: pip install "gradio[mcp]==%s"' % gr.__version__) from None
    return {**options, "mcp_server": True}


demo = build_demo()

if __name__ == "__main__":
    from explain.serving import configure_threads

    # The app's own log lines (one per refused request) on stderr, beside Gradio's.
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("explain").addHandler(_handler)
    logging.getLogger("explain").setLevel(logging.INFO)

    configure_threads()  # torch threads = CPUs this process may use, unless EXPLAIN_THREADS/OMP_NUM_THREADS say
    try:  # the default example's result, so that the first visitor's page shows it at once
        SERVICE.explain(Request(DEFAULT_TEXT))
    except ExplainError as exc:
        log.info("default example not explained at start: %s", exc)
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **launch_options())
