"""The app's faithfulness, trust and baseline-comparison panels, directly and over HTTP."""

import pytest
from paths import final

from explain.render.views import CURVES

TEXT = "It's not bad at all - actually quite charming, but too long!"


def test_app_contrast_faithfulness_and_baselines(app_module, tiny_path):
    import gradio as gr

    bert = tiny_path("bert").name
    out = final(app_module.run_explain(TEXT, bert, "positive", "auto", 8, "negative", True, True))
    words, labels, details, result, curves, trust, comparison = out[:7]
    assert result["contrast"] == "negative" and "minus" in result["explained"]
    assert set(curves["curve"]) == set(CURVES.values()) and len(CURVES) == 4
    # For everyone: one concrete sentence first, in plain words; for experts (output 14): the checks.
    assert trust.startswith("**Can I trust this?** Hiding the ") and "random" in trust
    assert "AOPC" not in trust and "Kendall" not in trust
    expert = out[13]
    assert "Completeness" in expert and "Baselines" in expert and "AOPC comprehensiveness" in expert
    assert "Kendall tau" in comparison
    assert "At 100% every word is hidden" in out[14]  # the chart's end points, in words
    # Unchecked: no curves, the summary says what was not run.
    out = final(app_module.run_explain(TEXT, bert, "", "auto", 8))
    assert out[4] is None and "not checked" in out[5] and out[6] == "" and out[14] == ""
    with pytest.raises(gr.Error, match="contrast label is the target"):
        final(app_module.run_explain(TEXT, bert, "positive", "auto", 8, "positive"))
    target, contrast, *_ = app_module.labels_for(bert)
    assert target == "" and "negative" in [c[0] if isinstance(c, tuple) else c for c in contrast["choices"]]


def test_gradio_client_gets_curves_and_summary(app_module, tiny_path):
    from gradio_client import Client
    from net import free_port

    demo = app_module.build_demo()
    port = free_port()
    demo.queue(max_size=8).launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True)
    try:
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        out = client.predict(
            TEXT, tiny_path("bert").name, "positive", "auto", 8, "negative", True, False, api_name="/explain"
        )
        result, plot, trust, expert = out[3], out[4], out[5], out[13]
        assert result["extras"]["faithfulness"]["measured"] == "p('positive') - p('negative')"
        assert plot["columns"] == ["percent", "value", "curve"] and len(plot["data"]) > 0
        assert "Hiding the" in trust and "AOPC comprehensiveness" in expert
    finally:
        demo.close()
