"""Every metric tracesync exports, defined once, on one registry per process.

:class:`Metrics` owns a :class:`~prometheus_client.CollectorRegistry` and the metric families;
its methods record what a component did, once per batch where a batch exists (counters are
incremented by the batch's count, histograms observe one value per batch). Label values are
bounded: topics, stages, routes and targets come from configuration, and a dead letter's free-text
reason is reduced to its leading words by :func:`reason_class`.

:func:`exported_names` lists the sample names a scrape can show (``_total``, ``_bucket``, ...),
derived from the definitions; the monitoring test checks the alert rules and the dashboard
against it.
"""

from __future__ import annotations

import re
import time
from collections import Counter as Tally
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
)

from tracesync import __version__

disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created samples: they double the series and nothing reads them

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30)
END_TO_END_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)

_REASON_END = re.compile(r"[:;(\[{'\"=]")
_NOT_WORD = re.compile(r"[^a-z0-9]+")


def reason_class(reason: str) -> str:
    """A dead letter's reason as a bounded label: its leading words, before any detail.

    ``"cannot decode: bad magic byte"`` -> ``cannot_decode``; ``"merge failed: KeyError: x"`` ->
    ``merge_failed``. At most four words, so values, codes and offsets never become labels.
    """
    head = _REASON_END.split(reason, maxsplit=1)[0].lower()
    words = _NOT_WORD.sub(" ", head).split()[:4]
    return "_".join(words) or "unknown"


class Metrics:
    """The metric families of one process, on their own registry."""

    def __init__(self, component: str, registry: CollectorRegistry | None = None) -> None:
        self.component = component
        self.registry = registry if registry is not None else CollectorRegistry()
        r = self.registry
        ProcessCollector(registry=r)
        self.info = Gauge(
            "tracesync_build_info",
            "Always 1: the component and version",
            ["component", "version"],
            registry=r,
        )
        self.info.labels(component, __version__).set(1)
        self.ready = Gauge("tracesync_ready", "1 when every readiness check passes", registry=r)
        self._define_pipeline_metrics(r)
        self._define_sink_metrics(r)
        self._define_http_metrics(r)

    def _define_pipeline_metrics(self, r: CollectorRegistry) -> None:
        self.events_in = Counter(
            "tracesync_events_in",
            "Records read (or events received) by stage and topic",
            ["stage", "topic"],
            registry=r,
        )
        self.events_out = Counter(
            "tracesync_events_out",
            "Records produced (acknowledged) by stage and topic",
            ["stage", "topic"],
            registry=r,
        )
        self.processing = Histogram(
            "tracesync_processing_seconds",
            "Time to process one batch, by stage",
            ["stage"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.end_to_end = Histogram(
            "tracesync_end_to_end_seconds",
            "Age of the oldest record of each batch when it was processed (now minus its "
            "record timestamp or event time), by stage",
            ["stage"],
            buckets=END_TO_END_BUCKETS,
            registry=r,
        )
        self.last_progress = Gauge(
            "tracesync_last_progress_timestamp_seconds",
            "Unix time a stage last finished a batch of at least one record",
            ["stage"],
            registry=r,
        )
        self.dead_letters = Counter(
            "tracesync_dead_letters",
            "Records set aside, by stage and reason class",
            ["stage", "reason"],
            registry=r,
        )
        self.consumer_lag = Gauge(
            "tracesync_consumer_lag",
            "Records behind the high watermark, per consumed partition (from librdkafka "
            "statistics, or the engine's position)",
            ["group", "topic", "partition"],
            registry=r,
        )

    def _define_sink_metrics(self, r: CollectorRegistry) -> None:
        self.store_write = Histogram(
            "tracesync_store_write_seconds",
            "Time of one store transaction (a batch)",
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.store_write_errors = Counter(
            "tracesync_store_write_errors",
            "Failed store writes: unavailable (retried) or rejected (records dead-lettered)",
            ["kind"],
            registry=r,
        )
        self.store_rows = Counter(
            "tracesync_store_rows",
            "Records applied to the store: chain, stale chain, alert",
            ["kind"],
            registry=r,
        )
        self.target_deliveries = Counter(
            "tracesync_target_deliveries",
            "Notices a target acknowledged",
            ["target"],
            registry=r,
        )
        self.target_failures = Counter(
            "tracesync_target_failures",
            "Failed delivery attempts, by target and whether retried",
            ["target", "retriable"],
            registry=r,
        )
        self.target_seconds = Histogram(
            "tracesync_target_delivery_seconds",
            "Time of one delivery attempt",
            ["target"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    def _define_http_metrics(self, r: CollectorRegistry) -> None:
        self.http_requests = Counter(
            "tracesync_http_requests",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=r,
        )
        self.http_seconds = Histogram(
            "tracesync_http_request_seconds",
            "HTTP request durations by route and method",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )

    # -- recording -------------------------------------------------------------------------
    def consumed(
        self, stage: str, per_topic: Mapping[str, int], oldest_ms: float | None = None
    ) -> None:
        """A batch was read: its count per topic and the timestamp of its oldest record."""
        for topic, count in per_topic.items():
            if count:
                self.events_in.labels(stage, topic).inc(count)
        if oldest_ms is not None and oldest_ms > 0:
            age = time.time() - oldest_ms / 1000
            self.end_to_end.labels(stage).observe(max(0.0, age))

    def produced(self, stage: str, topics: Iterable[str]) -> None:
        """Records went out (one topic name per record)."""
        for topic, count in Tally(topics).items():
            self.events_out.labels(stage, topic).inc(count)

    def processed(self, stage: str, seconds: float, records: int) -> None:
        """A batch of ``records`` took ``seconds``; a non-empty one is progress."""
        self.processing.labels(stage).observe(seconds)
        if records:
            self.last_progress.labels(stage).set(time.time())

    def dead_lettered(self, stage: str, reasons: Iterable[str]) -> None:
        """Records set aside at ``stage`` (one free-text reason per record)."""
        for reason, count in Tally(reason_class(r) for r in reasons).items():
            self.dead_letters.labels(stage, reason).inc(count)


def exported_names(metrics: Metrics) -> set[str]:
    """Every sample name a scrape of ``metrics`` can show, from the registered families."""
    suffixes = {
        "counter": ("_total",),
        "histogram": ("_bucket", "_count", "_sum"),
        "summary": ("_count", "_sum"),
    }
    names: set[str] = set()
    for family in metrics.registry.collect():
        names.add(family.name)
        names.update(family.name + s for s in suffixes.get(family.type, ()))
    return names
