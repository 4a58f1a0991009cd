"""What the store sink needs from a trace store: one call that writes a batch in one transaction.

:class:`StoreWriter` is the port; :class:`sinks.store.database.TraceStore` is the real adapter
(SQLite and PostgreSQL) and unit tests use a fake. A write either commits everything it was given
and says what it did (:class:`WriteResult`), or changes nothing and raises one of two errors:
:class:`StoreUnavailableError` (the database cannot be reached or is busy; the same write may
succeed later) or :class:`StoreRejectedError` (the database refused the data itself; retrying the
same data will not help).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sinks.store.rows import ChainRows, Row
from tracesync.errors import InfrastructureError, TracesyncError


class StoreUnavailableError(InfrastructureError):
    """The database cannot be reached or is busy; the same write may succeed later."""


class StoreRejectedError(TracesyncError):
    """The database refused the data itself (constraint, type); retrying will not help."""


@dataclass(frozen=True)
class WriteResult:
    """What one write did: batch rows written, chains skipped as not newer, alerts inserted."""

    written: int
    stale: int
    alerts: int


class StoreWriter(Protocol):
    """Writes chains (a batch row only when its version is newer than the stored one, its child
    rows with it) and new alerts, all in one transaction."""

    def write(self, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()) -> WriteResult:
        """Store ``chains`` and ``alerts``; raises StoreUnavailableError or StoreRejectedError."""
        ...
