"""space.internals is the one module that reads Gradio's private state: this test fails
when a Gradio upgrade moves any of it (then fix that module, nothing else)."""

import pytest

from space import internals


def test_what_the_glue_reads_is_there(app_module):
    demo = app_module.build_demo()
    assert internals.check(demo._queue, demo.state_holder) == []
    # The per-visitor cap is installed on the queue the app made, once.
    capped = demo._queue.push
    assert capped.__name__ == "capped_push"
    internals.VisitorCap(demo._queue, 2, 0, app_module.MODEL_GROUP).install()
    assert demo._queue.push is capped  # not wrapped a second time


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


def test_a_report_sees_when_single_text_visitors_wait(app_module):
    """The probe a report asks between its chunks (issue 25): busy while an event of the
    model group runs or waits alive; never busy for a direct call. Reports run in a group
    of their own, one at a time."""
    from types import SimpleNamespace

    demo = app_module.build_demo()
    for fn in demo.fns.values():
        demo._queue.create_event_queue_for_fn(fn)
    request = SimpleNamespace(request=SimpleNamespace(app=SimpleNamespace(get_blocks=lambda: demo)))
    busy = internals.group_busy(request, app_module.MODEL_GROUP)
    group = demo._queue.event_queue_per_concurrency_id[app_module.MODEL_GROUP]
    assert busy() is False
    group.current_concurrency = 1  # a single-text explanation running
    assert busy() is True
    group.current_concurrency = 0
    group.queue.append(SimpleNamespace(alive=True))  # one waiting
    assert busy() is True
    group.queue[0].alive = False  # its page was closed
    assert busy() is False
    assert internals.group_busy(SimpleNamespace(), app_module.MODEL_GROUP)() is False
    reports = [f for f in demo.fns.values() if f.api_name in ("report", "run_report")]
    assert len(reports) == 2 and {(f.concurrency_id, f.concurrency_limit) for f in reports} == {("report", 1)}


def test_a_page_failure_forgets_what_the_tab_sent_not_what_it_chose(app_module):
    """A refused request's inputs never outlive it; a page tab's gr.State (the model it
    loaded, the label it wants) does - a refused run must not reset the tab's choices. An
    API caller's session goes whole."""
    from types import SimpleNamespace

    import gradio as gr

    demo = app_module.build_demo()
    holder = demo.state_holder
    holder.set_blocks(demo)
    chosen = next(b for b in demo.blocks.values() if isinstance(b, gr.State))
    box = next(b for b in demo.blocks.values() if isinstance(b, gr.Textbox))
    sent = "x" * 30_000
    for session in ("tab", "api"):
        state = holder[session]
        state[chosen._id] = "the label this tab wants"
        state._update_value_in_config(box._id, sent)
    call = lambda session: SimpleNamespace(
        request=SimpleNamespace(app=SimpleNamespace(state_holder=holder)), session_hash=session
    )
    internals.forget_session(call("tab"), keep_state=True)
    internals.forget_session(call("api"))
    kept = holder.session_data["tab"]
    assert kept.state_data[chosen._id] == "the label this tab wants"
    assert kept.config_values[box._id]["props"].get("value") != sent
    assert "api" not in holder.session_data
