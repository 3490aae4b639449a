"""space.internals is the one module that reads Gradio's private state: this test fails
when a Gradio upgrade moves any of it (then fix that module, nothing else)."""

import pytest

from space import internals


def test_what_the_glue_reads_is_there(app_module):
    demo = app_module.build_demo()
    assert internals.check(demo._queue, demo.state_holder) == []
    # The per-visitor cap is installed on the queue the app made, once.
    assert demo._queue.push.__name__ == "capped_push"
    internals.VisitorCap(demo._queue, 2, 0, app_module.MODEL_GROUP).install()
    assert demo._queue.push.__name__ == "capped_push"


def test_a_moved_internal_is_reported(monkeypatch):
    from gradio.queueing import Queue

    monkeypatch.delattr(Queue, "push")
    assert "Queue.push" in internals.check()

    class Moved:  # a queue whose state Gradio renamed
        event_ids_to_events = {}

    missing = internals.check(Moved())
    assert "Queue.pending_messages_per_session" in missing and "Queue.event_ids_to_events" not in missing


@pytest.mark.parametrize("sent", [9, 13])
def test_optional_inputs_are_filled_and_a_short_call_is_named(app_module, sent):
    import gradio as gr

    demo = app_module.build_demo()
    fn = next(f for f in demo.fns.values() if f.api_name == "explain")
    inputs = ["text", "", "", "auto", 0, "", False, False, "engine", "", "", "", False][:sent]
    demo.validate_inputs(fn, inputs)
    assert len(inputs) == 13
    with pytest.raises(gr.Error, match=r"takes 9 inputs \(text, checkpoint, target"):
        demo.validate_inputs(fn, ["text"])
