"""Everything that reads or changes Gradio's private state, in one place.

Gradio 6.31 has no public hook for what a public server needs here: a per-visitor cap
on queued events (``Queue.push``, ``Queue.event_ids_to_events``,
``Queue.event_queue_per_concurrency_id``, ``Queue.pending_messages_per_session``,
``Queue.pending_event_ids_session``), optional trailing inputs for older API callers
(``Blocks.validate_inputs``), dropping a refused request's session data
(``App.state_holder``) and whether a concurrency group is busy (``EventQueue.queue``,
``EventQueue.current_concurrency``: a dataset report gives way to single-text visitors).
``check()`` lists what is missing; tests/space/test_internals.py fails when a Gradio
upgrade moves any of it."""

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
from gradio.queueing import Event, EventQueue, Queue
from gradio.routes import App
from gradio.state_holder import SessionState, StateHolder

from explain import logbook
from explain.serving import client_key, over_cap

log = logging.getLogger("explain.app")

# (object, attribute) pairs this module reads or replaces.
_NEEDED = (
    (Queue, "push"),
    (Queue, "__len__"),
    (gr.Blocks, "validate_inputs"),
    (gr.Blocks, "queue"),
    (StateHolder, "__init__"),
    (BlockFunction, "__init__"),
    (App, "get_blocks"),
)
_QUEUE_STATE = (
    "event_ids_to_events",
    "event_queue_per_concurrency_id",
    "pending_messages_per_session",
    "pending_event_ids_session",
    "max_size",
    "blocks",
    "process_time_per_fn",
)
# Attributes of a queued event (gradio.queueing.Event) this module reads.
_EVENT_STATE = ("session_hash", "fn", "request", "alive", "enqueue_time", "_id")
_HOLDER_STATE = ("lock", "session_data", "time_last_used")
# What a session (gradio.state_holder.SessionState) holds that forget_session keeps, and
# whether its tab has gone (VisitorCap).
_SESSION_STATE = ("state_data", "_state_ttl", "is_closed")
# Attributes of a concurrency group's queue (gradio.queueing.EventQueue) this module reads.
_GROUP_STATE = ("queue", "current_concurrency")


def check(queue: Optional[Any] = None, holder: Optional[Any] = None) -> list[str]:
    """What this module relies on and Gradio no longer has (empty: all there). With a live
    ``queue`` (``demo._queue``) and ``holder`` (``demo.state_holder``) their state too."""
    missing = [f"{owner.__name__}.{name}" for owner, name in _NEEDED if not hasattr(owner, name)]
    if "concurrency_id" not in inspect.signature(BlockFunction.__init__).parameters:
        missing.append("BlockFunction(concurrency_id=...)")
    made = inspect.getsource(Event.__init__)
    missing += [f"Event.{name}" for name in _EVENT_STATE if f"self.{name}" not in made]
    grouped = inspect.getsource(EventQueue.__init__)
    missing += [f"EventQueue.{name}" for name in _GROUP_STATE if f"self.{name}" not in grouped]
    kept = inspect.getsource(SessionState.__init__)
    missing += [f"SessionState.{name}" for name in _SESSION_STATE if f"self.{name}" not in kept]
    if "blocks" not in inspect.getsource(StateHolder.set_blocks):
        missing.append("StateHolder.blocks")
    if queue is not None:
        missing += [f"Queue.{name}" for name in _QUEUE_STATE if not hasattr(queue, name)]
        messages = getattr(queue, "pending_messages_per_session", None)
        if messages is not None and not hasattr(messages, "get"):
            missing.append("Queue.pending_messages_per_session.get")
        if hasattr(queue, "blocks") and not hasattr(queue.blocks, "state_holder"):
            missing.append("Blocks.state_holder")
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


def forget_session(request, keep_state: bool = False) -> None:
    """Drop what Gradio stored for this session (a refused request's inputs among it):
    nothing a refused request sent outlives it. ``keep_state`` (a page tab): the tab's
    ``gr.State`` values stay (the model it loaded, the label it wants); only the values
    its components sent are dropped, as if the tab had just opened."""
    try:
        holder = request.request.app.state_holder
        with holder.lock:
            old = holder.session_data.pop(request.session_hash, None)
            if keep_state and old is not None and old.state_data:
                fresh = type(old)(holder.blocks)
                fresh.state_data, fresh._state_ttl = old.state_data, old._state_ttl
                holder.session_data[request.session_hash] = fresh
            else:
                holder.time_last_used.pop(request.session_hash, None)
    except Exception:  # noqa: BLE001 - no session to forget (a direct call, another Gradio)
        pass


