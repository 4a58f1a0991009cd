"""File-export transport for legacy targets: append JSON lines or CSV rows to a daily file.

Files are ``<directory>/<prefix>-YYYY-MM-DD.jsonl`` (or ``.csv``), by UTC date; every line or row
carries the idempotency key. A small SQLite ledger next to the files remembers which keys were
written, so a notice sent again is not appended again. A line is flushed to disk (fsync) before
its key enters the ledger; on start the newest file is read back so that a crash between the two
does not duplicate the line, and a torn last line (crash mid-write) is cut off.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, TextIO

import orjson

from sinks.targets.base import Target
from sinks.targets.routing import Notice
from tracesync.errors import ConfigurationError

ENVELOPE_COLUMNS = ("idempotency_key", "route", "batch_code", "fact_id", "chain_version")
_FORMATS = {"jsonl": "jsonl", "csv": "csv"}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()
    return str(value)


class FileTarget(Target):
    """A legacy target fed by daily export files (QMS requests, ...)."""

    transport: ClassVar[str] = "file"
    options: ClassVar[frozenset[str]] = frozenset({"directory", "format", "prefix", "columns"})

    def __init__(self, name: str, config: Mapping[str, Any], home: Path) -> None:
        super().__init__(name, config, home)
        directory = Path(self.option("directory", str, str(Path("targets") / name)))
        self.directory = directory if directory.is_absolute() else home / directory
        self.format = self.option("format", str, "jsonl")
        if self.format not in _FORMATS:
            raise ConfigurationError(f"target {name!r}: format must be one of {sorted(_FORMATS)}")
        self.prefix = self.option("prefix", str, name)
        columns = self.config.get("columns")
        self._columns: list[str] | None = [str(c) for c in columns] if columns else None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._ledger = sqlite3.connect(
            self.directory / f".{self.prefix}-ledger.sqlite", check_same_thread=False
        )
        self._ledger.execute("CREATE TABLE IF NOT EXISTS written (key TEXT PRIMARY KEY, file TEXT)")
        self._recover()

    # -- files --------------------------------------------------------------------------------

    def path_for(self, day: datetime) -> Path:
        return self.directory / f"{self.prefix}-{day:%Y-%m-%d}.{self.format}"

    def _files(self) -> list[Path]:
        return sorted(self.directory.glob(f"{self.prefix}-*.{self.format}"))

    def _recover(self) -> None:
        files = self._files()
        if not files:
            return
        newest = files[-1]
        _cut_torn_tail(newest)
        keys = [(key, newest.name) for key in self._keys_in(newest)]
        with self._ledger:
            self._ledger.executemany("INSERT OR IGNORE INTO written VALUES (?, ?)", keys)

    def _keys_in(self, path: Path) -> list[str]:
        text = path.read_text(encoding="utf-8")
        if self.format == "csv":
            return [row["idempotency_key"] for row in csv.DictReader(io.StringIO(text))]
        return [orjson.loads(line)["idempotency_key"] for line in text.splitlines() if line]

    def _csv_header(self, path: Path, notice: Notice) -> list[str]:
        if path.exists() and path.stat().st_size > 0:
            with path.open(encoding="utf-8", newline="") as existing:
                return next(csv.reader(existing))
        return [*ENVELOPE_COLUMNS, *(self._columns or list(notice.payload))]

    # -- sending ------------------------------------------------------------------------------

    def send(self, notice: Notice) -> None:
        with self._lock:
            if self._already_written(notice.key):
                return
            path = self.path_for(datetime.now(UTC))
            try:
                self._append(path, notice)
                with self._ledger:
                    self._ledger.execute(
                        "INSERT OR IGNORE INTO written VALUES (?, ?)", (notice.key, path.name)
                    )
            except OSError as exc:
                raise self.error(f"cannot write {path}: {exc}", retriable=True) from exc

    def _already_written(self, key: str) -> bool:
        found = self._ledger.execute("SELECT 1 FROM written WHERE key = ?", (key,)).fetchone()
        return found is not None

    def _append(self, path: Path, notice: Notice) -> None:
        envelope = {
            "idempotency_key": notice.key,
            "route": notice.route,
            "batch_code": notice.batch_code,
            "fact_id": notice.fact_id,
            "chain_version": notice.version,
        }
        if self.format == "csv":
            header = self._csv_header(path, notice)
            with path.open("a", encoding="utf-8", newline="") as out:
                writer = csv.writer(out)
                if out.tell() == 0:
                    writer.writerow(header)
                fields = envelope | dict(notice.payload)
                writer.writerow([_cell(fields.get(column)) for column in header])
                _sync(out)
            return
        line = orjson.dumps(envelope | {"payload": notice.payload}).decode() + "\n"
        with path.open("a", encoding="utf-8") as out:
            out.write(line)
            _sync(out)

    def close(self) -> None:
        self._ledger.close()


def _sync(out: TextIO) -> None:
    out.flush()
    os.fsync(out.fileno())


def _cut_torn_tail(path: Path) -> None:
    """Cut a last line that was not finished (no newline): it was never acknowledged."""
    data = path.read_bytes()
    if not data or data.endswith(b"\n"):
        return
    with path.open("r+b") as out:
        out.truncate(data.rfind(b"\n") + 1)
