"""One file read twice from disk, in constant memory: a check, then the rows mapped and published.

:func:`scan` reads the whole file once (size, SHA-256, every record parsed and counted, nothing
kept): the checksum names the content (ledger, event ids) and an unreadable file is rejected
before anything is published. :func:`publish_rows` reads the same bytes again (no more than were
checked), maps each row, publishes the good ones ``chunk`` at a time (each chunk acknowledged by
the broker before the next is read: the publisher's flow control) and writes each bad row to the
:class:`ErrorSpool` on disk; at the end, the bytes read must be the bytes checked and the rows
mapped must be the rows counted (otherwise the file changed in between: FileChangedError).
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from producers.base import Publisher
from producers.files.completion import FileChangedError, FileSnapshot
from producers.files.errors import UnreadableFileError
from producers.files.readers import HashingReader, iter_rows, row_problems
from producers.mapping import Converted, RowConverter, SourceMapping, derived_event_id
from tracesync.publisher import OutboundRecord

RecordFor = Callable[[Any, str, str], OutboundRecord]
"""(envelope, source system, batch code) -> the record to publish"""


@dataclass(frozen=True)
class Scan:
    """What the check of a file found: its snapshot, its records, why it is unreadable."""

    snapshot: FileSnapshot
    rows: int
    problem: str = ""  # set when the file cannot be read as its mapping says


@dataclass(frozen=True)
class Published:
    """What the publishing pass did: rows read, published and rejected."""

    rows: int
    accepted: int
    rejected: int  # rows with at least one problem


@contextmanager
def _reading(path: Path, limit: int | None = None) -> Iterator[tuple[HashingReader, IO[bytes]]]:
    with path.open("rb", buffering=0) as raw:
        hashing = HashingReader(raw, limit)
        yield hashing, io.BufferedReader(hashing, 256 * 1024)


def scan(path: Path, mapping: SourceMapping) -> Scan:
    """Size, SHA-256 and record count of ``path``, or why it cannot be read (one pass)."""
    with _reading(path) as (hashing, stream):
        rows, problem = 0, ""
        try:
            for _ in iter_rows(stream, mapping):
                rows += 1
        except UnreadableFileError as exc:
            problem = str(exc)
        return Scan(hashing.snapshot(), rows, problem)


class ErrorSpool:
    """The rows rejected so far as ``<name>.errors.csv`` lines, written to a hidden file."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.rows = 0  # distinct rows with a problem
        self._last_row = -1
        self._file: IO[str] | None = None
        self._writer: Any = None

    def add(self, row: int, field: str, reason: str) -> None:
        if self._file is None:
            self._file = self.path.open("w", encoding="utf-8", newline="")
            self._writer = csv.writer(self._file, lineterminator="\n")
            self._writer.writerow(["row", "field", "reason"])
        self._writer.writerow([row, field, reason])
        if row != self._last_row:  # a row's problems come together
            self.rows += 1
            self._last_row = row

    def place(self, target: Path) -> None:
        """Move the report to ``target`` (durably); without errors, remove a stale one there."""
        if self._file is None:
            target.unlink(missing_ok=True)
            return
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None
        self.path.replace(target)
        self.rows, self._last_row = 0, -1

    def discard(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
        self.path.unlink(missing_ok=True)


def publish_rows(
    path: Path,
    checked: Scan,
    mapping: SourceMapping,
    *,
    converter: RowConverter,
    record_for: RecordFor,
    publisher: Publisher,
    chunk: int,
    spool: ErrorSpool,
) -> Published:
    """Map and publish the rows of ``path`` chunk by chunk; bad rows go to ``spool``."""
    checksum = checked.snapshot.checksum
    pending: list[OutboundRecord] = []
    rows = accepted = 0
    with _reading(path, checked.snapshot.size) as (hashing, stream):
        try:
            for rows, row in enumerate(iter_rows(stream, mapping), start=1):
                problems = row_problems(row)
                outcome = (
                    None
                    if problems
                    else converter.convert(row, derived_event_id("file", checksum, rows))
                )
                if isinstance(outcome, Converted):
                    env = outcome.envelope
                    pending.append(record_for(env, mapping.source_system, outcome.batch_code))
                    if len(pending) >= chunk:
                        accepted += _flush(publisher, pending)
                    continue
                for field, reason in problems + (list(outcome.errors) if outcome else []):
                    spool.add(rows, field, reason)
        except UnreadableFileError as exc:  # it was readable when checked
            raise FileChangedError(f"{path.name!r} changed while it was being read: {exc}") from exc
        accepted += _flush(publisher, pending)
        read = hashing.snapshot()
    if read != checked.snapshot or rows != checked.rows:
        raise FileChangedError(
            f"{path.name!r} changed while it was being read: {checked.rows} record(s) in "
            f"{checked.snapshot.size} bytes when checked, {rows} in {read.size} bytes "
            f"(sha256 {read.checksum[:12]}) when published; it will be read again once complete"
        )
    return Published(rows, accepted, spool.rows)


def _flush(publisher: Publisher, pending: list[OutboundRecord]) -> int:
    """Publish ``pending`` (blocks until every record is acknowledged); how many it held."""
    count = len(pending)
    if pending:
        publisher.publish(pending)
        pending.clear()
    return count
