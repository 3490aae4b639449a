"""The Gradio app: the event function directly, and over HTTP with gradio_client."""

import pytest
from net import free_port
from paths import final

from explain import SCHEMA_VERSION


def test_event_function(app_module, tiny_path):
    text = "Brilliant performances, but far too long."
    words, labels, details, result, *_ = final(app_module.run_explain(text, tiny_path("bert").name, "", "auto", 0))
    assert "".join(piece for piece, _ in words) == text
    # Words carry strength categories (the colour scale): the strongest word's is its level against
    # the scale (the strongest word, or the floor when the words barely move the answer).
    from explain import Explanation
    from explain.render import categories
    from explain.render.effect import scale
    from explain.render.scale import category, level

    assert all(cat is None or cat in categories() for _, cat in words)
    strongest = max(result["words"], key=lambda w: abs(w["score"]))
    starts = [sum(len(p) for p, _ in words[:i]) for i in range(len(words))]
    expected = category(level(strongest["score"] / scale(Explanation.from_dict(result))))
    assert dict(zip(starts, (c for _, c in words)))[strongest["start"]] == expected
    assert set(labels) == {"negative", "neutral", "positive"}
    assert "Completeness error" in details and "estimated word error" in details
    assert result["schema_version"] == SCHEMA_VERSION and result["text"] == text
    # The operator's folder is named, its server path never shown.
    assert result["checkpoint"]["source"] == "bert" and "/" not in str(result["checkpoint"])


def test_bad_input_is_a_clear_error_and_app_keeps_serving(app_module, tiny_path):
    import gradio as gr

    bert = tiny_path("bert").name
    with pytest.raises(gr.Error, match="empty"):
        final(app_module.run_explain("   ", bert))
    with pytest.raises(gr.Error, match="no label"):
        final(app_module.run_explain("fine", bert, "nonsense"))
    with pytest.raises(gr.Error, match="path on the server"):
        final(app_module.run_explain("fine", "/etc"))
    words, *_ = final(app_module.run_explain("fine again", bert))
    assert "".join(p for p, _ in words) == "fine again"


def test_gradio_client_round_trip(app_module, tiny_path):
    from gradio_client import Client

    demo = app_module.build_demo()
    port = free_port()
    demo.queue(max_size=8).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        text = "Boring, predictable and far too long."
        words, labels, details, result, *_ = client.predict(
            text, tiny_path("bert").name, "positive", "auto", 0, api_name="/explain"
        )
        assert result["target"] == "positive"
        assert result["text"] == text
        assert labels["label"] in ("negative", "neutral", "positive")
        assert "Completeness error" in details
    finally:
        demo.close()


def test_captum_method_under_advanced(app_module, tiny_path):
    bert = tiny_path("bert").name
    text = "Boring, predictable and far too long."
    engine = final(app_module.run_explain(text, bert, "positive", "auto", 12))[3]
    captum = final(app_module.run_explain(text, bert, "positive", "auto", 12, "", False, False, "captum"))[3]
    assert engine["method"] == "engine" and captum["method"] == "captum" and captum["steps"] == 12
    for a, b in zip(engine["words"], captum["words"]):
        assert (a["start"], a["end"]) == (b["start"], b["end"]) and abs(a["score"] - b["score"]) < 1e-5
    import gradio as gr

    with pytest.raises(gr.Error, match="Unknown method"):
        final(app_module.run_explain(text, bert, "", "auto", 0, "", False, False, "lime"))


def test_every_explain_output_is_named_and_labels_are_text(app_module):
    """view_api() describes /explain by name (no value_43), with target, contrast and
    baseline typed as text (not the enum of the choices the page had when it was built)."""
    from space.panels import Panels

    info = app_module.demo.get_api_info()["named_endpoints"]
    returns = [r["label"] for r in info["/explain"]["returns"]]
    assert len(returns) == len(Panels._fields) and not [r for r in returns if r.startswith("value_")], returns
    params = {p["parameter_name"]: p["python_type"]["type"] for p in info["/explain"]["parameters"]}
    assert params["target"] == params["contrast"] == params["baseline"] == "str", params
    assert {"/explain", "/explain_json", "/hide_words", "/labels"} <= set(info)


