"""Slow and surplus clients against a real uvicorn server with :mod:`tracesync.http_limits`.

A small ASGI app in a thread, raw sockets as the clients: partial headers, a byte trickled at a
time, a partial body (the app must see a disconnect, never the partial body), headers without
end, connections above the limit. The deadlines are short; each "closed" is awaited for several
times its deadline (no timing is asserted beyond that generous bound).
"""

from __future__ import annotations

import resource
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner

from tests.slot import free_port
from tests.trickle import trickle_is_cut_off
from tracesync.cli import main
from tracesync.commands.http_options import _OPTIONS
from tracesync.http_limits import MAX_HEADER_BYTES, connection_limit, uvicorn_config
from tracesync.settings import HttpLimits

DEADLINE_S = 0.5
BOUND_S = DEADLINE_S * 10
"""How long a test waits for the server to close a connection: many times the deadline."""


class EchoApp:
    """Answers 200 with the length of the complete body; records every body it read."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.disconnects = 0

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] == "/early":  # answered before the body is read, as a 401 or 413 is
            await send({"type": "http.response.start", "status": 413, "headers": []})
            await send({"type": "http.response.body", "body": b""})
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                self.disconnects += 1
                return
            body += message.get("body", b"")
            if not message.get("more_body", False):
                break
        self.bodies.append(body)
        answer = str(len(body)).encode()
        headers = [(b"content-length", str(len(answer)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": answer})


@contextmanager
def serving(app: EchoApp, **limits: Any) -> Iterator[int]:
    port = free_port()
    fields = {"header_timeout_s": DEADLINE_S, "body_timeout_s": DEADLINE_S} | limits
    config = uvicorn_config(app, "127.0.0.1", port, HttpLimits(**fields), log_level="error")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started and thread.is_alive():
        thread.join(0.02)
    assert server.started
    try:
        yield port
    finally:
        server.should_exit = True
        thread.join(10)


def connect(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=BOUND_S)
    return sock


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes (a timeout here fails the test)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


def get(port: int) -> bytes:
    with connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        return read_until_closed(sock)


@pytest.fixture
def app() -> EchoApp:
    return EchoApp()


def test_partial_headers_are_answered_408_and_closed(app: EchoApp) -> None:
    with serving(app) as port, connect(port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Le")
        answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"headers not complete" in answer
        assert get(port).startswith(b"HTTP/1.1 200 ")


def test_a_byte_at_a_time_does_not_hold_the_connection(app: EchoApp) -> None:
    with serving(app) as port, connect(port) as sock:
        request = b"GET / HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"x" * 10_000
        cut_off = trickle_is_cut_off(sock, request, DEADLINE_S / 5, BOUND_S)
        assert cut_off, "the trickling client was never cut off"


def test_an_idle_connection_is_closed_without_an_answer(app: EchoApp) -> None:
    with serving(app, keep_alive_s=60) as port, connect(port) as sock:
        assert read_until_closed(sock) == b""


def test_a_partial_body_is_408_and_never_reaches_the_app(app: EchoApp) -> None:
    with serving(app) as port, connect(port) as sock:
        sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"y" * 60)
        answer = read_until_closed(sock)
        assert answer.startswith(b"HTTP/1.1 408 "), answer
        assert b"body not complete" in answer
        assert get(port).startswith(b"HTTP/1.1 200 ")
    assert app.bodies == [b""], "only the GET's empty body was read"
    assert app.disconnects == 1


def test_an_answer_before_the_body_keeps_the_body_deadline(app: EchoApp) -> None:
    with serving(app, keep_alive_s=60) as port, connect(port) as sock:
        sock.sendall(b"POST /early HTTP/1.1\r\nHost: t\r\nContent-Length: 100\r\n\r\n" + b"y" * 10)
        answer = read_until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 413 "), answer
    assert b"408" not in answer, "one answer per request"


def test_a_whole_body_after_keep_alive_is_served(app: EchoApp) -> None:
    with serving(app, keep_alive_s=1) as port, connect(port) as sock:
        for _ in range(2):
            sock.sendall(b"POST / HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\n\r\nabc")
            assert sock.recv(4096).startswith(b"HTTP/1.1 200 ")
        assert read_until_closed(sock) == b"", "closed once idle"
    assert app.bodies == [b"abc", b"abc"]


def test_headers_without_end_are_431(app: EchoApp) -> None:
    with serving(app, header_timeout_s=30) as port, connect(port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")
        try:
            for _ in range(MAX_HEADER_BYTES // 1000 + 2):
                sock.sendall(b"X-Pad: " + b"p" * 1000 + b"\r\n")
        except (BrokenPipeError, ConnectionResetError):
            pass
        assert b"HTTP/1.1 431 " in read_until_closed(sock)


def test_connections_above_the_limit_are_503_and_closed_at_once(app: EchoApp) -> None:
    with serving(app, header_timeout_s=60, max_connections=3) as port:
        held = [connect(port) for _ in range(3)]
        try:
            with connect(port) as extra:
                answer = read_until_closed(extra)
            assert answer.startswith(b"HTTP/1.1 503 "), answer
            assert b"retry-after: 1" in answer
            held[0].sendall(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n")
            assert held[0].recv(4096).startswith(b"HTTP/1.1 200 "), "the clients it has"
        finally:
            for sock in held:
                sock.close()
        time.sleep(DEADLINE_S)  # the server sees the closes
        assert get(port).startswith(b"HTTP/1.1 200 ")


def test_the_default_limit_stays_below_the_descriptor_limit() -> None:
    limit = connection_limit(HttpLimits())
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    assert 0 < limit <= 1000
    assert soft == resource.RLIM_INFINITY or limit <= soft - 64
    assert connection_limit(HttpLimits(max_connections=7)) == 7


def test_the_options_show_the_settings_defaults() -> None:
    for _flag, field, _kind, _text, shown in _OPTIONS:
        default = HttpLimits.model_fields[field].default
        assert shown == ("unset" if default is None else f"{default:g}")


@pytest.mark.parametrize("command", [["ingest", "api"], ["serve"]])
def test_both_servers_take_the_options(command: list[str]) -> None:
    text = CliRunner().invoke(main, [*command, "--help"]).output
    for flag, *_ in _OPTIONS:
        assert flag in text
