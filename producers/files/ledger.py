"""The durable ledger of handled files: checksum -> outcome, report and whether it was moved.

A small SQLite file (``<settings.home>/ingest/files-ledger.db``, WAL, synchronous FULL): once a
file's entry is committed, a restart never publishes that content again; it only finishes the
move the entry records (the error report is in place before the commit; entries of older
versions carry its text, written when the move is finished).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from dataclasses import dataclass
from pathlib import Path

LEDGER_FILE = "files-ledger.db"


@dataclass(frozen=True)
class LedgerEntry:
    """What was done with one file's content."""

    checksum: str
    file_name: str
    outcome: str  # processed | rejected
    stored_as: str
    accepted: int
    rejected: int
    report: str  # error report text of entries recorded before reports were spooled; now empty
    moved: bool


class FileLedger:
    """Checksums of handled files with their outcome, in a small SQLite file."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute(
            "CREATE TABLE IF NOT EXISTS files (checksum TEXT PRIMARY KEY, file_name TEXT NOT NULL,"
            " outcome TEXT NOT NULL, stored_as TEXT NOT NULL, accepted INTEGER NOT NULL,"
            " rejected INTEGER NOT NULL, report TEXT NOT NULL, moved INTEGER NOT NULL,"
            " recorded_at TEXT NOT NULL)"
        )

    def get(self, checksum: str) -> LedgerEntry | None:
        row = self._db.execute(
            "SELECT checksum, file_name, outcome, stored_as, accepted, rejected, report, moved "
            "FROM files WHERE checksum = ?",
            (checksum,),
        ).fetchone()
        if row is None:
            return None
        checksum, name, outcome, stored_as, accepted, rejected, report, moved = row
        return LedgerEntry(
            checksum, name, outcome, stored_as, accepted, rejected, report, bool(moved)
        )

    def record(self, entry: LedgerEntry) -> None:
        self._db.execute(
            "INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                entry.checksum,
                entry.file_name,
                entry.outcome,
                entry.stored_as,
                entry.accepted,
                entry.rejected,
                entry.report,
                int(entry.moved),
                dt.datetime.now(dt.UTC).isoformat(),
            ),
        )

    def mark_moved(self, checksum: str) -> None:
        self._db.execute("UPDATE files SET moved = 1 WHERE checksum = ?", (checksum,))

    def close(self) -> None:
        self._db.close()