def test_progress_is_drawn_once(app_module):
    """Every run shows its progress on one panel (the words), not one overlay per output."""
    demo = app_module.build_demo()
    words = next(c._id for c in demo.blocks.values() if getattr(c, "elem_id", None) == "words")
    runs = [d for d in demo.config["dependencies"] if d.get("api_name") in ("explain", "run_on_load", "run_example")]
    assert len(runs) == 3
    assert all(d["show_progress_on"] == [words] for d in runs), [d["show_progress_on"] for d in runs]


def test_hide_words_over_the_client_api(app_module, tiny_path):
    from gradio_client import Client

    demo = app_module.build_demo()
    port = free_port()
    demo.queue(max_size=8).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        text = "Brilliant performances, but far too long."
        got = client.predict(text, tiny_path("bert").name, "positive", "", "1, 2", api_name="/hide_words")
        assert [w["text"] for w in got["words"]] == ["Brilliant", "performances"]
        assert got["target"] == "positive" and abs(sum(got["probabilities"].values()) - 1) < 1e-5
        assert got["measured"] == pytest.approx(got["probabilities"]["positive"], abs=1e-6)
        top = client.predict(text, tiny_path("bert").name, "", "", "", 2, api_name="/hide_words")
        assert len(top["words"]) == 2
    finally:
        demo.close()


def test_the_page_gets_a_first_answer_early_then_the_final_one(app_module, tiny_path, monkeypatch):
    """Issue 24: when the engine estimates a run to take more than a few seconds, the page's
    /explain sends a first, coarser set of colours (marked "refining", a click on a word
    waits) before the final result; API callers get one answer."""
    from types import SimpleNamespace

    from explain.engine import cost, run

    monkeypatch.setattr(cost, "estimated_seconds", lambda clf, row_tokens: run.DRAFT_AFTER_S + 1.0)
    page = SimpleNamespace(headers={"x-gradio-user": "app"}, session_hash=None)
    text = "Brilliant performances, but far too long and rather dull."
    sent = list(app_module.run_explain(text, tiny_path("bert").name, "", "auto", 0, request=page))
    assert len(sent) == 2
    first, last = sent
    assert "Refining..." in first[7] and "&quot;draft&quot;:true" in first[7]  # the caption, marked
    assert "Refining" not in last[7] and last[3]["draft"] is False and last[3]["text"] == text
    api = list(app_module.run_explain(text + " Again.", tiny_path("bert").name, "", "auto", 0))
    assert len(api) == 1 and api[0][3]["draft"] is False


def test_a_page_run_nobody_waits_for_stops(app_module, tiny_path, monkeypatch):
    """A closed tab: Gradio closes the page's generator (at its first answer, the draft) and
    counts the slot as free, so the run must stop too - at its next round, not at the
    deadline. The worker is held after the draft until the generator is closed (an order,
    not a sleep)."""
    import threading
    from types import SimpleNamespace

    from explain.engine import cost, run
    from space import handlers

    monkeypatch.setattr(cost, "estimated_seconds", lambda clf, row_tokens: run.DRAFT_AFTER_S + 1.0)
    closed, failed = threading.Event(), []
    explain_form, failed_panels = handlers.Page.explain_form, handlers.panels.failed

    def held(self, r, progress, request, draft=None):
        def then_wait(first):
            draft(first)
            assert closed.wait(60)

        return explain_form(self, r, progress, request, draft=then_wait if draft else None)

    def recorded(message, kept):
        failed.append(message)
        return failed_panels(message, kept)

    monkeypatch.setattr(handlers.Page, "explain_form", held)
    monkeypatch.setattr(handlers.panels, "failed", recorded)
    page = SimpleNamespace(headers={"x-gradio-user": "app"}, session_hash=None)
    text = "Nobody stayed to the end: long, loud and rather dull."  # not in the result cache
    sent = app_module.run_explain(text, tiny_path("bert").name, "", "auto", 0, request=page)
    first = next(sent)
    assert "Refining..." in first[7]
    workers = [t for t in threading.enumerate() if t.name == "explain-page-run"]
    sent.close()
    closed.set()
    for t in workers:
        t.join(60)
    assert failed and failed[0].startswith("Nobody waits for this explanation any more"), failed
