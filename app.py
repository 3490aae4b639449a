"""Gradio app: explain a text classifier's prediction, word by word.

Constants, layout, events and launch only. The event functions and the page's named
outputs are ``space`` (beside this file), the request pipeline ``explain.serving``, what
the panels show ``explain.render``."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

import gradio as gr
from starlette.middleware import Middleware

from explain.errors import ExplainError
from explain.options import DEFAULT_TEMPLATE
from explain.render import page
from explain.render.views import categories
from explain.serving import BASELINE_KINDS, BodyLimit, Request, Service, on_gpu
from explain.serving.dataset import ReportService
from space import internals, layout, many
from space.components import text_dropdown
from space.events import PRIVATE, Events
from space.handlers import TASKS, Page
from space.panels import ModelPanels, Panels, TaskPanels

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = os.environ.get("EXPLAIN_DEFAULT_MODEL", str(HERE / "examples" / "minilm-rt-sentiment"))
# The text shown (and explained) on load: a review the bundled model gets right, whose
# words tell an easy story ("thin" against, "wonderful" for).
DEFAULT_TEXT = "The story is thin, but the performances are wonderful and the ending is moving."

DOWNLOADS = Path(tempfile.gettempdir()) / "explain-downloads"  # newest results' files, capped in bytes
# Faithfulness curves, in CURVES order: neutral greys and greens (not the words' orange and
# blue), the explanation's ranking dark, random orders light.
CURVE_COLOURS = ["#333333", "#a3a3a3", "#1b7837", "#99d8a0"]
log = logging.getLogger("explain.app")
# A neutral accent for buttons, bars and radios: orange and blue mean only "for" and "against".
THEME = gr.themes.Default(primary_hue="slate", secondary_hue="slate")
# The operator's settings (EXPLAIN_* variables): limits, queue, caches, allowed folders.
SERVICE = Service.from_env(DEFAULT_MODEL)
PAGE = Page(SERVICE, DEFAULT_MODEL, HERE / "examples" / "hub_models.json", HERE / "examples" / "texts.json", DOWNLOADS)
# Every event that loads or runs a model shares one concurrency group (EXPLAIN_CONCURRENCY at once).
MODEL_GROUP = "model"
MANY = many.ManyPage(ReportService(SERVICE), MODEL_GROUP)  # the "Many texts" tab: reports give way to the group
# /explain takes the form's nine inputs, then these optional ones (older callers send nine).
OPTIONAL_INPUTS = {"run_explain": 4, "explain_json": 3}
# ZeroGPU: a GPU for each call that runs a model, for about as long as a request may run.
GPU_SECONDS = int(SERVICE.limits.deadline_s + SERVICE.limits.load_deadline_s / 4)
# The functions that load or run a model (their events share MODEL_GROUP), wrapped for ZeroGPU.
MODEL_FNS = (PAGE.run_explain, PAGE.explain_json, PAGE.labels_for, PAGE.model_changed, PAGE.labels_and_target)
MODEL_FNS += (PAGE.choose_label, PAGE.hide_clicked, PAGE.hide_top, PAGE.hide_words)
MODEL_FUNCTIONS = {fn.__name__ for fn in MODEL_FNS}
gpu = [on_gpu(fn, GPU_SECONDS) for fn in MODEL_FNS]
run_explain, explain_json, labels_for, model_changed, labels_and_target, choose_label = gpu[:6]
hide_clicked, hide_top, hide_words = gpu[6:]


# Component settings and texts.
MODEL_HINT = "e.g. distilbert/distilbert-base-uncased-finetuned-sst-2-english; press Enter or leave the box to load it"
FAITHFULNESS = "Faithfulness check: does hiding the top words change the answer more than hiding random words?"
BASELINE_TOKEN = "auto, mask, pad, unk or one token of the model's vocabulary"
hidden = lambda elem_id: {"visible": False, "elem_id": elem_id}
LABEL_BOX = {"choices": [""], "value": "", "allow_custom_value": True, "elem_id": "contrast"}
WORDS = {
    "combine_adjacent": False,
    "color_map": categories(),
    "show_legend": False,
    "show_inline_category": False,
    "elem_classes": ["explain-words"],
}


def visitor_cap(queue) -> internals.VisitorCap:
    limits = SERVICE.limits
    return internals.VisitorCap(queue, limits.client_queue, limits.proxy_hops, MODEL_GROUP)


def build_demo() -> gr.Blocks:
    # delete_cache: Gradio's copies of the download files older than an hour go, hourly.
    with internals.AppBlocks(
        title="Explain a text classifier", delete_cache=(3600, 3600), optional_inputs=OPTIONAL_INPUTS, cap=visitor_cap
    ) as demo:
        gr.Markdown(
            "# Why did the classifier say that?\nEach word is coloured by how much it pushed the model's "
            "answer, and which way.",
            elem_id="intro",
        )
        loaded = gr.State(None)
        with (
            gr.Tabs(elem_id="tabs") as tabs,
            gr.Tab("One text", id="one", elem_id="tab-one") as one_tab,
            gr.Row(equal_height=False),
        ):
            with gr.Column(scale=3, min_width=320, elem_id="form"):
                text = gr.Textbox(label="Text", value=DEFAULT_TEXT, lines=3, max_lines=12, elem_id="text")
                task = gr.Radio(TASKS, value="one", label="What the model reads", visible=False, elem_id="task")
                text_pair = gr.Textbox("", label="Second text of the pair", lines=2, visible=False, elem_id="text-pair")
                candidates = gr.Textbox("", label="Candidate labels (comma-separated)", **hidden("candidates"))
                template = gr.Textbox(DEFAULT_TEMPLATE, label="Hypothesis template ({} is the label)", **hidden("template"))
                multi_label = gr.Checkbox(False, label="Several labels can be true (score each on its own)", visible=False)
                with gr.Row(elem_id="actions"):
                    button = gr.Button("Explain", variant="primary", elem_id="explain-btn", scale=0, min_width=140)
                    counter = page.counter(SERVICE.limits.max_chars, len(DEFAULT_TEXT))
                    gr.HTML(counter + page.see_result_link(), elem_id="char-count")
                checkpoint = gr.Textbox(
                    SERVICE.folders.default_name(), label="Model (a Hub ID)", info=MODEL_HINT, elem_id="checkpoint"
                )
                card = gr.Markdown(PAGE.default_card(), elem_id="model-card")
                with gr.Accordion("Options: contrast, checks, method", open=False, elem_id="options"):
                    contrast = text_dropdown(label="Why this label rather than... (contrast; empty = none)", **LABEL_BOX)
                    faithfulness = gr.Checkbox(False, label=FAITHFULNESS)
                    compare = gr.Checkbox(
                        False, label="Compare baselines: does the ranking change with the reference token?"
                    )
                    baseline = text_dropdown(
                        BASELINE_TOKEN,
                        choices=list(BASELINE_KINDS),
                        value="auto",
                        allow_custom_value=True,
                        label="Baseline token (auto: mask, else pad, else unk)",
                    )
                    n_steps = gr.Number(
                        value=0,
                        precision=0,
                        minimum=0,
                        maximum=SERVICE.limits.max_steps,
                        label="Integration steps (0 = adaptive)",
                    )
                    method = gr.Radio(
                        [
                            ("this explainer's engine", "engine"),
                            ("Captum's LayerIntegratedGradients (the citable reference)", "captum"),
                        ],
                        value="engine",
                        label="Method",
                    )
                target = gr.Textbox("", visible=False, label="target")  # set by the label picker and deep links
            with gr.Column(scale=4, min_width=320, elem_id="results"):
                error = gr.HTML("", elem_id="error", label="Error")
                labels = gr.Label(
                    label="Prediction", num_top_classes=10, elem_id="prediction", elem_classes=["explain-result"]
                )
                with gr.Column(elem_id="words-area", elem_classes=["explain-result"]):
                    caption = gr.HTML(page.empty_caption(), elem_id="caption", label="Caption")
                    switch = text_dropdown(
                        label="Explain which label", visible=False, **{**LABEL_BOX, "elem_id": "label-switch"}
                    )
                    words = gr.HighlightedText(label="Word attributions", elem_id="words", **WORDS)
                    words_pair = gr.HighlightedText(label="Text pair", elem_id="words-pair", visible=False, **WORDS)
                    verify = gr.HTML(page.verify_hint(), elem_id="verify", label="Words hidden")
                    with gr.Row(elem_id="verify-actions"):
                        top3 = gr.Button("Hide the top 3 words", size="sm", variant="secondary", elem_id="hide-top", scale=0)
                        hide_request = gr.Textbox(
                            "", elem_id="hide-request", show_label=False, container=False, elem_classes=["explain-offscreen"]
                        )
                        hide_go = gr.Button("check", elem_id="hide-go", elem_classes=["explain-offscreen"])
                present = gr.HTML(
                    "", elem_id="present", visible=False, elem_classes=["explain-result"], label="Present labels"
                )
                trust = gr.Markdown(elem_id="trust", elem_classes=["explain-result"], label="Can I trust this?")
                with gr.Accordion("Every word's score (sortable table)", open=False, elem_id="word-table-box"):
                    table = gr.Dataframe(label="Every word's score", interactive=False, elem_id="word-table", wrap=False)
                details, trust_details, curves, note, comparison = layout.experts(CURVE_COLOURS)
                result = gr.JSON(label="Result (JSON)", visible=False)
                download = gr.DownloadButton(
                    "Download the result (JSON)", size="sm", variant="secondary", interactive=False, elem_id="download"
                )
                sharing = layout.sharing(download)
        form = [text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare, method]
        form += [text_pair, candidates, template, multi_label]  # optional: callers from before them send nine
        scope = locals()  # each result panel is the local of its field's name (a missing one: KeyError here)
        results = Panels(*(scope[name] for name in Panels._fields))
        model_panels = ModelPanels(
            target=target, contrast=contrast, task=task, text_pair=text_pair, card=card, error=error, loaded=loaded
        )
        limits, gpu_for = SERVICE.limits, lambda fn: on_gpu(fn, GPU_SECONDS)
        events = Events(PAGE, form, results, sharing, error, model_panels, MODEL_GROUP, limits.concurrency, gpu=gpu_for)
        model = events.model
        group = {"concurrency_limit": limits.concurrency, "concurrency_id": MODEL_GROUP}

        events.explaining(button.click, "explain", public=True)
        checkpoint.submit(labels_for, [checkpoint], list(model_panels), api_name="labels", **model)
        checkpoint.blur(model_changed, [checkpoint, loaded], list(model_panels), **PRIVATE, **model)
        task.change(
            PAGE.show_task,
            [task, loaded, candidates, target, contrast],
            list(TaskPanels(text_pair, candidates, template, multi_label, target, contrast)),
            queue=False,
            **PRIVATE,
        )
        candidates.blur(PAGE.candidates_changed, [candidates, task, target], [target], queue=False, **PRIVATE)
        events.shared(
            switch.input(
                choose_label, [switch] + form, list(results) + [target], show_progress_on=[words], **PRIVATE, **model
            )
        )
        hide_go.click(hide_clicked, [hide_request], [verify], show_progress="minimal", **PRIVATE, **model)
        top3.click(hide_top, None, [verify], show_progress="minimal", **PRIVATE, **model)
        # On load: a deep link fills the form; its labels load; the form runs (the default example
        # without a link, served from the result cache after its first visitor); then its share panel.
        wanted, linked_task = gr.State(""), gr.State("")
        linked = demo.load(
            PAGE.from_link,
            None,
            [text, checkpoint, text_pair, candidates, template, multi_label, wanted, linked_task],
            queue=False,
            **PRIVATE,
        )
        linked = linked.then(
            labels_and_target,
            [checkpoint, wanted, linked_task, candidates],
            list(model_panels),
            show_progress="hidden",
            **PRIVATE,
            **model,
        )
        events.shared(
            linked.then(
                run_explain, form, list(results), api_name="run_on_load", show_progress_on=[words], **PRIVATE, **model
            )
        )
        with tabs, one_tab, gr.Column(elem_id="examples", elem_classes=["explain-examples"]):
            layout.examples(PAGE, events, text, checkpoint, target, contrast, task, loaded)
        with tabs, gr.Tab("Many texts", id="many", elem_id="tab-many"):
            many.build_many_tab(
                MANY,
                SERVICE.folders.default_name(),
                events,
                many.OneText(tabs, text, checkpoint, target, contrast, task, loaded),
            )
        gr.api(explain_json, api_name="explain_json", **group)
        gr.api(hide_words, api_name="hide_words", **group)
    # Bounded queue: excess callers get a clean "queue is full" answer instead of waiting forever.
    demo.queue(max_size=SERVICE.limits.queue_size, default_concurrency_limit=SERVICE.limits.concurrency)
    return demo


def launch_options() -> dict:
    """Extra launch() settings: the page's CSS and script; sessions kept (EXPLAIN_SESSIONS:
    Gradio stores each session's last inputs and outputs); a request-body limit sized from
    the text limit, enforced before Gradio parses anything; EXPLAIN_MCP=1 also serves the API
    endpoints (explain_json among them) as MCP tools at /gradio_api/mcp/ (needs the
    "gradio[mcp]" extra)."""
    limits = SERVICE.limits
    body = Middleware(BodyLimit, max_bytes=limits.max_body_bytes, explain=f"texts of up to {limits.max_chars:,} characters")
    options = {
        "css": page.css(),
        "js": page.SCRIPT,
        "theme": THEME,
        "state_session_capacity": limits.sessions,
        "app_kwargs": {"middleware": [body]},
        "max_file_size": limits.report_max_bytes,
    }
    if os.environ.get("EXPLAIN_MCP", "").strip().lower() not in ("1", "true", "yes", "on"):
        return options
    try:
        import mcp  # noqa: F401
    except ImportError:
        raise SystemExit('EXPLAIN_MCP=1 needs the MCP extra: pip install "gradio[mcp]==%s"' % gr.__version__) from None
    return {**options, "mcp_server": True}


demo = build_demo()

if __name__ == "__main__":
    from explain.serving import configure_threads, warm

    # The app's own log lines (one per refused request) on stderr, beside Gradio's.
    _handler = logging.StreamHandler()
    _handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.getLogger("explain").addHandler(_handler)
    logging.getLogger("explain").setLevel(logging.INFO)

    configure_threads()  # torch threads = CPUs this process may use, unless EXPLAIN_THREADS/OMP_NUM_THREADS say
    warm()  # the sizing child starts now, not on the first visitor's Hub load
    try:  # the default example's result, so that the first visitor's page shows it at once
        SERVICE.explain(Request(DEFAULT_TEXT))
    except ExplainError as exc:
        log.info("default example not explained at start: %s", exc)
    demo.launch(
        server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
        server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")),
        **launch_options(),
    )
