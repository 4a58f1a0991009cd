"""The options every long-running command shares: ``--metrics-port``, ``--log-format`` and
``--startup-timeout``.

:func:`observing` applies them: the log format to the root logger, the port to the metrics
settings, the start-up bound to ``startup_timeout_s``, and returns the settings (``log_format``
set, for the engines' own logging) with the process's
:class:`~tracesync.observability.runtime.Observability`. Its imports happen inside, so loading
the CLI loads neither prometheus_client nor confluent-kafka (:mod:`tracesync.startup`, imported
here for its errors, imports only the standard library at load).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from tracesync.errors import TracesyncError
from tracesync.startup import StartupInterruptedError

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
STARTUP_TIMEOUT = click.option(
    "--startup-timeout",
    type=click.FloatRange(min=0),
    default=None,
    help="Seconds to wait at start-up for the broker, registry and database, retrying with "
    "backoff; 0 = fail at once [settings: startup_timeout_s, env "
    "TRACESYNC_STARTUP_TIMEOUT_S; default: wait forever].",
)


def observing(
    settings: Settings,
    component: str,
    metrics_port: int | None,
    log_format: str | None,
    startup_timeout: float | None = None,
) -> tuple[Settings, Observability]:
    """Settings with the options applied, and the component's observability (not serving yet)."""
    from tracesync.observability.logs import configure_logging
    from tracesync.observability.runtime import Observability

    updates: dict[str, object] = {}
    if log_format is not None:
        updates["log_format"] = log_format
    if metrics_port is not None:
        updates["metrics"] = settings.metrics.model_copy(update={"port": metrics_port})
    if startup_timeout is not None:
        updates["startup_timeout_s"] = startup_timeout
    if updates:
        settings = settings.model_copy(update=updates)
    if settings.log_format == "json":
        configure_logging("json")
    return settings, Observability(component, settings.metrics)


def command_error(exc: TracesyncError) -> click.ClickException | click.exceptions.Exit:
    """What a long-running command raises for ``exc``: a clean exit (status 0) when a signal
    stopped it while it waited for a dependency at start-up, else the error for the user."""
    if isinstance(exc, StartupInterruptedError):
        click.echo(f"{exc}; nothing was started", err=True)
        return click.exceptions.Exit(0)
    return click.ClickException(str(exc))
