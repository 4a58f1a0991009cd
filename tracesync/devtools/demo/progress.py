"""The live view: one plain-text line per second (works in CI logs as well as a terminal).

elapsed | events in (end offsets of the source topics) | chains updated (chain topic) | lag of the
worker (its group on the source topics) and of the store sink (its group on the chain topic) |
alerts | dead letters (all dead-letter topics) | batches in the trace store.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from confluent_kafka import KafkaException
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import SQLAlchemyError

from sinks.store import schema
from tracesync import bootstrap
from tracesync.devtools.pipeline import OffsetProbe
from tracesync.settings import Settings
from tracesync.topics import TopicRole


@dataclass(frozen=True)
class Snapshot:
    elapsed_s: float
    events_in: int
    chains: int
    worker_lag: int | None
    sink_lag: int | None
    alerts: int
    dead_letters: int
    stored: int | None

    def line(self) -> str:
        def opt(value: int | None) -> str:
            return "?" if value is None else str(value)

        return (
            f"[{self.elapsed_s:6.1f}s] events in {self.events_in:6d} | "
            f"chains updated {self.chains:6d} | lag worker {opt(self.worker_lag):>5} "
            f"store sink {opt(self.sink_lag):>5} | alerts {self.alerts:4d} | "
            f"dead letters {self.dead_letters:3d} | batches in store {opt(self.stored)}"
        )


class ProgressProbe:
    """Reads offsets, committed positions and the store; the consumers never join a group."""

    def __init__(self, settings: Settings, store: Engine) -> None:
        cat = bootstrap.catalog(settings)
        self.sources = [t.name for t in cat.by_role(TopicRole.SOURCE)]
        self.chain = cat.topic("trace.chain").name
        self.alerts = cat.topic("trace.alerts").name
        self.dead = [t.name for t in cat.by_role(TopicRole.DLQ)]
        self.store = store
        self.started = time.monotonic()
        self._worker = settings.worker.app_id
        self._sink = settings.store.sink_group
        self._offsets = OffsetProbe(settings, [self._worker, self._sink])

    def close(self) -> None:
        self._offsets.close()

    def _stored(self) -> int | None:
        try:
            with self.store.connect() as conn:
                return int(
                    conn.execute(select(func.count()).select_from(schema.batches)).scalar_one()
                )
        except SQLAlchemyError:
            return None

    def snapshot(self) -> Snapshot:
        try:
            ends = self._offsets.ends([*self.sources, self.chain, self.alerts, *self.dead])
            sources = {k: v for k, v in ends.items() if k[0] in self.sources}
            chain = {k: v for k, v in ends.items() if k[0] == self.chain}
            worker_lag = self._offsets.lag(self._worker, sources)
            sink_lag = self._offsets.lag(self._sink, chain)
        except KafkaException:
            ends, sources, chain, worker_lag, sink_lag = {}, {}, {}, None, None
        return Snapshot(
            elapsed_s=time.monotonic() - self.started,
            events_in=sum(sources.values()),
            chains=sum(chain.values()),
            worker_lag=worker_lag,
            sink_lag=sink_lag,
            alerts=sum(v for k, v in ends.items() if k[0] == self.alerts),
            dead_letters=sum(v for k, v in ends.items() if k[0] in self.dead),
            stored=self._stored(),
        )
