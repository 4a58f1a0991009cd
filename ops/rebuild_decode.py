"""The rebuild's read-decode-write pipeline, its decoding on the second core (a child process).

A rebuild spends most of its time in Python: decoding every chain record and building its rows.
The writes are in SQLite's C code or in the database server, outside the interpreter lock, so a
second process doing the decoding lets both cores work: :class:`RowMaker` forks one child that
turns record values into :class:`~sinks.store.rows.ChainRows` (pickled back), while the parent
reads the topic and writes.

The child is forked at construction, before the rebuild opens any Kafka client, and inherits the
decoder (a compiled Avro reader cannot be pickled). A record that cannot be decoded, or whose
rows cannot be built, comes back as a line naming where it was read and why, as the chain topic
reader names its undecodable records; it never stops the rebuild.
"""

from __future__ import annotations

import multiprocessing
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

from ops.chain_topic import ChainTopicReader
from sinks.store.rows import ChainRows, chain_rows

Decoder = Callable[[bytes], dict[str, Any]]
Item = tuple[str, bytes]
"""Where a record was read (``topic[partition]@offset``) and its value."""
Made = tuple[list[ChainRows], list[str]]
"""The rows of the records that could be read, and a line for each one that could not."""

_decode: Decoder | None = None


def _inherit(decode: Decoder) -> None:
    global _decode  # noqa: PLW0603 - the child process's one decoder, set once at its start
    _decode = decode


def rows_of(decode: Decoder, items: Sequence[Item], stored_at: datetime) -> Made:
    """The rows of every record of ``items``; the unreadable ones named, not raised."""
    made: list[ChainRows] = []
    bad: list[str] = []
    for where, value in items:
        try:
            made.append(chain_rows(decode(value), stored_at))
        except Exception as exc:  # a bad record is a finding, not a crash
            bad.append(f"{where}: {type(exc).__name__}: {exc}")
    return made, bad


def _rows_in_child(items: Sequence[Item], stored_at: datetime) -> Made:
    if _decode is None:
        raise RuntimeError("the decoding process has no decoder")
    return rows_of(_decode, items, stored_at)


class RowMaker:
    """Builds chain rows in a forked child process; :meth:`close` ends it."""

    def __init__(self, decode: Decoder) -> None:
        context = multiprocessing.get_context("fork")
        self._pool = ProcessPoolExecutor(
            1, mp_context=context, initializer=_inherit, initargs=(decode,)
        )
        self._pool.submit(int).result()  # fork now, while this process has no Kafka client

    def submit(self, items: Sequence[Item], stored_at: datetime) -> Future[Made]:
        return self._pool.submit(_rows_in_child, list(items), stored_at)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


_CHUNK = 5000
_AHEAD = 2
"""Chunks handed to the child beyond the one being written: enough to keep it busy."""
Write = Callable[[list[ChainRows]], int]
"""Writes chain rows in one transaction; how many batch rows it wrote."""
Progress = Callable[[int, int, float], None]
"""Called with (records read, records to read, seconds since the start)."""


def _items(messages: Sequence[Any]) -> list[Item]:
    return [
        (f"{m.topic()}[{m.partition()}]@{m.offset()}", m.value())
        for m in messages
        if m.value() is not None  # a tombstone: nothing to store
    ]


def _made_rows(reader: ChainTopicReader, maker: RowMaker) -> Iterator[list[ChainRows]]:
    """The rows of what ``reader`` reads, chunk by chunk, in read order; the child decodes up to
    ``_AHEAD`` chunks ahead of the one handed out. Unreadable records go to the reader's list."""
    queued: deque[Future[Made]] = deque()

    def take() -> list[ChainRows]:
        made, bad = queued.popleft().result()
        reader.undecodable.extend(bad)
        return made

    for messages in reader.messages():
        items = _items(messages)
        for start in range(0, len(items), _CHUNK):
            queued.append(maker.submit(items[start : start + _CHUNK], datetime.now(UTC)))
            while len(queued) > _AHEAD:
                yield take()
    while queued:
        yield take()


def write_all(
    write: Write, reader: ChainTopicReader, maker: RowMaker, progress: Progress | None
) -> int:
    """Write what ``reader`` reads, in order, on both cores: the child process builds the rows,
    a writer thread writes one chunk (the database or SQLite's C code runs without the GIL)
    while this thread reads the topic and hands the child the next ones."""
    began = time.monotonic()
    written = 0
    pending: Future[int] | None = None
    with ThreadPoolExecutor(1, thread_name_prefix="rebuild-writer") as writer:
        for rows in _made_rows(reader, maker):
            if pending is not None:
                written += pending.result()
            pending = writer.submit(write, rows)
            if progress is not None:
                progress(reader.read, reader.total, time.monotonic() - began)
        if pending is not None:
            written += pending.result()
    return written
