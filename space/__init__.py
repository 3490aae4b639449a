"""The page's Gradio glue, beside app.py (not part of the ``explain`` wheel).

``panels``: the page's named outputs (what each event returns, by name, never by index);
``handlers``: the event functions, one object bound to the server's ``Service``;
``events``: one factory for the page's event chains; ``internals``: everything that
touches Gradio's private state (the queue's per-visitor cap, input filling, session
data) - the one module a Gradio upgrade can break, with a test that says so.

Imports Gradio and ``explain.serving``/``explain.render``, never torch, transformers,
captum or huggingface_hub (an import-linter contract)."""
