"""Gradio app: explain a text classifier's prediction, word by word.

Layout and wiring only: components, events, the queue. The request pipeline is
``explain.serving``, what the panels show is ``explain.render``."""

from __future__ import annotations

import inspect
import json
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
from explain.render import escape
from explain.render.views import (
    CURVES,
    categories,
    comparison_markdown,
    curve_rows,
    highlighted_levels,
    label_scores,
    legend,
    summary_markdown,
    trust_markdown,
)
from explain.serving import BASELINE_KINDS, BodyLimit, Request, Service, client_key, over_cap, share

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = os.environ.get("EXPLAIN_DEFAULT_MODEL", str(HERE / "examples" / "minilm-rt-sentiment"))
DEFAULT_TEXT = "The acting was wooden and the plot made no sense, but the soundtrack is wonderful."
DOWNLOADS = Path(tempfile.gettempdir()) / "explain-downloads"  # newest results' files, capped in bytes
HUB_MODELS = HERE / "examples" / "hub_models.json"
EXAMPLE_TEXTS = HERE / "examples" / "texts.json"
# Faithfulness curves, in CURVES order: explanation dark, random light.
CURVE_COLOURS = ["#a63603", "#fdae6b", "#08519c", "#9ecae1"]
log = logging.getLogger("explain.app")
# The operator's settings (EXPLAIN_* variables): limits, queue, caches, allowed folders.
SERVICE = Service.from_env(DEFAULT_MODEL)
# Every event that loads or runs a model shares one concurrency group (EXPLAIN_CONCURRENCY at once).
MODEL_GROUP = "model"


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


def _user_error(exc: BaseException, request=None) -> gr.Error:
    """The visitor's gr.Error; the log gets one line (a traceback only for the unexpected)."""
    if isinstance(exc, ExplainError):
        log.info("refused (%s): %s", exc.code, " ".join(str(exc).split())[:300])
        text = str(exc)
    else:
        log.error("unexpected failure (%s): %s", type(exc).__name__, exc, exc_info=exc)
        text = (f"Something went wrong inside the explainer ({type(exc).__name__}). "
                "Try again; if it persists, report it with the text and model used.")
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


def labels_for(checkpoint: str, request: gr.Request = None):
    """Fill the target and contrast dropdowns with the model's labels (empty = the
    predicted label / no contrast). A checkpoint that does not load is a warning, the
    dropdowns left empty; a checkpoint field that is not text is an error."""
    if checkpoint is not None and not isinstance(checkpoint, str):
        try:
            SERVICE.load(checkpoint)
        except ExplainError as exc:
            raise _user_error(exc, request) from None
    try:
        clf, _ = SERVICE.load(checkpoint)
    except BaseException as exc:  # keep serving whatever the checkpoint does
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        if isinstance(exc, ExplainError):
            log.info("labels refused (%s): %s", exc.code, " ".join(str(exc).split())[:300])
        else:
            log.error("unexpected failure loading labels (%s): %s", type(exc).__name__, exc, exc_info=exc)
        gr.Warning(_message(str(exc), request) if isinstance(exc, ExplainError) else "Could not load that model.")
        return gr.update(choices=[""], value=""), gr.update(choices=[""], value="")
    choices = [""] + list(clf.labels)
    contrast = choices if clf.head != "regression" else [""]
    return gr.update(choices=choices, value=""), gr.update(choices=contrast, value="")


def explanation(text: str, checkpoint: str, target: str = "", baseline: str = "auto", n_steps: float = 0,
                contrast: str = "", faithfulness: bool = False, compare: bool = False, method: str = "engine",
                progress=None, request=None):
    """The request pipeline for the form's values, its failures as the visitor's gr.Error."""
    try:
        return SERVICE.explain(Request(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare,
                                       method), progress, session=getattr(request, "session_hash", None))
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _user_error(exc, request) from None


