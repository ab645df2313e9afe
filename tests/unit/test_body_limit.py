"""The request body limit as an ASGI middleware on its own: what it reads of a body, and what the app behind it gets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

from databridge.views.limits import BodyLimit

LIMIT = 1000
CHUNK = 100


class Client:
    """One request through BodyLimit to an app that reads the body: the chunks sent, and the answer."""

    def __init__(self, chunks: int, headers: list[tuple[bytes, bytes]] | None = None) -> None:
        self.chunks = chunks
        self.headers = headers or []
        self.sent = 0
        self.answer: list[dict[str, Any]] = []
        self.app_body: bytes | None = None

    async def receive(self) -> dict[str, Any]:
        self.sent += 1
        return {"type": "http.request", "body": b"x" * CHUNK, "more_body": self.sent < self.chunks}

    async def send(self, message: dict[str, Any]) -> None:
        self.answer.append(message)

    async def app(self, scope: Any, receive: Any, send: Any) -> None:
        body = b""
        while (message := await receive())["type"] == "http.request":
            body += message["body"]
            if not message.get("more_body"):
                break
        self.app_body = body
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    def run(self) -> int:
        scope = {"type": "http", "method": "POST", "path": "/validate", "headers": self.headers}
        asyncio.run(BodyLimit(self.app, LIMIT)(scope, self.receive, self.send))
        return int(self.answer[0]["status"])


def test_a_streamed_body_is_read_only_to_the_limit() -> None:
    client = Client(chunks=1000)
    assert client.run() == 413
    assert client.sent == LIMIT // CHUNK + 1 and client.app_body is None
    body = json.loads(client.answer[1]["body"])
    assert body == {"success": False, "code": "TOO_LARGE", "error": body["error"]} and "still arriving" in body["error"]


def test_a_declared_length_over_the_limit_is_refused_unread() -> None:
    client = Client(chunks=1000, headers=[(b"content-length", str(LIMIT + 1).encode())])
    assert client.run() == 413 and client.sent == 0 and client.app_body is None


def test_a_body_within_the_limit_reaches_the_app_whole() -> None:
    client = Client(chunks=LIMIT // CHUNK)
    assert client.run() == 200 and client.app_body == b"x" * LIMIT
