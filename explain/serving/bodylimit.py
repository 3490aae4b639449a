"""A request-body size limit as plain ASGI middleware (no web framework imported).

Gradio parses a request's JSON and stores the inputs in the visitor's session before
the app can look at them, so a text far over the length limit would cost memory even
though it is refused. This middleware answers 413 before any of that: at once when the
declared Content-Length is too large, else as soon as the bytes read pass the limit.
Bodies within the limit are read here and handed on unchanged."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyLimit:
    """Refuse HTTP request bodies over ``max_bytes`` with 413 and a JSON ``{"error": message}``.
    ``explain``: what the limit is for, appended to the message (e.g. the text limit)."""

    def __init__(self, app: ASGIApp, max_bytes: int, explain: str = "") -> None:
        self.app = app
        self.max_bytes = int(max_bytes)
        self.explain = explain

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope.get("type") != "http" or scope.get("method") in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = _content_length(scope)
        if declared is not None and declared > self.max_bytes:
            await self._refuse(send, declared)
            return
        chunks, total = [], 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            total += len(body)
            if total > self.max_bytes:
                await self._refuse(send, None)
                return
            chunks.append(body)
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
            return await receive()  # later reads wait for the disconnect, as the server's own would

        await self.app(scope, replay, send)

    async def _refuse(self, send: Send, size) -> None:
        sent = f"{size:,} bytes" if size is not None else f"more than {self.max_bytes:,} bytes"
        message = f"The request is {sent}; this server accepts at most {self.max_bytes:,} bytes per request"
        message += f" ({self.explain})." if self.explain else "."
        body = json.dumps({"error": message, "detail": message}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _content_length(scope: Scope):
    for key, value in scope.get("headers") or ():
        if key.lower() == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None