def group_busy(request, group: str) -> Callable[[], bool]:
    """A probe for a long job that should give way: true while events of the concurrency
    ``group`` wait in the queue or run (a dataset report lets single-text explanations go
    first between its chunks). Always false without a queue (a direct call)."""
    try:
        queue = request.request.app.get_blocks()._queue
        queues = queue.event_queue_per_concurrency_id
    except Exception:  # noqa: BLE001 - no app behind the request
        return lambda: False

    def busy() -> bool:
        eq = queues.get(group)
        if eq is None:
            return False
        return eq.current_concurrency > 0 or any(getattr(e, "alive", True) for e in list(eq.queue))

    return busy


class AppBlocks(gr.Blocks):
    """gr.Blocks with the app's own answers where Gradio would give a bare ``{"error": null}``
    (a call with fewer inputs than the form), optional trailing inputs filled with their
    defaults (callers from before they existed send fewer), and a per-visitor cap on the
    queue (``cap``, installed when the queue is made)."""

    def __init__(
        self, *, optional_inputs: Optional[dict] = None, cap: Optional[Callable[[Any], VisitorCap]] = None, **kwargs
    ) -> None:
        self.optional_inputs = dict(optional_inputs or {})
        self.make_cap = cap
        super().__init__(**kwargs)

    def validate_inputs(self, block_fn, inputs) -> None:
        n = len(block_fn.inputs)
        optional = self.optional_inputs.get(fn_name(block_fn), 0)
        if n - optional <= len(inputs) < n:
            defaults = _defaults(block_fn)
            if len(defaults) == n:
                inputs.extend(defaults[len(inputs) :])  # the list Gradio goes on to read
        if len(inputs) < n:
            names = _input_names(block_fn)
            required = n - optional
            shown = ", ".join(names[:required])
            extra = f" Optional after them: {', '.join(names[required:])}." if optional and names else ""
            raise gr.Error(
                f"This endpoint takes {required} input{'s' if required != 1 else ''}"
                f"{f' ({shown})' if shown else ''}; the request sent {len(inputs)}. Send all of them in "
                f"this order (gradio_client fills in the defaults for you).{extra}",
                print_exception=False,
            )
        super().validate_inputs(block_fn, inputs)

    def queue(self, *args, **kwargs):
        out = super().queue(*args, **kwargs)
        if self.make_cap is not None:
            self.make_cap(self._queue).install()
        return out


def visitor_of(request, proxy_hops: int) -> str:
    """A request's visitor key (its address, or behind trusted proxies the forwarded one).
    The headers go as Starlette keeps them, every line: a second X-Forwarded-For line must
    not hide the first (``client_key`` joins them)."""
    peer = getattr(getattr(request, "client", None), "host", None)
    return client_key(getattr(request, "headers", None) or {}, peer, proxy_hops)


def from_page(request) -> bool:
    """Did the app's own page send it? (Its Gradio client says ``x-gradio-user: app``.)"""
    try:
        return (request.headers.get("x-gradio-user") or "").lower() == "app"
    except Exception:  # noqa: BLE001 - no headers
        return False


