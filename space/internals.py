"""Everything that reads or changes Gradio's private state, in one place.

Gradio 6.31 has no public hook for what a public server needs here: a per-visitor cap
on queued events (``Queue.push``, ``Queue.event_ids_to_events``,
``Queue.event_queue_per_concurrency_id``, ``Queue.pending_messages_per_session``,
``Queue.pending_event_ids_session``), optional trailing inputs for older API callers
(``Blocks.validate_inputs``) and dropping a refused request's session data
(``App.state_holder``). ``check()`` lists what is missing; tests/space/test_internals.py
fails when a Gradio upgrade moves any of it."""

from __future__ import annotations

import inspect
import logging
import time
import weakref
from collections.abc import Callable
from typing import Any, Optional

import gradio as gr
from fastapi import HTTPException
from gradio.blocks import BlockFunction
from gradio.queueing import Queue
from gradio.state_holder import StateHolder

from explain.serving import client_key, over_cap

log = logging.getLogger("explain.app")

# (object, attribute) pairs this module reads or replaces.
_NEEDED = ((Queue, "push"), (Queue, "__len__"), (gr.Blocks, "validate_inputs"), (gr.Blocks, "queue"),
           (StateHolder, "__init__"), (BlockFunction, "__init__"))
_QUEUE_STATE = ("event_ids_to_events", "event_queue_per_concurrency_id", "pending_messages_per_session",
                "pending_event_ids_session", "max_size")
_HOLDER_STATE = ("lock", "session_data", "time_last_used")


def check(queue: Optional[Any] = None, holder: Optional[Any] = None) -> list[str]:
    """What this module relies on and Gradio no longer has (empty: all there). With a live
    ``queue`` (``demo._queue``) and ``holder`` (``demo.state_holder``) their state too."""
    missing = [f"{owner.__name__}.{name}" for owner, name in _NEEDED if not hasattr(owner, name)]
    if "concurrency_id" not in inspect.signature(BlockFunction.__init__).parameters:
        missing.append("BlockFunction(concurrency_id=...)")
    if queue is not None:
        missing += [f"Queue.{name}" for name in _QUEUE_STATE if not hasattr(queue, name)]
        messages = getattr(queue, "pending_messages_per_session", None)
        if messages is not None and not hasattr(messages, "get"):
            missing.append("Queue.pending_messages_per_session.get")
    if holder is not None:
        missing += [f"StateHolder.{name}" for name in _HOLDER_STATE if not hasattr(holder, name)]
    return missing


def fn_name(block_fn) -> str:
    """The name of an event's function (under any wrapper, e.g. ZeroGPU's)."""
    fn = inspect.unwrap(block_fn.fn) if callable(block_fn.fn) else block_fn.fn
    return getattr(fn, "__name__", "")


def _parameters(block_fn) -> list:
    try:
        params = inspect.signature(block_fn.fn).parameters.values()
    except (TypeError, ValueError):
        return []
    return [p for p in params if p.name not in ("progress", "request") and p.kind != p.VAR_POSITIONAL]


def _input_names(block_fn) -> list:
    names = [p.name for p in _parameters(block_fn)]
    return names if len(names) == len(block_fn.inputs) else []


def _defaults(block_fn) -> list:
    params = _parameters(block_fn)
    if len(params) != len(block_fn.inputs):
        return []
    return [None if p.default is inspect.Parameter.empty else p.default for p in params]


def forget_session(request) -> None:
    """Drop what Gradio stored for this session (a refused request's inputs among it):
    nothing a refused request sent outlives it. The page's own values live in the page."""
    try:
        holder = request.request.app.state_holder
        with holder.lock:
            holder.session_data.pop(request.session_hash, None)
            holder.time_last_used.pop(request.session_hash, None)
    except Exception:  # noqa: BLE001 - no session to forget (a direct call, another Gradio)
        pass


class AppBlocks(gr.Blocks):
    """gr.Blocks with the app's own answers where Gradio would give a bare ``{"error": null}``
    (a call with fewer inputs than the form), optional trailing inputs filled with their
    defaults (callers from before they existed send fewer), and a per-visitor cap on the
    queue (``cap``, installed when the queue is made)."""

    def __init__(self, *, optional_inputs: Optional[dict] = None, cap: Optional[Callable[[Any], VisitorCap]] = None,
                 **kwargs) -> None:
        self.optional_inputs = dict(optional_inputs or {})
        self.make_cap = cap
        super().__init__(**kwargs)

    def validate_inputs(self, block_fn, inputs) -> None:
        n = len(block_fn.inputs)
        optional = self.optional_inputs.get(fn_name(block_fn), 0)
        if n - optional <= len(inputs) < n:
            defaults = _defaults(block_fn)
            if len(defaults) == n:
                inputs.extend(defaults[len(inputs):])  # the list Gradio goes on to read
        if len(inputs) < n:
            names = _input_names(block_fn)
            required = n - optional
            shown = ", ".join(names[:required])
            extra = f" Optional after them: {', '.join(names[required:])}." if optional and names else ""
            raise gr.Error(f"This endpoint takes {required} input{'s' if required != 1 else ''}"
                           f"{f' ({shown})' if shown else ''}; the request sent {len(inputs)}. Send all of them in "
                           f"this order (gradio_client fills in the defaults for you).{extra}", print_exception=False)
        super().validate_inputs(block_fn, inputs)

    def queue(self, *args, **kwargs):
        out = super().queue(*args, **kwargs)
        if self.make_cap is not None:
            self.make_cap(self._queue).install()
        return out


def visitor_of(request, proxy_hops: int) -> str:
    """A request's visitor key (its address, or behind trusted proxies the forwarded one)."""
    peer = getattr(getattr(request, "client", None), "host", None)
    return client_key(dict(getattr(request, "headers", {}) or {}), peer, proxy_hops)


class VisitorCap:
    """At most ``limit`` model events per visitor in Gradio's queue, waiting or running,
    counting also finished results the visitor has not read (a /call/ result nobody
    fetches stays in memory). Unread results are dropped after UNREAD_S seconds."""

    UNREAD_S = 300.0
    MAX_SESSIONS = 4096
    _installed: weakref.WeakSet = weakref.WeakSet()

    def __init__(self, queue, limit: int, proxy_hops: int, group: str) -> None:
        self.queue = queue
        self.limit = limit
        self.proxy_hops = proxy_hops
        self.group = group
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

    def visitor(self, request) -> str:
        return visitor_of(request, self.proxy_hops)

    def admit(self, request) -> Optional[str]:
        """None, or the message refusing this visitor's next event."""
        self._drop_unread()
        key = self.visitor(request)
        events = [e for e in list(self.queue.event_ids_to_events.values()) if e.fn.concurrency_id == self.group]
        active = [self.visitor(e.request) for e in events]
        unread = sum(self._unread(s) for s, (k, _) in list(self.sessions.items()) if k == key)
        refusal = over_cap(key, active + [key] * unread, self.limit)
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


__all__ = ["AppBlocks", "VisitorCap", "check", "fn_name", "forget_session", "visitor_of"]
