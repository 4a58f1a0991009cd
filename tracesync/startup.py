"""Waiting at start-up for what a component needs: the broker, the registry, a database.

Every composition root calls :func:`wait_for_dependencies` before it builds anything that talks
to them, so a component started while the registry restarts or PostgreSQL is away waits instead
of exiting. Each dependency is probed until it answers, with capped exponential backoff and
jitter (:class:`Backoff`); each failed attempt is logged once, naming the dependency (URLs with
their password masked); while it waits, readiness is false with a check named after it
(``waiting for <dependency>``) and liveness stays true. SIGTERM/SIGINT end the wait at once
(:class:`StartupInterruptedError`); ``settings.startup_timeout_s`` bounds it (None: wait forever,
0: fail at the first failed attempt, as before this module existed).
"""

from __future__ import annotations

import logging
import random
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tracesync.errors import InfrastructureError, TracesyncError

if TYPE_CHECKING:
    from tracesync.observability.health import Health
    from tracesync.settings import KafkaSettings, RegistrySettings, Settings

log = logging.getLogger(__name__)

Probe = Callable[[], object]
"""Returns when the dependency answers; raises (anything) when it does not."""

_PASSWORD_IN_URL = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*://[^:/@\s]*):[^@\s]*@")


def mask_url(text: str) -> str:
    """``text`` with the password of every ``scheme://user:password@`` in it replaced by ***."""
    return _PASSWORD_IN_URL.sub(r"\g<scheme>:***@", text)


@dataclass(frozen=True)
class Backoff:
    """Capped exponential backoff with full-range jitter: attempt ``n`` (0-based) waits
    ``min(max_s, initial_s * factor**n)`` scaled by a random factor in ``[1 - jitter, 1]``."""

    initial_s: float = 0.5
    max_s: float = 10.0
    factor: float = 2.0
    jitter: float = 0.25

    def base(self, attempt: int) -> float:
        """The wait after failed attempt ``attempt`` before jitter."""
        # capped before the power overflows: 2**1100 is not a float
        return min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))

    def delays(self, rng: random.Random | None = None) -> Iterator[float]:
        """The waits after each failed attempt, without end."""
        draw = rng or random.Random()  # noqa: S311 (jitter, not a secret)
        attempt = 0
        while True:
            yield self.base(attempt) * (1.0 - self.jitter * draw.random())
            attempt += 1


@dataclass(frozen=True)
class Dependency:
    """Something a component needs before it starts, and how to tell it answers."""

    name: str
    """what the log and the readiness check say, e.g. ``schema registry at http://...``"""
    probe: Probe


class DependencyUnavailableError(InfrastructureError):
    """A dependency did not answer within ``startup_timeout_s``."""


class StartupInterruptedError(TracesyncError):
    """SIGTERM or SIGINT arrived while waiting for a dependency: nothing was started."""


def wait_for_dependencies(
    settings: Settings,
    dependencies: Sequence[Dependency],
    *,
    health: Health | None = None,
    stop: threading.Event | None = None,
    backoff: Backoff | None = None,
) -> None:
    """Return once every dependency answered, in order; see the module's docstring."""
    plan = backoff or Backoff(max_s=settings.startup_backoff_max_s)
    with _stop_on_signals(stop) as stopping:
        for dependency in dependencies:
            wait_for(dependency, settings.startup_timeout_s, stopping, health=health, backoff=plan)


def wait_for(
    dependency: Dependency,
    timeout_s: float | None,
    stop: threading.Event,
    *,
    health: Health | None = None,
    backoff: Backoff | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """Probe ``dependency`` until it answers; the number of failed attempts."""
    check = f"waiting for {dependency.name}"
    deadline = None if timeout_s is None else clock() + timeout_s
    delays = (backoff or Backoff()).delays()
    attempt = 0
    try:
        while True:
            if stop.is_set():
                raise StartupInterruptedError(f"stopped while {check}")
            try:
                dependency.probe()
            except Exception as exc:  # any failure to answer means "not yet"
                attempt += 1
                delay = next(delays)
                reason = mask_url(f"{type(exc).__name__}: {exc}")[:500]
                if deadline is not None and clock() + delay > deadline:
                    raise DependencyUnavailableError(
                        f"{dependency.name} did not answer within {timeout_s:g} s "
                        f"(startup_timeout_s): {reason}"
                    ) from exc
                if health is not None and attempt == 1:
                    health.add(check, lambda: False)
                log.warning(
                    "%s (attempt %d failed: %s); next try in %.1f s",
                    check,
                    attempt,
                    reason,
                    delay,
                )
                stop.wait(delay)
                continue
            if attempt:
                log.info("%s answered after %d failed attempt(s)", dependency.name, attempt)
            return attempt
    finally:
        if health is not None:
            health.remove(check)


@contextmanager
def _stop_on_signals(stop: threading.Event | None) -> Iterator[threading.Event]:
    """``stop`` itself when given (its owner handles the signals); otherwise an event set by
    SIGTERM/SIGINT while the wait lasts (main thread only), the former handlers restored after."""
    if stop is not None:
        yield stop
        return
    event = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield event
        return
    signals = (signal.SIGTERM, signal.SIGINT)
    before = {signum: signal.getsignal(signum) for signum in signals}
    for signum in signals:
        signal.signal(signum, lambda *_: event.set())
    try:
        yield event
    finally:
        for signum, handler in before.items():
            signal.signal(signum, handler)


def kafka_broker(kafka: KafkaSettings) -> Dependency:
    """The broker answers a metadata request."""

    def probe() -> None:
        from tracesync.kafka_clients import admin_client  # noqa: PLC0415 (confluent-kafka)

        admin_client(kafka).list_topics(timeout=5)

    return Dependency(f"Kafka broker at {kafka.bootstrap_servers}", probe)


def schema_registry(registry: RegistrySettings) -> Dependency:
    """The registry answers a request for its global compatibility rule."""

    def probe() -> None:
        from tracesync.contracts.registry_client import SchemaRegistry  # noqa: PLC0415

        with SchemaRegistry(registry.url, timeout_s=5, max_retries=0) as client:
            client.compatibility()

    return Dependency(f"schema registry at {registry.url}", probe)


def database(role: str, url: str) -> Dependency:
    """The database at ``url`` answers ``SELECT 1`` (a SQLite file: its folder is made)."""

    def probe() -> None:
        from sqlalchemy import create_engine, make_url, text  # noqa: PLC0415 (heavy)

        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            return  # a file: nothing to wait for; opening it makes it
        connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
        engine = create_engine(url, connect_args=connect_args)
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()

    return Dependency(f"{role} at {mask_url(url)}", probe)


def messaging(settings: Settings) -> list[Dependency]:
    """The broker, and the registry when the Confluent wire format is on."""
    found = [kafka_broker(settings.kafka)]
    if settings.registry.enabled:
        found.append(schema_registry(settings.registry))
    return found
