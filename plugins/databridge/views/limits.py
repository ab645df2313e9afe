"""The request body limit of the plugin's routes: a body past MAX_BODY_BYTES is answered 413 before it is parsed.

A pure ASGI middleware, outermost in the app: a declared ``Content-Length`` over the limit is refused before one
byte is read; a body without one (chunked) is counted as it arrives and refused at the first byte past the limit.
A body within the limit is handed on unchanged (buffered: the routes parse whole JSON bodies anyway).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.responses import JSONResponse

from databridge.views.errors import ErrorBody

MAX_BODY_BYTES = 2 * 1024 * 1024
"""The largest request body (2 MB): room for a project at its own limit (1 MB of YAML) sent as JSON."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]


class BodyTooLarge(Exception):
    """The body read so far is past the limit."""


class BodyLimit:
    def __init__(self, app: App, limit: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        try:
            _check_declared(scope, self.limit)
            messages = await _read_body(receive, self.limit)
        except BodyTooLarge as exc:
            await too_large(str(exc), self.limit)(scope, receive, send)
            return
        await self.app(scope, _replay(messages, receive), send)


def _check_declared(scope: Scope, limit: int) -> None:
    declared = dict(scope.get("headers") or ()).get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge(f"the request body is {int(declared):,} bytes")


async def _read_body(receive: Receive, limit: int) -> list[Message]:
    """Every ``http.request`` message of the body, counting bytes; a disconnect ends the reading."""
    messages, size = [], 0
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages
        size += len(message.get("body", b""))
        if size > limit:
            raise BodyTooLarge(f"the request body has passed {size:,} bytes and is still arriving")
        if not message.get("more_body", False):
            return messages


def _replay(messages: list[Message], receive: Receive) -> Receive:
    """A ``receive`` giving the buffered messages again, then the real one (for a later disconnect)."""
    pending = list(messages)

    async def replayed() -> Message:
        return pending.pop(0) if pending else await receive()

    return replayed


def too_large(what: str, limit: int) -> JSONResponse:
    message = (
        f"{what}, more than the {limit:,} bytes a request may have; send a smaller project or split it into several"
    )
    body = ErrorBody(413, "TOO_LARGE", message)
    return JSONResponse(body.json(), status_code=413, headers={"Connection": "close"})
