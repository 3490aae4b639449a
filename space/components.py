"""Components of the page as API callers should see them (public Gradio API only)."""

from __future__ import annotations

import gradio as gr

LABEL = "a label name of the model (empty: the default)"


def typed_as_text(dropdown: gr.Dropdown, description: str = LABEL) -> gr.Dropdown:
    """``dropdown`` as API callers should see it: any text (a label name, a token), not the
    enum of the choices the page had when it was built - ``Literal['']`` for a label box
    before any model is loaded. (A subclass would need a frontend of its own.)"""
    info = {"type": "string", "description": description}
    dropdown.api_info = lambda: dict(info)
    return dropdown


def text_dropdown(description: str = LABEL, **kwargs) -> gr.Dropdown:
    """A ``gr.Dropdown(**kwargs)`` typed as text for API callers (``typed_as_text``)."""
    return typed_as_text(gr.Dropdown(**kwargs), description)
