"""The options every long-running command shares: ``--metrics-port`` and ``--log-format``.

:func:`observing` applies them: the log format to the root logger, the port to the metrics
settings, and returns the settings (``log_format`` set, for the engines' own logging) with the
process's :class:`~tracesync.observability.runtime.Observability`. Its imports happen inside,
so loading the CLI loads neither prometheus_client nor confluent-kafka.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from tracesync.observability.runtime import Observability
    from tracesync.settings import Settings

METRICS_PORT = click.option(
    "--metrics-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="Serve /metrics, /healthz, /readyz on this port of settings.metrics.host "
    "(127.0.0.1); 0 = off [settings: metrics.port, 0].",
)
LOG_FORMAT = click.option(
    "--log-format",
    type=click.Choice(["text", "json"]),
    default=None,
    help="Logs as text or as one JSON object per line [settings: log_format, text].",
)


def observing(
    settings: Settings, component: str, metrics_port: int | None, log_format: str | None
) -> tuple[Settings, Observability]:
    """Settings with the options applied, and the component's observability (not serving yet)."""
    from tracesync.observability.logs import configure_logging
    from tracesync.observability.runtime import Observability

    updates: dict[str, object] = {}
    if log_format is not None:
        updates["log_format"] = log_format
    if metrics_port is not None:
        updates["metrics"] = settings.metrics.model_copy(update={"port": metrics_port})
    if updates:
        settings = settings.model_copy(update=updates)
    if settings.log_format == "json":
        configure_logging("json")
    return settings, Observability(component, settings.metrics)
