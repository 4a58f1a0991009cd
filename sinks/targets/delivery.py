"""Delivering one notice to its target with retries, exactly once per idempotency key.

:class:`NoticeDelivery` skips a notice the ledger already holds, tries the target up to the
policy's attempts with exponential backoff and jitter, and records the notice in the ledger once
the target acknowledged it. A refusal, or the last failed attempt, comes back as the reason to
dead-letter the record; a stop request during a backoff raises :class:`SinkStoppedError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from sinks.targets.base import Target, TargetError
from sinks.targets.config import RetryPolicy
from sinks.targets.ledger import SentLedger
from sinks.targets.routing import Notice
from tracesync.errors import TracesyncError

log = logging.getLogger(__name__)


class SinkStoppedError(TracesyncError):
    """The sink was asked to stop while a notice waited for its next attempt."""


@dataclass
class SinkStats:
    """Counters, safe to bump from the delivery threads."""

    records: int = 0
    notices_sent: int = 0
    already_sent: int = 0
    stale_chains: int = 0
    attempts: int = 0
    dead_lettered: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, **counts: int) -> None:
        with self._lock:
            for name, count in counts.items():
                setattr(self, name, getattr(self, name) + count)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in vars(self).items() if not k.startswith("_")}


class NoticeDelivery:
    """Delivers one notice with retries; remembers it in the ledger once acknowledged."""

    def __init__(
        self,
        targets: Mapping[str, Target],
        ledger: SentLedger,
        retry: RetryPolicy,
        stop: threading.Event,
        stats: SinkStats,
    ) -> None:
        self.targets = targets
        self.ledger = ledger
        self.retry = retry
        self.stop = stop
        self.stats = stats

    def deliver(self, notice: Notice) -> str | None:
        """None when the target has the notice (now or before); else why it was given up."""
        if self.ledger.was_sent(notice.key):
            self.stats.add(already_sent=1)
            return None
        target = self.targets[notice.target]
        for attempt in range(1, self.retry.attempts + 1):
            self.stats.add(attempts=1)
            try:
                target.send(notice)
            except TargetError as exc:
                log.info("attempt %d of %s failed: %s", attempt, notice.key, exc.reason)
                if not exc.retriable:
                    return f"refused: {exc.reason}"
                if attempt == self.retry.attempts:
                    return f"failed after {attempt} attempts: {exc.reason}"
                if self.stop.wait(self.retry.delay(attempt)):
                    raise SinkStoppedError(f"stopped while retrying {notice.key}") from exc
                continue
            self.ledger.record_sent(notice)
            self.stats.add(notices_sent=1)
            return None
        raise AssertionError("unreachable: the loop returns on its last attempt")
