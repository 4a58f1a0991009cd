"""librdkafka statistics as metrics and health: consumer lag per partition, group and brokers.

A client built with :func:`tracesync.kafka_clients.with_statistics` calls a :class:`KafkaStats`
every ``statistics.interval.ms`` from inside its ``poll``/``consume`` (no thread of its own). Each
report sets ``tracesync_consumer_lag`` for the partitions the consumer fetches (the high
watermark minus the committed offset, librdkafka's ``consumer_lag``) and removes the partitions
it no longer has; it also remembers whether the consumer group is joined and any broker is up,
which the readiness checks read.
"""

from __future__ import annotations

import json
import logging
import threading
from typing import Any

from tracesync.observability.metrics import Metrics

log = logging.getLogger(__name__)

_NOT_FETCHED = ("none", "stopping", "stopped")


class KafkaStats:
    """The statistics callback of one librdkafka client."""

    def __init__(self, metrics: Metrics, group: str | None = None) -> None:
        self.metrics = metrics
        self.group = group
        self._lock = threading.Lock()
        self._partitions: set[tuple[str, str]] = set()
        self._joined = False
        self._brokers_up = False
        self._reports = 0

    def __call__(self, stats_json: str) -> None:
        try:
            stats = json.loads(stats_json)
            self._take(stats)
        except (ValueError, TypeError, KeyError, AttributeError):  # never break the client
            log.exception("unreadable librdkafka statistics")

    def _take(self, stats: dict[str, Any]) -> None:
        brokers = stats.get("brokers", {}).values()
        up = any(b.get("state") == "UP" and b.get("nodeid", -1) != -1 for b in brokers)
        group = stats.get("cgrp") or {}
        joined = group.get("state") == "up" and group.get("join_state") == "steady"
        seen = self._lags(stats) if self.group is not None else set()
        with self._lock:
            gone, self._partitions = self._partitions - seen, seen
            self._brokers_up, self._joined = up, joined
            self._reports += 1
        for topic, partition in gone:
            self.metrics.consumer_lag.remove(self.group, topic, partition)

    def _lags(self, stats: dict[str, Any]) -> set[tuple[str, str]]:
        seen: set[tuple[str, str]] = set()
        for topic, info in stats.get("topics", {}).items():
            for partition, p in info.get("partitions", {}).items():
                if partition == "-1" or p.get("fetch_state") in _NOT_FETCHED:
                    continue
                lag = p.get("consumer_lag", -1)
                if lag is None or lag < 0:  # no committed offset or watermark known yet
                    continue
                self.metrics.consumer_lag.labels(self.group, topic, partition).set(lag)
                seen.add((topic, partition))
        return seen

    @property
    def brokers_up(self) -> bool:
        """Some broker answered in the last report."""
        with self._lock:
            return self._brokers_up

    @property
    def joined(self) -> bool:
        """The consumer group is joined and its assignment settled (librdkafka ``steady``)."""
        with self._lock:
            return self._joined

    @property
    def reports(self) -> int:
        with self._lock:
            return self._reports
