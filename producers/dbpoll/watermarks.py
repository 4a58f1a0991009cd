"""The durable watermark of poll mode: the last handled value of each mapping's watermark column.

Kept in a small SQLite file (``<settings.home>/ingest/dbpoll-watermarks.db``, WAL, synchronous
FULL), one row per mapping, typed (int, decimal, timestamp or text) so comparisons in the source
database keep their meaning across restarts.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from decimal import Decimal
from pathlib import Path
from typing import Any

from tracesync.errors import ConfigurationError

WATERMARK_FILE = "dbpoll-watermarks.db"


class WatermarkStore:
    """Last handled watermark value per mapping, in a small SQLite file (committed per step)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed watermark survives power loss
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS watermarks (source TEXT PRIMARY KEY, "
            "value TEXT NOT NULL, updated_at TEXT NOT NULL)"
        )

    def get(self, source: str) -> Any:
        row = self._db.execute(
            "SELECT value FROM watermarks WHERE source = ?", (source,)
        ).fetchone()
        return None if row is None else _decode_watermark(row[0])

    def set(self, source: str, value: Any) -> None:
        self._db.execute(
            "INSERT INTO watermarks (source, value, updated_at) VALUES (?, ?, ?) "
            "ON CONFLICT (source) DO UPDATE SET value = excluded.value, "
            "updated_at = excluded.updated_at",
            (source, _encode_watermark(value), dt.datetime.now(dt.UTC).isoformat()),
        )

    def close(self) -> None:
        self._db.close()


def _encode_watermark(value: Any) -> str:
    if isinstance(value, bool):
        raise ConfigurationError(f"watermark column holds a boolean ({value!r})")
    if isinstance(value, int):
        return json.dumps({"int": value})
    if isinstance(value, Decimal):
        return json.dumps({"decimal": str(value)})
    if isinstance(value, dt.datetime):
        return json.dumps({"datetime": value.isoformat()})
    if isinstance(value, str):
        return json.dumps({"str": value})
    raise ConfigurationError(f"cannot keep a watermark of type {type(value).__name__}")


def _decode_watermark(text: str) -> Any:
    ((kind, value),) = json.loads(text).items()
    if kind == "decimal":
        return Decimal(value)
    if kind == "datetime":
        return dt.datetime.fromisoformat(value)
    return value
