"""Fakes of the store sink's three ports, for unit tests of its loop (no Kafka, no database).

* :class:`FakeWriter` is a :class:`~sinks.store.writer.StoreWriter` that keeps chains in memory
  with the real store's contract (one version per batch per write, a stored batch replaced only by
  a newer version, alerts once) and can be told to be unavailable or to reject some batches.
* :class:`FakeSource` is a :class:`~sinks.store.sink.RecordSource` that hands out a list of
  records in order, can revoke partitions at a chosen poll, and sets the stop event once every
  record it handed out is committed (or its partition was revoked), so a run ends by itself.
* :class:`FakeDeadLetters` is a :class:`~sinks.store.sink.DeadLetterOut` that keeps what it got.

All three write to one shared :class:`Journal`, so a test can check the order of writes, dead
letters and commits.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sinks.store.flow import DeadLetter, Incoming, TopicPartition
from sinks.store.rows import ChainRows, Row, latest_per_batch
from sinks.store.sink import RevokeCallback
from sinks.store.writer import StoreRejectedError, StoreUnavailableError, WriteResult
from tracesync.contracts.record_serde import RecordSerde

CHAINS = RecordSerde.single_object("TraceChain")
ALERTS = RecordSerde.single_object("Alert")


@dataclass
class Journal:
    """What happened, in order: ``(kind, detail)`` with kinds write, unavailable, rejected,
    dead, commit, pause, resume, revoke."""

    entries: list[tuple[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, detail: Any = None) -> None:
        with self.lock:
            self.entries.append((kind, detail))

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.entries]

    def of(self, kind: str) -> list[Any]:
        return [detail for k, detail in self.entries if k == kind]


class FakeWriter:
    """An in-memory trace store with the real one's contract."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.batches: dict[str, ChainRows] = {}
        self.alerts: dict[str, Row] = {}
        self.unavailable = 0  # the next N writes raise StoreUnavailableError
        self.always_unavailable = False
        self.rejects: set[str] = set()  # a write holding one of these batch codes is rejected
        self.on_write: Callable[[], None] | None = None

    def write(self, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()) -> WriteResult:
        if self.on_write is not None:
            self.on_write()
        codes = sorted({c.batch_code for c in chains})
        if self.always_unavailable or self.unavailable:
            self.unavailable = max(0, self.unavailable - 1)
            self.journal.add("unavailable", codes)
            raise StoreUnavailableError("fake store down")
        if self.rejects.intersection(codes):
            self.journal.add("rejected", codes)
            raise StoreRejectedError(f"fake store refuses {sorted(self.rejects)}")
        written = 0
        chosen = latest_per_batch(chains)
        for rows in chosen:
            stored = self.batches.get(rows.batch_code)
            if stored is None or stored.version < rows.version:
                self.batches[rows.batch_code] = rows
                written += 1
        new_alerts = {a["alert_id"]: a for a in alerts if a["alert_id"] not in self.alerts}
        self.alerts.update(new_alerts)
        self.journal.add("write", codes)
        return WriteResult(written, len(chosen) - written, len(new_alerts))

    def versions(self) -> dict[str, int]:
        return {code: rows.version for code, rows in self.batches.items()}


class FakeSource:
    """Records handed out in order; ``stop`` is set once all of them are committed."""

    def __init__(
        self, journal: Journal, records: Iterable[Incoming], stop: threading.Event
    ) -> None:
        self.journal = journal
        self.queue = deque(records)
        self.stop = stop
        self.paused = False
        self.closed = False
        self.polls = 0
        self.revoke_at: dict[int, set[TopicPartition]] = {}  # poll number -> partitions
        self.owed: dict[TopicPartition, int] = {}  # end offsets of what was handed out
        self._on_revoke: RevokeCallback | None = None

    def start(self, on_revoke: RevokeCallback) -> None:
        self._on_revoke = on_revoke

    def poll(self, max_records: int, timeout_s: float) -> list[Incoming]:
        self.polls += 1
        revoked = self.revoke_at.pop(self.polls, None)
        if revoked is not None and self._on_revoke is not None:
            self.journal.add("revoke", sorted(revoked))
            self._on_revoke(revoked)
            self.journal.add("revoked", sorted(revoked))
            self.owed = {tp: off for tp, off in self.owed.items() if tp not in revoked}
        if self.paused or not self.queue:
            if not self.queue and self._all_committed():
                self.stop.set()
            time.sleep(min(timeout_s, 0.001))
            return []
        out = [self.queue.popleft() for _ in range(min(max_records, len(self.queue)))]
        for r in out:
            self.owed[(r.topic, r.partition)] = r.offset + 1
        return out

    def _all_committed(self) -> bool:
        committed = self.committed()
        return all(committed.get(tp, 0) >= off for tp, off in self.owed.items())

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        self.journal.add("commit", dict(offsets))

    def pause(self) -> None:
        self.paused = True
        self.journal.add("pause")

    def resume(self) -> None:
        self.paused = False
        self.journal.add("resume")

    def close(self) -> None:
        self.closed = True

    def committed(self) -> dict[TopicPartition, int]:
        """The last committed offset of every partition."""
        out: dict[TopicPartition, int] = {}
        for offsets in self.journal.of("commit"):
            out.update(offsets)
        return out


class FakeDeadLetters:
    """Dead letters kept in a list."""

    def __init__(self, journal: Journal) -> None:
        self.journal = journal
        self.letters: list[DeadLetter] = []
        self.closed = False

    def send(self, letter: DeadLetter) -> None:
        self.letters.append(letter)
        self.journal.add("dead", (letter.record.partition, letter.record.offset))

    def flush(self) -> int:
        return 0

    def close(self) -> None:
        self.closed = True


def records_on(
    topic: str, values: Sequence[tuple[str, bytes | None]], partitions: int = 2
) -> list[Incoming]:
    """``(key, value)`` pairs as consumed records: a key always lands on the same partition,
    offsets count up per partition."""
    next_offset = dict.fromkeys(range(partitions), 0)
    out = []
    for key, value in values:
        partition = sum(key.encode()) % partitions
        out.append(Incoming(topic, partition, next_offset[partition], key.encode(), value))
        next_offset[partition] += 1
    return out


def end_offsets(records: Iterable[Incoming]) -> dict[TopicPartition, int]:
    ends: dict[TopicPartition, int] = {}
    for r in records:
        ends[(r.topic, r.partition)] = max(ends.get((r.topic, r.partition), 0), r.offset + 1)
    return ends
