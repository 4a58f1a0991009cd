"""Slow and surplus clients of the two HTTP servers (``ingest api`` and ``serve``).

uvicorn closes idle keep-alive connections (``timeout_keep_alive``) but never one that sends
its request headers or body slowly, and any byte received cancels that timer: a client that
trickles a byte at a time holds its connection, and its descriptor, forever. Its
``limit_concurrency`` is checked only once a request's headers are complete, so connections
that never finish theirs are not counted. Here a small subclass of uvicorn's httptools protocol
adds, per connection:

- a header deadline: the request headers must be complete ``header_timeout_s`` after the
  connection opened or after its last answer, and within :data:`MAX_HEADER_BYTES`; otherwise
  408 (431 for too large; nothing when the client sent nothing) and the connection is closed;
- a body deadline: the body must be complete ``body_timeout_s`` after the headers; otherwise
  408 and the connection is closed, which the application sees as a disconnect, so a partial
  body is never taken for a request;
- a connection limit: a connection opened while ``max_connections`` are open is answered 503
  with ``Retry-After`` and closed at once, so the server keeps the descriptors it needs for the
  clients it has (and for its broker and database connections).
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from typing import Any, cast

import orjson
import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from tracesync.settings import HttpLimits

log = logging.getLogger(__name__)

MAX_HEADER_BYTES = 64 * 1024
"""Request line and headers of one request at most (431 beyond)."""
MOST_CONNECTIONS = 1000
"""The connection limit when none is configured, if the descriptor limit allows it."""
DESCRIPTOR_HEADROOM = 64
"""Descriptors kept free of client connections at least (broker, database, log files)."""
LOG_EVERY_S = 10.0
"""A flood of slow or surplus clients is logged once in this long, with a count."""


def connection_limit(limits: HttpLimits) -> int:
    """The configured limit, else min(1000, 3/4 of the soft RLIMIT_NOFILE)."""
    if limits.max_connections is not None:
        return limits.max_connections
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return MOST_CONNECTIONS
    return max(1, min(MOST_CONNECTIONS, soft - max(DESCRIPTOR_HEADROOM, soft // 4)))


def uvicorn_config(app: Any, host: str, port: int, limits: HttpLimits, **options: Any) -> Any:
    """A ``uvicorn.Config`` serving ``app`` with these limits (``options`` go to uvicorn)."""
    limit = connection_limit(limits)
    log.info("HTTP: at most %d open connection(s)", limit)
    protocol = limited_protocol(limits.header_timeout_s, limits.body_timeout_s, limit)
    return uvicorn.Config(
        app, host=host, port=port, http=protocol, timeout_keep_alive=limits.keep_alive_s, **options
    )


def limited_protocol(
    header_timeout_s: float, body_timeout_s: float, max_connections: int
) -> type[HttpToolsProtocol]:
    """uvicorn's httptools protocol with these deadlines and this connection limit."""
    return cast(
        "type[HttpToolsProtocol]",
        type(
            "LimitedHttpToolsProtocol",
            (LimitedProtocol,),
            {
                "header_timeout_s": header_timeout_s,
                "body_timeout_s": body_timeout_s,
                "max_connections": max_connections,
                "notices": _Notices(),
            },
        ),
    )


class _Notices:
    """Warnings of one server, each kind at most once per :data:`LOG_EVERY_S` with a count."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.last: dict[str, float] = {}

    def warn(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        now = time.monotonic()
        if now - self.last.get(kind, -LOG_EVERY_S) >= LOG_EVERY_S:
            self.last[kind] = now
            log.warning("HTTP: %s (%d so far)", kind, self.counts[kind])


def _answer(status: bytes, detail: str, *extra: bytes) -> bytes:
    body = orjson.dumps({"detail": detail, "errors": []})
    head = [
        b"HTTP/1.1 " + status,
        b"content-type: application/json",
        b"content-length: " + str(len(body)).encode(),
        b"connection: close",
        *extra,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


class _QuietAfterDisconnect:
    """The application, except that an exception it raises after it was told that the client is
    gone (how Starlette reports a body cut off: ``ClientDisconnect``) is logged on one line, not
    as a traceback per slow client."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        gone = False

        async def noting() -> Any:
            nonlocal gone
            message = await receive()
            gone = gone or message["type"] == "http.disconnect"
            return message

        try:
            await self.app(scope, noting, send)
        except Exception as exc:
            if not gone:
                raise
            path = scope.get("path")
            log.info("HTTP: %s ended by the client's disconnect (%s)", path, type(exc).__name__)


class LimitedProtocol(HttpToolsProtocol):
    """One connection: a deadline for the headers, then one for the body, and the limit."""

    header_timeout_s: float
    body_timeout_s: float
    max_connections: int
    notices: _Notices

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.app = cast("Any", _QuietAfterDisconnect(self.app))
        self._deadline: asyncio.TimerHandle | None = None
        self._awaiting_headers = False
        self._in_request = False  # part of a request received, not all of it
        self._header_bytes = 0
        self._refused = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refused = True
            self.connections.discard(self)
            self.notices.warn(f"connection limit of {self.max_connections} reached, refusing")
            detail = "too many open connections; retry later"
            self._close_with(_answer(b"503 Service Unavailable", detail, b"retry-after: 1"))
            return
        self._await_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        super().data_received(data)
        if self._awaiting_headers:
            self._header_bytes += len(data)  # all of it: the headers are still not complete
            if self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
                self.notices.warn("request headers too large, answered 431")
                detail = f"request headers exceed {MAX_HEADER_BYTES} bytes"
                self._close_with(_answer(b"431 Request Header Fields Too Large", detail))

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_request = True

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        self._awaiting_headers = False
        self._arm(self.body_timeout_s, self._body_late)

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._in_request = False
        if self.cycle is not None and self.cycle.response_complete:  # answered before the body
            self._await_headers()
        else:
            self._disarm()

    def on_response_complete(self) -> None:
        pipelined = bool(self.pipeline)
        super().on_response_complete()
        body_pending = self._in_request and not self._awaiting_headers  # its deadline holds
        if not (pipelined or body_pending or self.transport.is_closing()):
            self._await_headers()

    def _await_headers(self) -> None:
        self._awaiting_headers = True
        self._header_bytes = 0
        self._arm(self.header_timeout_s, self._headers_late)

    def _headers_late(self) -> None:
        self._deadline = None
        if self._gone():
            return
        if not self._in_request:  # idle: close quietly, as after keep-alive
            self.transport.close()
            return
        self.notices.warn(f"request headers not complete in {self.header_timeout_s:g} s, 408")
        detail = f"request headers not complete within {self.header_timeout_s:g} s"
        self._close_with(_answer(b"408 Request Timeout", detail))

    def _body_late(self) -> None:
        self._deadline = None
        if self._gone():
            return
        self.notices.warn(f"request body not complete in {self.body_timeout_s:g} s, 408")
        if self.cycle is not None and not self.cycle.response_started:
            # the application sees a disconnect and never the partial body
            self.cycle.disconnected = True
            self.cycle.message_event.set()
            detail = f"request body not complete within {self.body_timeout_s:g} s"
            self._close_with(_answer(b"408 Request Timeout", detail))
        else:
            self.transport.close()

    def _gone(self) -> bool:
        """Closing, or handed over to another protocol (a WebSocket upgrade)."""
        return self.transport.is_closing() or self.transport.get_protocol() is not self

    def _close_with(self, answer: bytes) -> None:
        self._disarm()
        self.transport.write(answer)
        self.transport.close()

    def _arm(self, seconds: float, handler: Callable[[], None]) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, handler)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None