def run_explain(text: str, checkpoint: str, target: str = "", baseline: str = "auto", n_steps: float = 0,
                contrast: str = "", faithfulness: bool = False, compare: bool = False, method: str = "engine",
                progress=gr.Progress(track_tqdm=True), request: gr.Request = None):
    """The /explain endpoint: (highlighted words, label scores, details markdown, result JSON,
    faithfulness curves (None unless asked), trust summary markdown, baseline comparison markdown).
    Its inputs arrive as the caller sent them (no Gradio preprocessing): the service checks each."""
    expl = explanation(text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method,
                       lambda fraction, what: progress(fraction, desc=what), request)
    rows = curve_rows(expl)
    curves = pd.DataFrame(rows) if rows else None
    return (highlighted_levels(expl), label_scores(expl), legend(expl) + "\n\n" + summary_markdown(expl), expl.to_dict(),
            curves, trust_markdown(expl.extras.trust), comparison_markdown(expl.extras.baselines))


def explain_json(text: str, model: str = "", target: str = "", request: gr.Request = None) -> dict:
    """Explain a text classifier's prediction on a text: signed word attributions.

    Args:
        text: the text to classify and explain.
        model: a Hugging Face Hub ID of a sequence-classification model (empty: this app's default model).
        target: the label to explain (empty: the predicted label).

    Returns:
        The explanation as JSON: probabilities per label, the predicted and explained label, and "words" with
        their character spans in the text and signed scores (positive pushes toward the target label).
    """
    return explanation(text, model, target, request=request).to_dict()


# --- Share / embed panel and deep links (?model=ID&text=...&target=...) ---------------------------


def from_link(request: gr.Request):
    """On page load: fill text/checkpoint from the query, remember the target, say whether to run."""
    asked = share.read_link(dict(getattr(request, "query_params", None) or {}))
    fill = (gr.update(value=asked["text"]) if "text" in asked else gr.skip(),
            gr.update(value=asked["model"]) if "model" in asked else gr.skip())
    return (*fill, asked.get("target", ""), bool(asked))


def labels_and_target(checkpoint: str, wanted: str, request: gr.Request = None):
    """labels_for, then select the deep link's target (if any)."""
    target, contrast = labels_for(checkpoint, request)
    if wanted:
        target = gr.update(choices=target.get("choices", [""]) + [wanted], value=wanted)
    return target, contrast


def _page_urls(request: gr.Request) -> tuple:
    try:
        return request.headers.get("referer"), str(request.url)
    except Exception:  # noqa: BLE001 - a request without headers (direct calls): fall back to env / default
        return None, None


def share_panel(request: gr.Request):
    """After an explanation: the deep link, badge, embeds, static renderings and downloads of
    the last result this server made for the session (never of values a client sends)."""
    shared = SERVICE.shared(getattr(request, "session_hash", None))
    if shared is None:
        return tuple(gr.skip() for _ in range(8))
    base = share.public_base(os.environ, *_page_urls(request))
    b = share.bundle(shared.explanation.to_dict(), base, shared.model, shared.target, gr.__version__)
    json_path, *files = share.write_files(DOWNLOADS, b["files"], max_bytes=int(SERVICE.limits.downloads_mb * 2**20))
    return (gr.update(value=b["link"], info=b["note"] or None), b["badge"], b["iframe"], b["web_component"],
            b["html"], b["html"], files, gr.update(value=json_path, interactive=True))


# --- Gradio's queue and inputs, as a public server needs them --------------------------------------


class AppBlocks(gr.Blocks):
    """gr.Blocks with the app's own answers where Gradio would give a bare ``{"error": null}``
    (a call with fewer inputs than the form), and a per-visitor cap on the queue."""

    def validate_inputs(self, block_fn, inputs) -> None:
        if len(inputs) < len(block_fn.inputs):
            n = len(block_fn.inputs)
            names = ", ".join(_input_names(block_fn))
            raise gr.Error(f"This endpoint takes {n} input{'s' if n != 1 else ''}{f' ({names})' if names else ''}; "
                           f"the request sent {len(inputs)}. Send all of them in this order (gradio_client fills "
                           "in the defaults for you).", print_exception=False)
        super().validate_inputs(block_fn, inputs)

    def queue(self, *args, **kwargs):
        out = super().queue(*args, **kwargs)
        VisitorCap(self._queue).install()
        return out


