"""The stream worker's metrics and readiness, recorded once per processed buffer.

The engines call :class:`WorkerProbe` with what they already hold for a buffer: its records
(counted per topic), the timestamp of its oldest record, the outputs it sent (counted per topic;
dead letters also by stage and reason) and when the buffer's processing started. Consumer lag
comes from librdkafka statistics (quix, :meth:`WorkerProbe.consumer_extra`) or from the
engine's view of the high watermarks (faust, :meth:`WorkerProbe.lag`). The domain is never
involved.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from streams.engines.base import Output
from streams.processor import Incoming
from tracesync import deadletter
from tracesync.observability.health import Flag
from tracesync.observability.runtime import Observability

STAGE = "streams"


class WorkerProbe:
    """What the engines report to; one per worker process."""

    def __init__(self, observability: Observability, group: str) -> None:
        self.observability = observability
        self.metrics = observability.metrics
        self.group = group
        self.assigned = Flag()
        """Set by an engine that learns of its assignment itself (faust)."""

    def consumer_extra(self) -> dict[str, Any]:
        """Consumer settings that report librdkafka statistics: lag and "group joined"."""
        stats = self.observability.kafka_stats("consumer group joined", self.group)
        return self.observability.with_statistics({}, stats)

    def watch_assignment(self) -> None:
        """Readiness follows :attr:`assigned` (for an engine without librdkafka statistics)."""
        self.observability.health.add("partitions assigned", self.assigned)

    def buffer(
        self,
        stage: str,
        records: Sequence[Incoming],
        oldest_ms: float | None,
        started: float,
        outputs: Iterable[Output] = (),
    ) -> None:
        """One processed buffer of ``stage`` (``streams.merge``, ``streams.genealogy``)."""
        self.metrics.consumed(stage, Counter(r.topic for r in records), oldest_ms)
        self.sent(stage, outputs)
        self.metrics.processed(stage, time.perf_counter() - started, len(records))

    def sent(self, stage: str, outputs: Iterable[Output]) -> None:
        topics: list[str] = []
        reasons: list[str] = []
        for output in outputs:
            topics.append(output.topic)
            if output.headers and output.headers[0][0] == deadletter.REASON:
                reasons.append(output.headers[0][1].decode("utf-8", "replace"))
        self.metrics.produced(stage, topics)
        if reasons:
            self.metrics.dead_lettered(STAGE, reasons)

    def lag(self, positions: Mapping[tuple[str, int], tuple[int, int | None]]) -> None:
        """(topic, partition) -> (next offset to read, high watermark or None)."""
        for (topic, partition), (position, high) in positions.items():
            if high is not None:
                gauge = self.metrics.consumer_lag.labels(self.group, topic, str(partition))
                gauge.set(max(0, high - position))
