"""The targets sink's memory: which notices were acknowledged, and the newest chain seen per batch.

A SQLite file under ``<home>/targets/`` keyed by idempotency key. A key enters the ledger only
after its target acknowledged the notice, so a re-delivered chain does not send it again; a notice
that was dead-lettered is not in it, so a redriven chain sends it. The newest chain version handled
per batch lets the sink skip an older chain (a redriven one, say) whose facts a newer chain already
carried: chains are whole states, not deltas.
"""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from pathlib import Path

from sinks.targets.routing import Notice
from tracesync.errors import InfrastructureError

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS sent (
        key TEXT PRIMARY KEY, route TEXT NOT NULL, target TEXT NOT NULL,
        batch_code TEXT NOT NULL, fact_id TEXT NOT NULL, version INTEGER NOT NULL,
        sent_at TEXT NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS batches (
        batch_code TEXT PRIMARY KEY, version INTEGER NOT NULL)""",
)


class SentLedger:
    """Thread-safe ledger of acknowledged notices (one SQLite connection behind a lock)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            for statement in _SCHEMA:
                self._db.execute(statement)
        except sqlite3.Error as exc:
            raise InfrastructureError(f"cannot open the targets ledger {path}: {exc}") from exc

    def was_sent(self, key: str) -> bool:
        with self._lock:
            row = self._db.execute("SELECT 1 FROM sent WHERE key = ?", (key,)).fetchone()
        return row is not None

    def record_sent(self, notice: Notice) -> None:
        row = (
            notice.key,
            notice.route,
            notice.target,
            notice.batch_code,
            notice.fact_id,
            notice.version,
            datetime.now(UTC).isoformat(),
        )
        with self._lock:
            self._db.execute("INSERT OR IGNORE INTO sent VALUES (?, ?, ?, ?, ?, ?, ?)", row)

    def newest_version(self, batch_code: str) -> int | None:
        with self._lock:
            row = self._db.execute(
                "SELECT version FROM batches WHERE batch_code = ?", (batch_code,)
            ).fetchone()
        return int(row[0]) if row is not None else None

    def record_version(self, batch_code: str, version: int) -> None:
        with self._lock:
            self._db.execute(
                "INSERT INTO batches VALUES (?, ?) ON CONFLICT (batch_code) DO UPDATE "
                "SET version = excluded.version WHERE batches.version < excluded.version",
                (batch_code, version),
            )

    def sent_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM sent").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