class VisitorCap:
    """A fair share of Gradio's queue per visitor. Every queued event counts: at most
    ``limit`` model events and ``limit + EXTRA`` events of any kind per visitor, waiting or
    running; finished results the visitor has not read count too (a /call/ result nobody
    fetches stays in memory; it is dropped after UNREAD_S) - a page's only once they have
    waited GRACE_S, since a live page reads its results as they come. What never counts:
    events of a page that is gone (Gradio marks them dead when the tab's stream closes) and a
    page's earlier model event that a newer one of the same kind from the same tab
    supersedes (the older, still waiting, is dropped). Waiting events are served in turn
    per visitor: one visitor's second event waits behind everyone else's first."""

    UNREAD_S = 300.0
    GRACE_S = 5.0
    EXTRA = 2
    MAX_SESSIONS = 4096
    _installed: weakref.WeakSet = weakref.WeakSet()

    def __init__(
        self,
        queue,
        limit: int,
        proxy_hops: int,
        group: str,
        clock: Callable[[], float] = time.monotonic,
        logger: Optional[Callable[..., None]] = None,
    ) -> None:
        self.queue = queue
        self.limit = limit
        self.proxy_hops = proxy_hops
        self.group = group
        self.clock = clock
        # One line for the first refusal, then one summary a minute (a flood must not flood the log).
        self.logger = logger or (lambda fmt, *args: logbook.note(log, "refused (busy)", fmt, *args))
        self.sessions: dict = {}  # session hash -> (visitor, time of its last event, a page's), oldest first
        self.unread_since: dict = {}  # session hash -> when its finished results were first seen unread

    def install(self) -> None:
        if self.queue in VisitorCap._installed:
            return
        VisitorCap._installed.add(self.queue)
        push = self.queue.push

        async def capped_push(body, request, username):
            refusal = self.admit(request, body)
            if refusal:  # 429 with the message: the page shows it (a 503 would read "busy")
                raise HTTPException(status_code=429, detail=refusal)
            answer = await push(body, request, username)
            if answer[0] and body.session_hash:
                self._seen(body.session_hash, self.visitor(request), from_page(request))
                self.fair()
            return answer

        self.queue.push = capped_push

    def visitor(self, request) -> str:
        return visitor_of(request, self.proxy_hops)

    def _fn(self, body):
        fns = getattr(getattr(self.queue, "blocks", None), "fns", {}) or {}
        return fns.get(getattr(body, "fn_index", None))

    def admit(self, request, body=None) -> Optional[str]:
        """None, or the message refusing this visitor's next event."""
        if self.limit <= 0:
            return None
        self._drop_unread()
        key = self.visitor(request)
        fn = self._fn(body) if body is not None else None
        model = fn is None or getattr(fn, "concurrency_id", None) == self.group
        session = getattr(body, "session_hash", None)
        page = from_page(request)
        if page and model and session and fn is not None:
            self._supersede(session, fn)
        live = [e for e in list(self.queue.event_ids_to_events.values()) if getattr(e, "alive", True)]
        mine = [e for e in live if self.visitor(e.request) == key]
        # An event that has sent its result is counted once, as unread: Gradio drops it from its
        # running events a moment after the message is queued, and in that moment it is both.
        mine_model = [e for e in mine if e.fn.concurrency_id == self.group and not self._answered(e)]
        unread = sum(self._unread(s, pg) for s, (k, _, pg) in list(self.sessions.items()) if k == key)
        if model and over_cap(key, [key] * (len(mine_model) + unread), self.limit):
            self.logger(
                "refused (busy): visitor %s has %d model event(s) queued or running and %d result(s) unread",
                key,
                len(mine_model),
                unread,
            )
            if page:
                return self._page_message(mine_model)
            refusal = over_cap(key, [key] * (len(mine_model) + unread), self.limit)
            if unread:
                refusal += (
                    f" ({unread} of them finished but were never read: read each result, or wait "
                    f"{self.UNREAD_S:.0f} s for unread ones to be dropped.)"
                )
            return refusal
        if len(mine) >= self.limit + self.EXTRA:
            self.logger("refused (busy): visitor %s has %d events queued or running", key, len(mine))
            return (
                f"You already have {len(mine)} requests waiting or running on this server, its limit per "
                "visitor. Wait for them to finish, then try again."
            )
        return None

    def _page_message(self, running: list) -> str:
        """What a browser visitor reads: their earlier run, and about when it ends."""
        left = []
        for e in running:
            avg = (
                getattr(self.queue.process_time_per_fn.get(e.fn), "avg_time", 0)
                if hasattr(self.queue, "process_time_per_fn")
                else 0
            )
            spent = self.clock() - getattr(e, "enqueue_time", self.clock())
            left.append(max(1.0, (avg or 0) - spent) if avg else None)
        known = [x for x in left if x is not None]
        when = f"it will finish in about {max(known):.0f} s" if known else "it will finish shortly"
        what = "explanation is" if len(running) <= 1 else f"{len(running)} explanations are"
        return (
            f"Your earlier {what} still running (in this or another tab); {when}. Then try again - the result "
            "of this one is not lost: press Explain again."
        )

    def _supersede(self, session: str, fn) -> None:
        """Drop a page tab's events of the same kind (``fn``) still waiting: its new one
        replaces them (a second Explain before the first started). Other kinds stay - a word
        clicked while an explanation waits must not drop the explanation."""
        for eq in list(self.queue.event_queue_per_concurrency_id.values()):
            stale = [e for e in eq.queue if e.session_hash == session and e.fn is fn]
            for e in stale:
                eq.queue.remove(e)
                self.queue.event_ids_to_events.pop(e._id, None)
                ids = self.queue.pending_event_ids_session.get(session)
                if ids is not None:
                    ids.discard(e._id)

    def fair(self) -> None:
        """Waiting events in turn per visitor: each visitor's n-th event (counting one that is
        running) after every other visitor's (n-1)-th; arrival order otherwise."""
        waiting = {id(e) for eq in self.queue.event_queue_per_concurrency_id.values() for e in eq.queue}
        running: dict = {}
        for e in list(self.queue.event_ids_to_events.values()):
            if id(e) not in waiting:
                k = self.visitor(e.request)
                running[k] = running.get(k, 0) + 1
        for eq in self.queue.event_queue_per_concurrency_id.values():
            if len(eq.queue) < 2:
                continue
            seen: dict = {}
            keyed = []
            for i, e in enumerate(eq.queue):
                k = self.visitor(e.request)
                keyed.append((running.get(k, 0) + seen.get(k, 0), i, e))
                seen[k] = seen.get(k, 0) + 1
            eq.queue[:] = [e for _, _, e in sorted(keyed, key=lambda t: (t[0], t[1]))]

    def _answered(self, event) -> bool:
        """Has ``event`` already queued its finished result (so it is no longer running)?"""
        messages = self.queue.pending_messages_per_session.get(getattr(event, "session_hash", None))
        ident = getattr(event, "_id", None)
        return ident is not None and any(
            getattr(m, "msg", None) == "process_completed" and getattr(m, "event_id", None) == ident
            for m in list(getattr(messages, "_queue", ()))
        )

    def _closed(self, session: str) -> bool:
        """Has the page tab of ``session`` gone? (Gradio marks its state closed when the tab's
        heartbeat stream ends; results queued for it in the moment before are never read.)"""
        holder = getattr(getattr(self.queue, "blocks", None), "state_holder", None)
        try:
            state = holder.session_data.get(session) if holder is not None else None
        except Exception:  # noqa: BLE001 - another Gradio's holder
            return False
        return bool(getattr(state, "is_closed", False))

    def _unread(self, session: str, page: bool = False) -> int:
        """Finished results waiting unread in the session's message queue (a page's: for over
        GRACE_S, and never once its tab has gone - it would count against the visitor's next tab)."""
        if page and self._closed(session):
            return 0
        messages = self.queue.pending_messages_per_session.get(session)
        n = sum(1 for m in list(getattr(messages, "_queue", ())) if getattr(m, "msg", None) == "process_completed")
        if not n:
            self.unread_since.pop(session, None)
            return 0
        since = self.unread_since.setdefault(session, self.clock())
        return n if not page or self.clock() - since >= self.GRACE_S else 0

    def _seen(self, session: str, key: str, page: bool = False) -> None:
        self.sessions.pop(session, None)
        self.sessions[session] = (key, self.clock(), page)
        while len(self.sessions) > self.MAX_SESSIONS:
            old = next(iter(self.sessions))
            self.sessions.pop(old)
            self.unread_since.pop(old, None)

    def _drop_unread(self) -> None:
        """Forget finished results nobody read within UNREAD_S (their memory with them)."""
        now = self.clock()
        busy = {e.session_hash for e in list(self.queue.event_ids_to_events.values())}
        for session, (_, when, _page) in list(self.sessions.items()):
            if now - when > self.UNREAD_S and session not in busy:
                self.sessions.pop(session, None)
                self.unread_since.pop(session, None)
                self.queue.pending_event_ids_session.pop(session, None)
                self.queue.pending_messages_per_session.pop(session, None)


__all__ = ["AppBlocks", "VisitorCap", "check", "fn_name", "forget_session", "from_page", "group_busy", "visitor_of"]
