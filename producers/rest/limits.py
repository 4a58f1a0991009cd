"""Reading a request within its limits: body size, JSON syntax, the shape and size of a batch."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

import orjson
from fastapi import Request

from producers.rest.problems import RequestRefusedError


class _Judged(Protocol):
    @property
    def status(self) -> int: ...


async def read_limited_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it is longer than ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise RequestRefusedError(
            413, f"request body of {declared} bytes exceeds the limit of {limit}"
        )
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise RequestRefusedError(413, f"request body exceeds the limit of {limit} bytes")
    return bytes(body)


def parse_json(body: bytes) -> Any:
    """The JSON document of a body, or 400 naming the syntax error."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise RequestRefusedError(
            400, "request body is not valid JSON", [("<body>", str(exc))]
        ) from exc


def batch_items(document: Any, max_events: int) -> list[Any]:
    """The events of a batch request: a JSON array, or an object with an ``events`` array."""
    if isinstance(document, dict) and set(document) == {"events"}:
        document = document["events"]
    if not isinstance(document, list):
        raise RequestRefusedError(
            422,
            'a batch is a JSON array of events or {"events": [...]}',
            [("<body>", f"expected an array, got {type(document).__name__}")],
        )
    if not document:
        raise RequestRefusedError(422, "the batch is empty", [("<body>", "no events")])
    if len(document) > max_events:
        raise RequestRefusedError(
            413, f"batch of {len(document)} events exceeds the limit of {max_events}"
        )
    return document


def batch_status(accepted: int, rejected: Sequence[_Judged]) -> int:
    """202 when anything was accepted; else the status all rejections share, or 422."""
    if accepted:
        return 202
    statuses = {r.status for r in rejected}
    return statuses.pop() if len(statuses) == 1 else 422