def _input_names(block_fn) -> list:
    try:
        params = inspect.signature(block_fn.fn).parameters.values()
    except (TypeError, ValueError):
        return []
    names = [p.name for p in params if p.name not in ("progress", "request") and p.kind != p.VAR_POSITIONAL]
    return names if len(names) == len(block_fn.inputs) else []


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


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of the download files older than an hour go, hourly.
    with AppBlocks(title="Explain a text classifier", delete_cache=(3600, 3600)) as demo:
        gr.Markdown("# Why did the classifier say that?\n"
                    "Signed word attributions (layer integrated gradients) for any Hugging Face "
                    "sequence classifier, with a checked error bound.")
        with gr.Row():
            with gr.Column(scale=3) as form:
                text = gr.Textbox(label="Text", value=DEFAULT_TEXT, lines=4, max_length=SERVICE.limits.max_chars)
                checkpoint = gr.Textbox(label="Checkpoint (Hub ID)", value=SERVICE.folders.default_name(),
                                        info="e.g. distilbert/distilbert-base-uncased-finetuned-sst-2-english")
                target = gr.Dropdown(label="Explain which label (empty = the predicted one)", choices=[""],
                                     value="", allow_custom_value=True)
                contrast = gr.Dropdown(label="...rather than which label (contrast; empty = none)", choices=[""],
                                       value="", allow_custom_value=True,
                                       info="Why A rather than B: explains p/logit of A minus that of B")
                with gr.Row():
                    faithfulness = gr.Checkbox(label="Faithfulness check", value=False,
                                               info="Deletion/insertion curves and AOPC vs random words")
                    compare = gr.Checkbox(label="Compare baselines", value=False,
                                          info="Re-explain with mask / pad / unk and compare rankings")
                with gr.Accordion("Advanced", open=False):
                    baseline = gr.Dropdown(list(BASELINE_KINDS), value="auto", allow_custom_value=True,
                                           label="Baseline token (auto: mask, else pad, else unk)")
                    n_steps = gr.Number(value=0, precision=0, minimum=0, maximum=SERVICE.limits.max_steps,
                                        label="Integration steps (0 = adaptive to error 0.01)")
                    method = gr.Radio([("this explainer's engine", "engine"),
                                       ("Captum's LayerIntegratedGradients (the citable reference)", "captum")],
                                      value="engine", label="Method",
                                      info="Captum: a fixed rule of the steps above (0 = Captum's default, 50)")
                button = gr.Button("Explain", variant="primary")
            with gr.Column(scale=4):
                words = gr.HighlightedText(label="Word attributions", combine_adjacent=False, color_map=categories(),
                                           show_legend=True, show_inline_category=False, elem_id="words")
                labels = gr.Label(label="Prediction", num_top_classes=10)
                trust = gr.Markdown()
                curves = gr.LinePlot(x="percent", y="value", color="curve",
                                     label="Faithfulness: the measured probability as the top-k% words "
                                           "are removed (deletion) or kept alone (insertion)",
                                     x_title="top-k words (% of the text's words)", y_title="measured value",
                                     color_map=dict(zip(CURVES.values(), CURVE_COLOURS)))
                comparison = gr.Markdown()
                details = gr.Markdown()
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
                    preview = gr.HTML(label="Preview of the static rendering")
                    files = gr.File(label="Downloads: SVG image, HTML and Markdown", file_count="multiple",
                                    interactive=False)
        inputs = [text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method]
        outputs = [words, labels, details, result, curves, trust, comparison]
        with form:
            _examples(text, checkpoint, target, contrast, outputs)
        # Inputs arrive as sent (preprocess=False): the service checks every type itself.
        model = dict(concurrency_limit=SERVICE.limits.concurrency, concurrency_id=MODEL_GROUP, preprocess=False)
        explained = button.click(run_explain, inputs, outputs, api_name="explain", **model)
        checkpoint.submit(labels_for, [checkpoint], [target, contrast], api_name="labels", **model)
        # A deep link fills the form, loads the labels, selects its target and runs.
        wanted, run_now = gr.State(""), gr.State(False)
        linked = (demo.load(from_link, None, [text, checkpoint, wanted, run_now], api_visibility="private")
                  .then(labels_and_target, [checkpoint, wanted], [target, contrast], api_visibility="private",
                        **model)
                  .then(_run_if(len(outputs)), [run_now, *inputs], outputs, api_visibility="private", **model))
        sharing = [link, badge, iframe, webcomp, static, preview, files, download]
        for event in (explained, linked):
            event.success(share_panel, None, sharing, api_visibility="private")
        gr.api(explain_json, api_name="explain_json", concurrency_limit=SERVICE.limits.concurrency,
               concurrency_id=MODEL_GROUP)
    for fn in demo.fns.values():  # the examples' events run models too (gr.Examples takes no group)
        if getattr(fn.fn, "__name__", "") in MODEL_FUNCTIONS:
            fn.concurrency_id, fn.concurrency_limit = MODEL_GROUP, SERVICE.limits.concurrency
    # Bounded queue: excess callers get a clean "queue is full" answer instead of waiting forever.
    demo.queue(max_size=SERVICE.limits.queue_size, default_concurrency_limit=SERVICE.limits.concurrency)
    return demo


