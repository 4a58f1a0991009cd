"""Slow and surplus clients against the real ``tracesync ingest api`` and ``tracesync serve``.

Each server runs as its own process under a low descriptor limit (RLIMIT_NOFILE 256, set before
it starts) with short header and body deadlines (``--header-timeout 1 --body-timeout 1``) and
its default connection limit (min(1000, 3/4 of the descriptor limit) = 192). Raw sockets send
partial headers, a byte at a time, a partial body (ingest: a complete, valid event with a
``Content-Length`` promising more: it must never be published), and a flood of idle
connections above the limit; a well-behaved client keeps getting its answers and the good
events sent around the slow ones reach the store. Waits are bounded by many times the deadline;
no timing is asserted beyond that.
"""

from __future__ import annotations

import itertools
import os
import resource
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import orjson
import pytest

from tests.integration.hostile.conftest import Pipeline
from tests.integration.test_worker_pipeline import Plant, publish
from tests.rest_samples import mes_event
from tests.slot import free_port
from tests.topic_reader import TopicReader
from tests.trickle import trickle_is_cut_off
from tracesync import bootstrap
from tracesync.devtools.supervise import TRACESYNC, settings_env, wait_for

DESCRIPTORS = 256
DEADLINE_S = 1.0
BOUND_S = DEADLINE_S * 15
"""How long a test waits for the server to close a connection: many times the deadline."""
FLOOD = 400
"""Idle connections opened at once: well above the default limit under 256 descriptors."""
MES_KEY = {"X-API-Key": "dev-mes-key", "Content-Type": "application/json"}
VIEWER = {"X-API-Key": "dev-viewer-key"}


@dataclass
class Server:
    """A server process and what a well-behaved client asks it."""

    url: str
    port: int
    proc: subprocess.Popen[bytes]
    log_path: Path
    probe: str
    headers: dict[str, str]

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_tail(self) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-40:])


def _few_descriptors() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (DESCRIPTORS, DESCRIPTORS))


def _start(
    pipeline: Pipeline, name: str, args: list[str], probe: str, key: dict[str, str]
) -> Server:
    port = free_port()
    log_path = pipeline.home / f"slow-{name}.log"
    deadlines = ["--header-timeout", str(DEADLINE_S), "--body-timeout", str(DEADLINE_S)]
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [TRACESYNC, *args, "--host", "127.0.0.1", "--port", str(port), *deadlines],
            env=os.environ | settings_env(pipeline.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            preexec_fn=_few_descriptors,  # noqa: PLW1509 - only setrlimit, before exec
        )
    server = Server(f"http://127.0.0.1:{port}", port, proc, log_path, probe, key)

    def up() -> bool:
        try:
            return httpx.get(server.url + probe, headers=key, timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    ok = wait_for(up, 60) and server.alive()
    assert ok, server.log_tail()
    return server


def _stop(server: Server) -> None:
    if server.alive():
        os.killpg(server.proc.pid, signal.SIGTERM)
        try:
            server.proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(server.proc.pid, signal.SIGKILL)
            server.proc.wait(10)


@pytest.fixture(scope="module")
def ingest(hostile_pipeline: Pipeline) -> Iterator[Server]:
    server = _start(hostile_pipeline, "ingest", ["ingest", "api"], "/healthz", MES_KEY)
    yield server
    _stop(server)


@pytest.fixture(scope="module")
def serve(hostile_pipeline: Pipeline) -> Iterator[Server]:
    plant = Plant()
    plant.batch("S-GOOD-1", "10", [])
    publish(hostile_pipeline.settings, plant.events)
    hostile_pipeline.wait_stored({"S-GOOD-1"})
    server = _start(hostile_pipeline, "serve", ["serve"], "/v1/batches/S-GOOD-1", VIEWER)
    yield server
    _stop(server)


@pytest.fixture(params=["ingest", "serve"])
def server(request: pytest.FixtureRequest) -> Server:
    found: Server = request.getfixturevalue(request.param)
    return found


def _connect(server: Server) -> socket.socket:
    return socket.create_connection(("127.0.0.1", server.port), timeout=BOUND_S)


def _until_closed(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a timeout fails the test)."""
    received = b""
    try:
        while chunk := sock.recv(65536):
            received += chunk
    except ConnectionResetError:
        pass
    return received


def test_partial_headers_are_408_and_closed(server: Server) -> None:
    with _connect(server) as sock:
        sock.sendall(b"POST /v1/mes/events HTTP/1.1\r\nHost: t\r\nX-API-Key: dev-")
        answer = _until_closed(sock)
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert httpx.get(server.url + server.probe, headers=server.headers).status_code == 200


def test_a_byte_at_a_time_is_cut_off(server: Server) -> None:
    request = b"GET " + server.probe.encode() + b" HTTP/1.1\r\nHost: t\r\nX-Slow: " + b"x" * 999
    with _connect(server) as sock:
        cut_off = trickle_is_cut_off(sock, request, DEADLINE_S / 4, BOUND_S)
    assert cut_off, "a client trickling its headers a byte at a time was never cut off"


def _slow_post(server: Server, path: str, body: bytes, key: str) -> bytes:
    """``body`` whole, but a Content-Length promising 50 bytes more; the answer."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: t\r\nX-API-Key: {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body) + 50}\r\n\r\n"
    )
    with _connect(server) as sock:
        sock.sendall(head.encode() + body)
        return _until_closed(sock)


