"""Gradio app: explain a text classifier's prediction, word by word.

Only UI here: components, events, the queue. Everything else is ``explain``."""

from __future__ import annotations

import html
import logging
import os
from pathlib import Path

import gradio as gr
import pandas as pd

from explain import ExplainError, explain, load_classifier
from explain.baselines import compare_baselines
from explain.render import highlighted, label_scores, legend, summary_markdown
from explain.trust import CURVES, comparison_markdown, curve_rows, trust_markdown, with_trust
from explain.limits import ServeLimits, check_request

HERE = Path(__file__).resolve().parent
DEFAULT_MODEL = os.environ.get("EXPLAIN_DEFAULT_MODEL", str(HERE / "examples" / "minilm-rt-sentiment"))
DEFAULT_TEXT = "The acting was wooden and the plot made no sense, but the soundtrack is wonderful."
BASELINE_CHOICES = ["auto", "mask", "pad", "unk"]
# Faithfulness curves, in explain.trust.CURVES order: explanation dark, random light.
CURVE_COLOURS = ["#a63603", "#fdae6b", "#08519c", "#9ecae1"]
log = logging.getLogger("explain.app")
# Server-side bounds (EXPLAIN_* variables): queue, concurrency, text, tokens, deadline.
LIMITS = ServeLimits.from_env()


def allowed_folders() -> dict:
    """Local checkpoints this server may load by name: the bundled default plus any the
    operator lists in EXPLAIN_LOCAL_MODELS (os.pathsep-separated folders)."""
    folders = [DEFAULT_MODEL] + [p for p in os.environ.get("EXPLAIN_LOCAL_MODELS", "").split(os.pathsep) if p]
    return {str(Path(p).resolve()): p for p in folders if Path(p).is_dir()}


def resolve_checkpoint(name: str) -> tuple:
    """Visitor input -> (source, allow_local). Server paths only if the operator allowed them."""
    name = (name or "").strip() or DEFAULT_MODEL
    folders = allowed_folders()
    for resolved, given in folders.items():
        if name in (given, resolved) or name == Path(given).name:
            return resolved, True
    return name, False


def _user_error(exc: BaseException) -> gr.Error:
    if isinstance(exc, ExplainError):
        return gr.Error(html.escape(str(exc)))
    log.exception("unexpected failure")
    return gr.Error(html.escape(f"Something went wrong inside the explainer ({type(exc).__name__}). "
                                "Try again; if it persists, report it with the text and model used."))


def labels_for(checkpoint: str):
    """Fill the target and contrast dropdowns with the model's labels (empty = the
    predicted label / no contrast)."""
    try:
        check_request(LIMITS, "", checkpoint)
        source, allow_local = resolve_checkpoint(checkpoint)
        clf = load_classifier(source, allow_local=allow_local)
    except BaseException as exc:  # keep serving whatever the checkpoint does
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        gr.Warning(html.escape(str(exc)) if isinstance(exc, ExplainError) else "Could not load that model.")
        return gr.update(choices=[""], value=""), gr.update(choices=[""], value="")
    choices = [""] + list(clf.labels)
    contrast = choices if clf.head != "regression" else [""]
    return gr.update(choices=choices, value=""), gr.update(choices=contrast, value="")


def run_explain(text: str, checkpoint: str, target: str = "", baseline: str = "auto", n_steps: float = 0,
                contrast: str = "", faithfulness: bool = False, compare: bool = False):
    """The /explain endpoint: (highlighted words, label scores, details markdown, result JSON,
    faithfulness curves (None unless asked), trust summary markdown, baseline comparison markdown)."""
    try:
        check_request(LIMITS, text, checkpoint, target, baseline, contrast, n_steps=n_steps)
        source, allow_local = resolve_checkpoint(checkpoint)
        clf = load_classifier(source, allow_local=allow_local)
        steps = int(n_steps) if n_steps else None
        expl = explain(text, clf, target=target or None, contrast=contrast or None, baseline=baseline or "auto",
                       n_steps=steps, faithfulness=bool(faithfulness), max_chars=LIMITS.max_chars,
                       max_text_tokens=LIMITS.max_tokens, deadline_s=LIMITS.deadline_s)
        comparison = (compare_baselines(text, clf, reference=expl, n_steps=steps, deadline_s=LIMITS.deadline_s)
                      if compare else None)
        expl = with_trust(expl, comparison)
    except BaseException as exc:
        if isinstance(exc, (KeyboardInterrupt, SystemExit)):
            raise
        raise _user_error(exc) from None
    rows = curve_rows(expl)
    curves = pd.DataFrame(rows) if rows else None
    return (highlighted(expl), label_scores(expl), legend(expl) + "\n\n" + summary_markdown(expl), expl.to_dict(),
            curves, trust_markdown(expl.extras["trust"]), comparison_markdown(comparison))


def build_demo() -> gr.Blocks:
    with gr.Blocks(title="Explain a text classifier") as demo:
        gr.Markdown("# Why did the classifier say that?\n"
                    "Signed word attributions (layer integrated gradients) for any Hugging Face "
                    "sequence classifier, with a checked error bound.")
        with gr.Row():
            with gr.Column(scale=3):
                text = gr.Textbox(label="Text", value=DEFAULT_TEXT, lines=4, max_length=LIMITS.max_chars)
                checkpoint = gr.Textbox(label="Checkpoint (Hub ID)", value=Path(DEFAULT_MODEL).name,
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
                    baseline = gr.Dropdown(BASELINE_CHOICES, value="auto", allow_custom_value=True,
                                           label="Baseline token (auto: mask, else pad, else unk)")
                    n_steps = gr.Number(value=0, precision=0, minimum=0, maximum=512,
                                        label="Integration steps (0 = adaptive to error 0.01)")
                button = gr.Button("Explain", variant="primary")
            with gr.Column(scale=4):
                words = gr.HighlightedText(label="Word attributions", show_legend=False, combine_adjacent=False)
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
        inputs = [text, checkpoint, target, baseline, n_steps, contrast, faithfulness, compare]
        outputs = [words, labels, details, result, curves, trust, comparison]
        button.click(run_explain, inputs, outputs, api_name="explain", concurrency_limit=LIMITS.concurrency)
        checkpoint.submit(labels_for, [checkpoint], [target, contrast], api_name="labels")
        demo.load(labels_for, [checkpoint], [target, contrast], api_name=False)
    # Bounded queue: excess callers get a clean "queue is full" answer instead of waiting forever.
    demo.queue(max_size=LIMITS.queue_size, default_concurrency_limit=LIMITS.concurrency)
    return demo


demo = build_demo()

if __name__ == "__main__":
    demo.launch(server_name=os.environ.get("GRADIO_SERVER_NAME", "127.0.0.1"),
                server_port=int(os.environ.get("GRADIO_SERVER_PORT", "7860")))