# Gradio draws highlighted words in black at half opacity: on a dark page that is black on
# dark brown/blue, so dark mode gets white text. Tokens sit closer, as in running text.
CSS = """
#words .token { margin: 0; padding: 0 1px; }
#words .legend-item { font-size: var(--text-sm); font-weight: normal; }
.dark #words .token.highlighted, .dark #words .legend-item { color: #ffffff !important; }
"""


def launch_options() -> dict:
    """Extra launch() settings: the CSS above; sessions kept (EXPLAIN_SESSIONS: Gradio stores
    each session's last inputs and outputs); a request-body limit sized from the text limit,
    enforced before Gradio parses anything; EXPLAIN_MCP=1 also serves the API endpoints
    (explain_json among them) as MCP tools at /gradio_api/mcp/ (needs the "gradio[mcp]" extra)."""
    limits = SERVICE.limits
    body = Middleware(BodyLimit, max_bytes=limits.max_body_bytes,
                      explain=f"texts of up to {limits.max_chars:,} characters")
    options = {"css": CSS, "state_session_capacity": limits.sessions, "app_kwargs": {"middleware": [body]}}
    if os.environ.get("EXPLAIN_MCP", "").strip().lower() not in ("1", "true", "yes", "on"):
        return options
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise SystemExit('EXPLAIN_MCP=1 needs the MCP extra: pip install "gradio[mcp]==%s"' % gr.__version__) from None
    return {**options, "mcp_server": True}


def _run_if(n_outputs: int):
    """run_explain when a deep link asked for it; otherwise leave the outputs alone."""
    def run_if(go: bool, *args, progress=gr.Progress(track_tqdm=True), request: gr.Request = None):
        if not go:
            return tuple(gr.skip() for _ in range(n_outputs))
        return run_explain(*args, progress=progress, request=request)
    return run_if


def explain_example(text: str, checkpoint: str):
    """An example text on the bundled model with default options (cached on first click)."""
    return run_explain(text, checkpoint)


# Functions that load or run a model: their events share MODEL_GROUP.
MODEL_FUNCTIONS = {"run_explain", "explain_json", "labels_for", "labels_and_target", "explain_example", "run_if",
                   "load_example_output"}  # the examples: computed on first click (lazy cache)


def _examples(text, checkpoint, target, contrast, outputs) -> None:
    """Example texts (on the bundled model, cached lazily: each is computed on its first
    click, then served from the cache) and well-known Hub checkpoints from examples/."""
    texts = _read_json(EXAMPLE_TEXTS)
    if texts:
        default = Path(DEFAULT_MODEL).name
        gr.Examples([[t["text"], default] for t in texts if t.get("text")], [text, checkpoint],
                    outputs=outputs, fn=explain_example, label="Example texts (on the bundled model)",
                    examples_per_page=6, cache_examples=True, cache_mode="lazy", api_visibility="private")
    models = _read_json(HUB_MODELS)
    if models:
        gr.Examples([[m["id"]] for m in models if m.get("id")], [checkpoint], label="Well-known Hub checkpoints",
                    fn=labels_for, outputs=[target, contrast], run_on_click=True, examples_per_page=8,
                    cache_examples=False, api_visibility="private")  # never load them all at start-up


def _read_json(path: Path) -> list:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []


demo = build_demo()

if __name__ == "__main__":
    from explain.serving import configure_threads

    # The app's own log lines (one per refused request) on stderr, beside Gradio's.
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("explain").addHandler(_handler)
    logging.getLogger("explain").setLevel(logging.INFO)

    configure_threads()  # torch threads = CPUs this process may use, unless EXPLAIN_THREADS/OMP_NUM_THREADS say
    if Path(DEFAULT_MODEL).is_dir():  # load the default model (and transformers) before serving
        SERVICE.load("")
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")), **launch_options())
