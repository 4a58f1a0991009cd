"""What a composition root holds for observing its process: metrics, health, the server.

:class:`Observability` is built once per process from the settings (``--metrics-port`` already
applied) and handed to the builders; :meth:`Observability.serve` starts the metrics server when a
port is configured (the HTTP components mount the endpoints on their own app instead).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from tracesync.kafka_clients import with_statistics
from tracesync.observability.health import Health
from tracesync.observability.kafka_stats import KafkaStats
from tracesync.observability.metrics import Metrics
from tracesync.observability.server import MetricsServer
from tracesync.settings import MetricsSettings

log = logging.getLogger(__name__)


class Observability:
    """The metrics registry, the readiness checks and (once served) the HTTP server."""

    def __init__(self, component: str, settings: MetricsSettings | None = None) -> None:
        self.component = component
        self.settings = settings or MetricsSettings()
        self.metrics = Metrics(component)
        self.health = Health(self.metrics)
        self.server: MetricsServer | None = None

    def serve(self) -> MetricsServer | None:
        """Start ``/metrics``, ``/healthz``, ``/readyz`` on the configured port (0: none)."""
        if self.server is None and self.settings.port:
            self.server = MetricsServer(
                self.settings.host, self.settings.port, self.metrics, self.health
            )
        return self.server

    def kafka_stats(self, check: str | None = None, group: str | None = None) -> KafkaStats:
        """A statistics listener; with ``check``, a readiness check of that name follows it:
        the group joined (consumers, ``group`` given) or a broker up (producers)."""
        stats = KafkaStats(self.metrics, group)
        if check is not None:
            self.health.add(check, (lambda: stats.joined) if group else (lambda: stats.brokers_up))
        return stats

    def with_statistics(self, config: dict[str, Any], stats: KafkaStats) -> dict[str, Any]:
        """A client configuration that reports its statistics to ``stats``."""
        return with_statistics(config, stats, self.settings.stats_interval_ms)

    def producer_factory(self, check: str | None = None) -> Callable[[dict[str, Any]], Any]:
        """A producer factory for :class:`~tracesync.publisher.KafkaPublisher` that reports
        statistics (and, with ``check``, makes "a broker is up" a readiness check)."""
        from confluent_kafka import Producer  # noqa: PLC0415 (only where a producer is built)

        stats = self.kafka_stats(check)
        return lambda config: Producer(self.with_statistics(config, stats))

    def close(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
