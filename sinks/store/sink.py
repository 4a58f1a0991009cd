"""The store sink: chain and alert topics -> trace store, offsets committed after the database.

The loop collects records until it has ``batch_max_records``, or some and the writer is free, or
``batch_max_ms`` passed, decodes them (undecodable ones become dead letters with the reason, the
stage and their origin) and hands the batch to one writer thread, which writes it in one
transaction while the loop reads and decodes the next batch: a record waits for the write under
way, not for a timer, so batches grow with the load and a trickle is stored as it comes. Before
the next batch is handed over, the loop waits for the write under way, sends its dead letters,
and only then commits its offsets: batches are written and committed one after
the other, in order, and nothing is committed before it is stored.

When the store is unavailable the loop pauses consumption, keeps the batch, retries it with
exponential backoff and resumes once the write went through. When partitions are revoked, what
was read from them is stored and committed first, or forgotten (their new owner reads it again).
A stop request finishes the batches under way.

The loop talks to Kafka through two small ports (:class:`RecordSource`, :class:`DeadLetterOut`,
implemented in :mod:`sinks.store.kafka_io`) and to the database through
:class:`~sinks.store.writer.StoreWriter`, so its logic is unit-tested with fakes.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from sinks.store.flow import (
    Backoff,
    Batch,
    DeadLetter,
    Flushed,
    Incoming,
    RecordDecoder,
    TopicPartition,
    write_batch,
)
from sinks.store.writer import StoreUnavailableError, StoreWriter
from tracesync.settings import StoreSettings

log = logging.getLogger(__name__)

RevokeCallback = Callable[[set[TopicPartition]], None]

_BUSY_POLL_S = 0.01
"""While a write is under way and records are in hand: look this often whether it finished."""


class RecordSource(Protocol):
    """Where the sink reads records and commits offsets (a Kafka consumer in production)."""

    def start(self, on_revoke: RevokeCallback) -> None:
        """Subscribe; ``on_revoke`` runs (inside :meth:`poll`) before partitions are taken."""
        ...

    def poll(self, max_records: int, timeout_s: float) -> list[Incoming]: ...

    def commit(self, offsets: Mapping[TopicPartition, int]) -> None:
        """Commit the next offset to read of each partition (synchronously)."""
        ...

    def pause(self) -> None:
        """Stop fetching from every assigned partition (and those assigned meanwhile)."""
        ...

    def resume(self) -> None: ...

    def close(self) -> None: ...


class DeadLetterOut(Protocol):
    """Where records set aside go (the sinks' dead-letter topic in production)."""

    def send(self, letter: DeadLetter) -> None: ...

    def flush(self) -> int:
        """Wait for the letters sent so far; how many are still not acknowledged."""
        ...

    def close(self) -> None: ...


@dataclass
class SinkStats:
    """Counters of one run."""

    records: int = 0
    committed: int = 0
    chains_written: int = 0
    chains_stale: int = 0
    alerts_written: int = 0
    dead_letters: int = 0
    transactions: int = 0
    db_retries: int = 0


@dataclass
class _Pending:
    """The batch handed to the writer; ``future`` is None once an attempt found the store down."""

    batch: Batch
    future: Future[Flushed] | None


class StoreSink:
    """Consumes chains and alerts and writes them to the trace store."""

    def __init__(
        self,
        writer: StoreWriter,
        source: RecordSource,
        dead_letters: DeadLetterOut,
        decoder: RecordDecoder,
        options: StoreSettings,
    ) -> None:
        self.writer = writer
        self.source = source
        self.dead_letters = dead_letters
        self.decoder = decoder
        self.options = options
        self.stats = SinkStats()
        self._batch = Batch()
        self._pending: _Pending | None = None
        self._paused = False
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="store-writer")

    # -- lifecycle ---------------------------------------------------------------------------
    def run(self, stop: threading.Event) -> SinkStats:
        """Consume until ``stop`` is set; the batches under way are written and committed first."""
        self.source.start(self._on_revoke)
        try:
            while True:
                self._collect(stop)
                if not self._settle(stop):
                    break  # stopped during an outage: nothing more is committed
                if self._batch.size:
                    self._submit()
                if stop.is_set():
                    self._settle(stop)
                    break
        finally:
            self._executor.shutdown(wait=True)
            self.dead_letters.close()
            self.source.close()
        return self.stats

    # -- collect -----------------------------------------------------------------------------
    def _collect(self, stop: threading.Event) -> None:
        """Read until the batch is full, ``batch_max_ms`` passed, or records are in hand and the
        writer is free: a batch waits for the write under way, never for a timer, so batches grow
        with the load and a trickle is written as it comes."""
        deadline = time.monotonic() + self.options.batch_max_ms / 1000
        while not stop.is_set() and self._batch.size < self.options.batch_max_records:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            if self._batch.size and not self._writing():
                return
            wait = min(remaining, _BUSY_POLL_S) if self._batch.size else remaining
            self._take(self.source.poll(self._room(), wait))

    def _writing(self) -> bool:
        """A write is under way (an outage's failed attempt counts as done: it is retried)."""
        pending = self._pending
        return pending is not None and pending.future is not None and not pending.future.done()

    def _room(self) -> int:
        return max(1, self.options.batch_max_records - self._batch.size)

    def _take(self, records: list[Incoming]) -> None:
        for record in records:
            self.stats.records += 1
            self.decoder.add(self._batch, record)

    # -- write -------------------------------------------------------------------------------
    def _submit(self) -> _Pending:
        batch, self._batch = self._batch, Batch()
        self._pending = _Pending(batch, self._executor.submit(write_batch, self.writer, batch))
        return self._pending

    def _outcome(self, pending: _Pending) -> Flushed | None:
        """Wait for the write of ``pending``; None (and no future any more) if the store is down."""
        if pending.future is None:
            return None
        try:
            return pending.future.result()
        except StoreUnavailableError as exc:
            self.stats.db_retries += 1
            self._pause(exc)
            pending.future = None
            return None

    def _retry(self, pending: _Pending) -> Flushed | None:
        pending.future = self._executor.submit(write_batch, self.writer, pending.batch)
        return self._outcome(pending)

    def _settle(self, stop: threading.Event) -> bool:
        """Finish the batch handed to the writer: commit it, or retry it while the store is down.

        False when ``stop`` came during an outage (the batch stays uncommitted).
        """
        pending = self._pending
        if pending is None:
            return True
        flushed = self._outcome(pending)
        backoff = Backoff(self.options.retry_initial_s, self.options.retry_max_s)
        while flushed is None and pending.batch.size:
            if stop.is_set():
                log.warning("stopping during a database outage; the batch is not committed")
                return False
            self._wait(backoff.next_delay(), stop)
            flushed = self._retry(pending)
        if flushed is not None:
            self._finish(pending.batch, flushed)
        self._pending = None
        self._resume()
        return True

    def _finish(self, batch: Batch, flushed: Flushed) -> None:
        """The batch is stored: its dead letters go out, then its offsets are committed."""
        letters = [*batch.dead_letters, *flushed.rejected]
        for letter in letters:
            self.dead_letters.send(letter)
        if letters and (undelivered := self.dead_letters.flush()):
            log.error("%d dead letters not acknowledged before the commit", undelivered)
        self.stats.dead_letters += len(letters)
        self.stats.chains_written += flushed.result.written
        self.stats.chains_stale += flushed.result.stale
        self.stats.alerts_written += flushed.result.alerts
        self.stats.transactions += 1
        if batch.offsets:
            self.source.commit(batch.offsets)
        self.stats.committed += batch.size

    # -- rebalance ---------------------------------------------------------------------------
    def _on_revoke(self, revoked: set[TopicPartition]) -> None:
        """Before partitions go: store and commit what was read from them, or forget it."""
        if self._pending is not None and not self._settle_now(self._pending, revoked):
            return
        if self._batch.touches(revoked):
            self._settle_now(self._submit(), revoked)

    def _settle_now(self, pending: _Pending, revoked: set[TopicPartition]) -> bool:
        """Finish ``pending`` without retrying; if the store is down, forget what was read from
        ``revoked`` (the partitions' new owner reads it again) and say so with False."""
        flushed = self._outcome(pending)
        if flushed is None:
            pending.batch.drop_partitions(revoked)
            self._batch.drop_partitions(revoked)
            return False
        self._finish(pending.batch, flushed)
        self._pending = None
        return True

    # -- outage ------------------------------------------------------------------------------
    def _pause(self, exc: Exception) -> None:
        if not self._paused:
            log.warning("trace store unavailable, pausing consumption: %s", exc)
            self.source.pause()
            self._paused = True

    def _resume(self) -> None:
        if self._paused:
            log.info("trace store back, resuming consumption")
            self.source.resume()
            self._paused = False

    def _wait(self, delay: float, stop: threading.Event) -> None:
        """Wait ``delay`` seconds while serving the consumer group (partitions are paused)."""
        deadline = time.monotonic() + delay
        while not stop.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            self._take(self.source.poll(self._room(), min(remaining, 1.0)))
