"""Liveness and readiness of one process: named checks, evaluated when asked.

Liveness (``/healthz``) answers while the process serves requests. Readiness (``/readyz``) is
every registered check passing: a consumer is ready once its group is joined, a sink once its
database is reachable, an ingest once a broker answers. A check that raises counts as failing.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from tracesync.observability.metrics import Metrics

log = logging.getLogger(__name__)

Check = Callable[[], bool]


@dataclass(frozen=True)
class Readiness:
    """The outcome of the readiness checks: ready, and each check's result by name."""

    ready: bool
    checks: dict[str, bool]

    def as_json(self) -> dict[str, object]:
        return {"status": "ready" if self.ready else "not ready", "checks": self.checks}


class Health:
    """The readiness checks of one process; ``tracesync_ready`` follows them at each scrape."""

    def __init__(self, metrics: Metrics | None = None) -> None:
        self._checks: dict[str, Check] = {}
        self._lock = threading.Lock()
        if metrics is not None:
            metrics.ready.set_function(lambda: float(self.readiness().ready))

    def add(self, name: str, check: Check) -> None:
        """Register (or replace) a readiness check."""
        with self._lock:
            self._checks[name] = check

    def remove(self, name: str) -> None:
        """Drop a readiness check (no error when there is none of that name)."""
        with self._lock:
            self._checks.pop(name, None)

    def readiness(self) -> Readiness:
        with self._lock:
            checks = dict(self._checks)
        results = {name: _passes(name, check) for name, check in checks.items()}
        return Readiness(bool(results) and all(results.values()), results)


def _passes(name: str, check: Check) -> bool:
    try:
        return bool(check())
    except Exception:  # a broken check means "not ready", never a failed probe request
        log.exception("readiness check %s failed", name)
        return False


class Flag:
    """A readiness condition set by the component itself (e.g. partitions assigned)."""

    def __init__(self, value: bool = False) -> None:
        self._event = threading.Event()
        if value:
            self._event.set()

    def set(self, value: bool = True) -> None:
        if value:
            self._event.set()
        else:
            self._event.clear()

    def __call__(self) -> bool:
        return self._event.is_set()
