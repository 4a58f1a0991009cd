"""An in-process HTTP/1.1 load generator for the REST ingest: N keep-alive clients on asyncio.

Each client holds one connection and sends its next request when the previous answer is in
(closed loop, like an MES posting one event per transaction). The default client writes the
request bytes itself and reads the status line, headers and ``Content-Length`` body off an
asyncio stream, so that on a small machine the generator costs far less than the server it
measures; ``client="httpx"`` uses ``httpx.AsyncClient`` instead (heavier, for comparison).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import httpx

ClientKind = Literal["raw", "httpx"]


@dataclass
class LoadResult:
    """Latency of every answered request (seconds), statuses, transport errors, wall time."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    warmup: LoadResult | None = None
    """The warm-up requests' own result (not in the figures above)."""


@dataclass(frozen=True)
class Target:
    """Where the requests go: ``POST http://host:port/path`` with an API key."""

    host: str
    port: int
    path: str
    api_key: str

    def head(self) -> bytes:
        return (
            f"POST {self.path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
            f"X-API-Key: {self.api_key}\r\nContent-Type: application/json\r\n"
            "Content-Length: "
        ).encode()


def run_load(
    target: Target,
    bodies: Sequence[bytes],
    concurrency: int,
    client: ClientKind = "raw",
    warmup: Sequence[bytes] = (),
) -> LoadResult:
    """Send every body once, from ``concurrency`` clients; return when all are answered.

    The ``warmup`` bodies go first over the same connections and are not measured: the clock
    starts when every client has its connection open and warm.
    """
    return asyncio.run(_load(target, bodies, concurrency, client, warmup))


class _Phases:
    """The warm-up, then the measured run, shared by all clients; the clock starts between."""

    def __init__(self, warmup: Sequence[bytes], bodies: Sequence[bytes], clients: int) -> None:
        self.warmup = iter(warmup)
        self.measured = iter(bodies)
        self.waiting = clients
        self.go = asyncio.Event()
        self.began = 0.0

    async def warmed(self) -> None:
        self.waiting -= 1
        if self.waiting == 0:
            self.began = time.perf_counter()
            self.go.set()
        await self.go.wait()


async def _load(
    target: Target,
    bodies: Sequence[bytes],
    concurrency: int,
    client: ClientKind,
    warmup: Sequence[bytes],
) -> LoadResult:
    result = LoadResult(warmup=LoadResult())
    phases = _Phases(warmup, bodies, concurrency)
    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60.0) as session:
            await asyncio.gather(
                *(_httpx_client(session, target, phases, result) for _ in range(concurrency))
            )
    else:
        await asyncio.gather(*(_raw_client(target, phases, result) for _ in range(concurrency)))
    result.seconds = time.perf_counter() - phases.began
    return result


class _RawConnection:
    """One keep-alive HTTP/1.1 connection, reopened after an error or ``Connection: close``."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.head = target.head()
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None

    async def post(self, body: bytes, result: LoadResult) -> None:
        started = time.perf_counter()
        try:
            if self.streams is None:
                self.streams = await asyncio.open_connection(self.target.host, self.target.port)
            reader, writer = self.streams
            writer.write(self.head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, keep_alive = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[type(exc).__name__] += 1
            await self.close()
            return
        result.latencies_s.append(time.perf_counter() - started)
        result.statuses[status] += 1
        if not keep_alive:
            await self.close()

    async def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            with contextlib.suppress(OSError):
                await self.streams[1].wait_closed()
            self.streams = None


async def _raw_client(target: Target, phases: _Phases, result: LoadResult) -> None:
    connection = _RawConnection(target)
    for body in phases.warmup:
        await connection.post(body, result.warmup or LoadResult())
    if connection.streams is None:  # no warm-up: open the connection before the clock starts
        with contextlib.suppress(OSError):
            connection.streams = await asyncio.open_connection(target.host, target.port)
    await phases.warmed()
    for body in phases.measured:
        await connection.post(body, result)
    await connection.close()


async def _read_answer(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Status code and whether the connection stays open; the body is read and dropped."""
    status_line = await reader.readuntil(b"\r\n")
    parts = status_line.split(b" ", 2)
    if len(parts) < 2 or not parts[1].isdigit():
        raise ValueError(f"not an HTTP status line: {status_line[:40]!r}")
    length, chunked, keep_alive = 0, False, True
    while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
        name, _, value = line.partition(b":")
        lowered, value = name.strip().lower(), value.strip().lower()
        if lowered == b"content-length":
            length = int(value)
        elif lowered == b"transfer-encoding":
            chunked = value == b"chunked"
        elif lowered == b"connection" and value == b"close":
            keep_alive = False
    if chunked:
        while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
            await reader.readexactly(size + 2)
        await reader.readuntil(b"\r\n")  # the end of the (empty) trailer
    elif length:
        await reader.readexactly(length)
    return int(parts[1]), keep_alive


async def _httpx_client(
    session: httpx.AsyncClient, target: Target, phases: _Phases, result: LoadResult
) -> None:
    url = f"http://{target.host}:{target.port}{target.path}"
    headers = {"X-API-Key": target.api_key, "Content-Type": "application/json"}
    for body in phases.warmup:
        await _httpx_post(session, url, headers, body, result.warmup or LoadResult())
    await phases.warmed()
    for body in phases.measured:
        await _httpx_post(session, url, headers, body, result)


async def _httpx_post(
    session: httpx.AsyncClient, url: str, headers: dict[str, str], body: bytes, result: LoadResult
) -> None:
    started = time.perf_counter()
    try:
        answer = await session.post(url, content=body, headers=headers)
    except httpx.TransportError as exc:
        result.errors[type(exc).__name__] += 1
        return
    result.latencies_s.append(time.perf_counter() - started)
    result.statuses[answer.status_code] += 1