def test_a_partial_body_is_408_and_nothing_is_published(
    ingest: Server, hostile_pipeline: Pipeline
) -> None:
    with httpx.Client(base_url=ingest.url, headers=MES_KEY, timeout=30) as client:
        good = client.post("/v1/mes/events", content=orjson.dumps(mes_event("S-BODY-GOOD-1")))
        assert good.status_code == 202, good.text
        single = orjson.dumps(mes_event("S-BODY-SLOW-1"))
        batch = orjson.dumps([mes_event("S-BODY-SLOW-2")])
        for path, body in (("/v1/mes/events", single), ("/v1/mes/events/batch", batch)):
            answer = _slow_post(ingest, path, body, "dev-mes-key")
            assert answer.startswith(b"HTTP/1.1 408 "), answer
            assert b"body not complete" in answer
        again = client.post("/v1/mes/events", content=orjson.dumps(mes_event("S-BODY-GOOD-2")))
        assert again.status_code == 202, again.text
    hostile_pipeline.wait_stored({"S-BODY-GOOD-1", "S-BODY-GOOD-2"})
    assert not {"S-BODY-SLOW-1", "S-BODY-SLOW-2"} & hostile_pipeline.stored()
    topic = bootstrap.catalog(hostile_pipeline.settings).source_topic("MES")
    reader = TopicReader(hostile_pipeline.settings, topic, lambda v: v)
    try:
        wait_for(lambda: (reader.poll(), "S-BODY-GOOD-2" in reader.latest)[1], 60)
        assert "S-BODY-GOOD-2" in reader.latest
        assert not {"S-BODY-SLOW-1", "S-BODY-SLOW-2"} & set(reader.latest), "a partial body"
    finally:
        reader.close()
    assert ingest.alive(), ingest.log_tail()
    assert "Exception in ASGI application" not in ingest.log_path.read_text(), ingest.log_tail()


def test_a_partial_form_is_408_on_serve(serve: Server) -> None:
    answer = _slow_post(serve, "/login", b"key=dev-viewer-key", "")
    assert answer.startswith(b"HTTP/1.1 408 "), answer
    assert serve.alive(), serve.log_tail()
    assert "Exception in ASGI application" not in serve.log_path.read_text(), serve.log_tail()


_FLOOD_EVENTS = itertools.count(1)


def _good_request(server: Server, client: httpx.Client, published: set[str]) -> int:
    if server.probe == "/healthz":  # the ingest: an event, published and acknowledged
        code = f"S-FLOOD-{next(_FLOOD_EVENTS)}"
        published.add(code)
        return client.post("/v1/mes/events", content=orjson.dumps(mes_event(code))).status_code
    return client.get(server.probe).status_code


def test_a_flood_of_idle_connections_leaves_the_server_answering(
    server: Server, hostile_pipeline: Pipeline
) -> None:
    published: set[str] = set()
    with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as client:
        assert _good_request(server, client, published) in (200, 202)
        flood = [_connect(server) for _ in range(FLOOD)]
        try:
            # the connection it has keeps being answered while the flood holds the rest
            assert _good_request(server, client, published) in (200, 202), server.log_tail()
            answers = [_until_closed(sock) for sock in flood]  # each closed, soon or at deadline
            # the flood's sockets still open on this side: a new client is answered
            with httpx.Client(base_url=server.url, headers=server.headers, timeout=30) as fresh:
                assert _good_request(server, fresh, published) in (200, 202), server.log_tail()
        finally:
            for sock in flood:
                sock.close()
    refused = [a for a in answers if a.startswith(b"HTTP/1.1 503 ")]
    assert len(refused) >= FLOOD - DESCRIPTORS, "connections above the limit refused at once"
    assert all(b"retry-after: 1" in a for a in refused)
    assert server.alive(), server.log_tail()
    if published:
        hostile_pipeline.wait_stored(published)
