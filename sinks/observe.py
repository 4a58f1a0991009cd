"""The sinks' metrics, as wrappers around their ports (the sink loops do not change).

- :class:`MeteredWriter` times every store transaction (``tracesync_store_write_seconds``),
  counts the records applied by kind and the failed writes (``unavailable``: retried;
  ``rejected``: written one by one, the refused ones dead-lettered), and tells readiness whether
  the database answered the last write.
- :class:`MeteredDeadLetters` counts the store sink's dead letters by stage and reason.
- :class:`MeteredTarget` counts a target's acknowledged notices and failed attempts and times
  each attempt.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

from sinks.store.flow import DeadLetter
from sinks.store.rows import ChainRows, Row
from sinks.store.sink import DeadLetterOut
from sinks.store.writer import (
    StoreRejectedError,
    StoreUnavailableError,
    StoreWriter,
    WriteResult,
)
from sinks.targets.base import Target, TargetError
from sinks.targets.routing import Notice
from tracesync.observability.health import Flag
from tracesync.observability.metrics import Metrics


class MeteredWriter:
    """A :class:`~sinks.store.writer.StoreWriter` with write latency, rows and errors."""

    def __init__(self, inner: StoreWriter, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.reachable = Flag(True)  # the store was opened (and migrated) just before

    def __repr__(self) -> str:
        return repr(self.inner)

    def write(self, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()) -> WriteResult:
        started = time.perf_counter()
        try:
            result = self.inner.write(chains, alerts)
        except StoreUnavailableError:
            self.metrics.store_write_errors.labels("unavailable").inc()
            self.reachable.set(False)
            raise
        except StoreRejectedError:
            self.metrics.store_write_errors.labels("rejected").inc()
            self.reachable.set(True)
            raise
        self.metrics.store_write.observe(time.perf_counter() - started)
        self.reachable.set(True)
        rows = self.metrics.store_rows
        rows.labels("chain").inc(result.written)
        rows.labels("stale_chain").inc(result.stale)
        rows.labels("alert").inc(result.alerts)
        return result

    def __getattr__(self, name: str) -> Any:  # the store's other methods (close, url, ...)
        return getattr(self.inner, name)


class MeteredDeadLetters:
    """A :class:`~sinks.store.sink.DeadLetterOut` counting the letters by stage and reason."""

    def __init__(self, inner: DeadLetterOut, metrics: Metrics, stage: str, topic: str) -> None:
        self.inner = inner
        self.metrics = metrics
        self.stage = stage
        self.topic = topic

    def send(self, letter: DeadLetter) -> None:
        self.inner.send(letter)
        self.metrics.dead_lettered(letter.stage, [letter.reason])  # sinks.store.decode|write
        self.metrics.produced(self.stage, [self.topic])

    def flush(self) -> int:
        return self.inner.flush()

    def close(self) -> None:
        self.inner.close()


class MeteredTarget(Target):
    """A target with delivery metrics; everything else is the wrapped target's."""

    transport = "metered"
    options = frozenset()

    def __init__(self, inner: Target, metrics: Metrics) -> None:
        self.inner = inner
        self.metrics = metrics
        self.name, self.config, self.home = inner.name, inner.config, inner.home

    def send(self, notice: Notice) -> None:
        started = time.perf_counter()
        try:
            self.inner.send(notice)
        except TargetError as exc:
            retriable = "true" if exc.retriable else "false"
            self.metrics.target_failures.labels(self.name, retriable).inc()
            raise
        finally:
            self.metrics.target_seconds.labels(self.name).observe(time.perf_counter() - started)
        self.metrics.target_deliveries.labels(self.name).inc()

    def close(self) -> None:
        self.inner.close()
