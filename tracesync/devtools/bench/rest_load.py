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
from collections.abc import Iterator, Sequence
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
    target: Target, bodies: Sequence[bytes], concurrency: int, client: ClientKind = "raw"
) -> LoadResult:
    """Send every body once, from ``concurrency`` clients; return when all are answered."""
    return asyncio.run(_load(target, bodies, concurrency, client))


async def _load(
    target: Target, bodies: Sequence[bytes], concurrency: int, client: ClientKind
) -> LoadResult:
    result = LoadResult()
    pending = iter(bodies)
    began = time.perf_counter()
    if client == "httpx":
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(limits=limits, timeout=60.0) as session:
            await asyncio.gather(
                *(_httpx_client(session, target, pending, result) for _ in range(concurrency))
            )
    else:
        await asyncio.gather(*(_raw_client(target, pending, result) for _ in range(concurrency)))
    result.seconds = time.perf_counter() - began
    return result


async def _raw_client(target: Target, pending: Iterator[bytes], result: LoadResult) -> None:
    head = target.head()
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
    for body in pending:
        started = time.perf_counter()
        try:
            if connection is None:
                connection = await asyncio.open_connection(target.host, target.port)
            reader, writer = connection
            writer.write(head + str(len(body)).encode() + b"\r\n\r\n" + body)
            status, keep_alive = await _read_answer(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
            result.errors[type(exc).__name__] += 1
            await _closed(connection)
            connection = None
            continue
        result.latencies_s.append(time.perf_counter() - started)
        result.statuses[status] += 1
        if not keep_alive:
            await _closed(connection)
            connection = None
    await _closed(connection)


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


async def _closed(
    connection: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None,
) -> None:
    """Close the connection (if any); the caller then holds none."""
    if connection is not None:
        connection[1].close()
        with contextlib.suppress(OSError):
            await connection[1].wait_closed()


async def _httpx_client(
    session: httpx.AsyncClient, target: Target, pending: Iterator[bytes], result: LoadResult
) -> None:
    url = f"http://{target.host}:{target.port}{target.path}"
    headers = {"X-API-Key": target.api_key, "Content-Type": "application/json"}
    for body in pending:
        started = time.perf_counter()
        try:
            answer = await session.post(url, content=body, headers=headers)
        except httpx.TransportError as exc:
            result.errors[type(exc).__name__] += 1
            continue
        result.latencies_s.append(time.perf_counter() - started)
        result.statuses[answer.status_code] += 1
