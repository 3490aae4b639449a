"""Serve a Gradio demo on loopback for a test, on a free port."""

from __future__ import annotations

import contextlib

from net import free_port


@contextlib.contextmanager
def serving(demo, **launch_kwargs):
    """Launch ``demo`` (queued) in this process; yields its URL, closes it after."""
    port = free_port()
    demo.queue(max_size=16, default_concurrency_limit=1)
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True, **launch_kwargs)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        demo.close()
