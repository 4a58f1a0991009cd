"""The lean path of single-event posts: plain ASGI in front of the FastAPI application.

Most source systems post one event per request (point-to-point), so that request is worth
serving without FastAPI's routing, dependency resolution and response-model round trip: this
middleware answers ``POST /v1/{mes,erp,wms,qms}/events`` itself, through the same
:class:`~producers.rest.single.SingleEventHandler` as the documented FastAPI route, with the same
limits, checks and answers; every other request (batches, health, OpenAPI, unknown systems)
goes on to FastAPI.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from producers.rest.problems import RequestRefusedError
from producers.rest.single import Answer, SingleEventHandler, refused
from producers.rest.systems import SourceSystem

_JSON = (b"content-type", b"application/json")


class _ClientGoneError(Exception):
    """The client disconnected before its body was read: nobody to answer."""


class SingleEventFastPath:
    """ASGI middleware: serves single-event posts itself, passes everything else on."""

    def __init__(self, app: ASGIApp, handler: SingleEventHandler, max_body_bytes: int) -> None:
        self.app = app
        self.handler = handler
        self.max_body_bytes = max_body_bytes
        self.systems = {f"/v1/{s.value}/events": s.value.upper() for s in SourceSystem}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        system = self.systems.get(scope["path"]) if scope["type"] == "http" else None
        if system is None or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        try:
            answer = await self._serve(system, scope, receive)
        except _ClientGoneError:
            return
        await send(
            {
                "type": "http.response.start",
                "status": answer.status,
                "headers": [_JSON, (b"content-length", str(len(answer.body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": answer.body})

    async def _serve(self, system: str, scope: Scope, receive: Receive) -> Answer:
        headers: list[tuple[bytes, bytes]] = scope["headers"]
        try:
            owner = self.handler.owner(system, _header(headers, b"x-api-key"))
            declared = _header(headers, b"content-length")
            body = await _read_body(receive, declared, self.max_body_bytes)
        except RequestRefusedError as exc:
            return refused(exc)
        return await self.handler.answer(owner, body)


def _header(headers: list[tuple[bytes, bytes]], name: bytes) -> str | None:
    """The first value of a header (names come lower-cased), as Starlette decodes it."""
    for key, value in headers:
        if key == name:
            return value.decode("latin-1")
    return None


async def _read_body(receive: Receive, declared: str | None, limit: int) -> bytes:
    """The request body, or 413 as soon as it is longer than ``limit`` bytes."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefusedError(
            413, f"request body of {declared} bytes exceeds the limit of {limit}"
        )
    body = bytearray()
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _ClientGoneError
        body += message.get("body", b"")
        if len(body) > limit:
            raise RequestRefusedError(413, f"request body exceeds the limit of {limit} bytes")
        if not message.get("more_body", False):
            return bytes(body)
