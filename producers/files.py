"""File drops: ``tracesync ingest files --mapping FILE --watch DIR`` as a Kafka source adapter.

Legacy systems drop CSV or XML exports into a folder. The adapter lists the folder every
``poll_interval_s`` and takes a file when it is complete, by either convention:

* a marker file ``<name>.done`` exists next to it (written by the exporter after the file; it is
  removed once the file is handled), or
* the file's size and modification time did not change for ``settle_s`` seconds.

Files are matched to a mapping by ``[file] patterns`` (globs); files no mapping matches are left
alone. Each row is mapped and validated (:mod:`producers.mapping`); the good rows are published
(event id = uuid5 of file checksum + row number) and acknowledged, then a :class:`FileReceipt`
goes to ``ingest.receipts`` (keyed by file name), the checksum is recorded in a durable ledger
(SQLite, ``<settings.home>/ingest/files-ledger.db``) and the file is moved to ``processed/`` — or
to ``rejected/`` when it is unreadable or no row could be published. Rejected rows are listed in
``<name>.errors.csv`` next to the moved file (row number, field, reason; rows count from 1, the
CSV header not counted). A file whose checksum is in the ledger is not published again: it is
moved to ``processed/`` with a ``<name>.duplicate.txt`` note and a DUPLICATE receipt.

Crash safety: before the ledger commit the file stays in the folder and is processed again on
restart (same event ids: nothing doubled in effect); after it, the ledger holds the outcome and
the report, and a restart only finishes the move.
"""

from __future__ import annotations

import csv
import datetime as dt
import fnmatch
import hashlib
import io
import logging
import sqlite3
import threading
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from producers.base import Publisher, SourceAdapter
from producers.mapping import (
    Converted,
    RowConverter,
    SourceMapping,
    derived_event_id,
)
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import ConfigurationError, TracesyncError
from tracesync.publisher import OutboundRecord
from tracesync.topics import TopicCatalog

log = logging.getLogger(__name__)

LEDGER_FILE = "files-ledger.db"
DONE_SUFFIX = ".done"
PROCESSED, REJECTED = "processed", "rejected"
_SKIPPED_SUFFIXES = (DONE_SUFFIX, ".tmp", ".part", ".partial")

Clock = Callable[[], float]


class UnreadableFileError(TracesyncError):
    """The file cannot be read as its mapping says (encoding, XML syntax, missing columns)."""


# -- which files are complete ---------------------------------------------------------------


@dataclass
class CompletenessTracker:
    """Decides when a dropped file is complete: a ``.done`` marker, or unchanged for a while."""

    settle_s: float
    clock: Clock = time.monotonic
    _seen: dict[Path, tuple[tuple[int, int], float]] = field(default_factory=dict)

    def ready(self, folder: Path) -> list[Path]:
        """Complete candidate files in ``folder``, oldest first."""
        now = self.clock()
        found: list[tuple[int, Path]] = []
        present: set[Path] = set()
        for path in folder.iterdir():
            if (
                not path.is_file()
                or path.name.startswith(".")
                or path.name.endswith(_SKIPPED_SUFFIXES)
            ):
                continue
            stat = path.stat()
            present.add(path)
            signature = (stat.st_size, stat.st_mtime_ns)
            previous = self._seen.get(path)
            if previous is None or previous[0] != signature:
                self._seen[path] = (signature, now)
                since = now
            else:
                since = previous[1]
            marker = path.with_name(path.name + DONE_SUFFIX)
            if marker.exists() or now - since >= self.settle_s:
                found.append((stat.st_mtime_ns, path))
        for gone in set(self._seen) - present:
            del self._seen[gone]
        return [p for _, p in sorted(found)]

    def forget(self, path: Path) -> None:
        self._seen.pop(path, None)


# -- reading rows ---------------------------------------------------------------------------


def read_rows(data: bytes, mapping: SourceMapping) -> list[dict[str, Any]]:
    """The records of a file as dicts (CSV: header -> value; XML: see :func:`element_row`)."""
    source = mapping.file
    if source is None:
        raise ConfigurationError(f"mapping {mapping.path} has no [file] table")
    if source.format == "xml":
        return _xml_rows(data, str(source.record_path))
    try:
        text = data.decode(source.encoding)
    except (UnicodeDecodeError, LookupError) as exc:
        raise UnreadableFileError(f"not {source.encoding} text: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=source.delimiter)
    try:
        rows = list(reader)
    except csv.Error as exc:
        raise UnreadableFileError(f"not valid CSV: {exc}") from exc
    header = set(reader.fieldnames or ())
    missing = sorted(mapping.events.columns() - header)
    if missing:
        raise UnreadableFileError(f"header lacks the column(s) {', '.join(missing)}")
    return rows


def _xml_rows(data: bytes, record_path: str) -> list[dict[str, Any]]:
    # expat (>= 2.4.1, as bundled) refuses entity-expansion bombs; no external entities are fetched.
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise UnreadableFileError(f"not well-formed XML: {exc}") from exc
    try:
        return [element_row(e) for e in root.iterfind(record_path)]
    except SyntaxError as exc:
        raise ConfigurationError(f"bad record_path {record_path!r}: {exc}") from exc


def element_row(element: ET.Element) -> dict[str, Any]:
    """An XML element as a row: attributes and leaf children by name (text); children with
    children or attributes become lists of rows; repeated leaf children become lists of text."""
    row: dict[str, Any] = dict(element.attrib)
    for child in element:
        if len(child) or child.attrib:
            row.setdefault(child.tag, [])
            if isinstance(row[child.tag], list):
                row[child.tag].append(element_row(child))
            continue
        text = (child.text or "").strip()
        if child.tag in row:
            existing = row[child.tag]
            row[child.tag] = [*existing, text] if isinstance(existing, list) else [existing, text]
        else:
            row[child.tag] = text
    return row


def row_problems(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Shape problems of a CSV row (too many or too few fields)."""
    problems = []
    if None in row:
        problems.append(("<row>", f"{len(row[None])} more field(s) than the header"))  # type: ignore[index]
    short = [k for k, v in row.items() if k is not None and v is None]
    if short:
        problems.append(("<row>", f"fewer fields than the header (no {', '.join(short)})"))
    return problems


# -- the ledger -----------------------------------------------------------------------------


@dataclass(frozen=True)
class LedgerEntry:
    checksum: str
    file_name: str
    outcome: str  # processed | rejected
    stored_as: str
    accepted: int
    rejected: int
    report: str
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


# -- the adapter ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one dropped file."""

    file_name: str
    status: str  # PROCESSED | REJECTED | DUPLICATE
    stored_as: str
    accepted: int
    rejected: int
    message: str


@dataclass(frozen=True)
class _Mapped:
    records: list[OutboundRecord]
    errors: list[tuple[int, str, str]]  # (row number, field, reason)


class FileDropIngest(SourceAdapter):
    """Dropped files of one folder -> acknowledged events, a receipt, and the file moved."""

    kind = "files"

    def __init__(
        self,
        folder: Path,
        mappings: Sequence[SourceMapping],
        publisher: Publisher,
        serde: EnvelopeSerde,
        topics: TopicCatalog,
        *,
        ledger: FileLedger,
        plant: str,
        publish_chunk: int = 1000,
    ) -> None:
        super().__init__(publisher, serde, topics.source_topic)
        for mapping in mappings:
            if mapping.file is None:
                raise ConfigurationError(f"mapping {mapping.path} has no [file] table")
        self.folder = folder
        self.mappings = list(mappings)
        self.ledger = ledger
        self.plant = plant
        self.publish_chunk = publish_chunk
        self.receipts_topic = topics.topic("ingest.receipts").name
        self.receipt_serde = RecordSerde.single_object("FileReceipt")
        self.converters = {m.name: RowConverter(m.events, serde, plant) for m in mappings}
        for sub in (PROCESSED, REJECTED):
            (folder / sub).mkdir(parents=True, exist_ok=True)

    def mapping_for(self, name: str) -> SourceMapping | None:
        for mapping in self.mappings:
            assert mapping.file is not None
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in mapping.file.patterns):
                return mapping
        return None

    def process(self, path: Path) -> FileOutcome | None:
        """Handle one complete file; None when no mapping matches it (it is left alone)."""
        mapping = self.mapping_for(path.name)
        if mapping is None:
            return None
        data = path.read_bytes()
        checksum = hashlib.sha256(data).hexdigest()
        known = self.ledger.get(checksum)
        if known is not None and not known.moved and known.file_name == path.name:
            return self._finish_move(path, known, mapping)  # crashed after the ledger commit
        if known is not None:
            return self._duplicate(path, checksum, known, mapping)
        outcome, report = self._publish_rows(path.name, data, checksum, mapping)
        entry = LedgerEntry(
            checksum=checksum,
            file_name=path.name,
            outcome=PROCESSED if outcome.status == "PROCESSED" else REJECTED,
            stored_as=outcome.stored_as,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            report=report,
            moved=False,
        )
        self.ledger.record(entry)
        self._finish_move(path, entry, mapping)
        return outcome

    def _publish_rows(
        self, name: str, data: bytes, checksum: str, mapping: SourceMapping
    ) -> tuple[FileOutcome, str]:
        try:
            rows = read_rows(data, mapping)
        except UnreadableFileError as exc:
            mapped = _Mapped([], [(0, "<file>", str(exc))])
            message = f"unreadable: {exc}"
        else:
            mapped = self._map(rows, checksum, mapping)
            published = len(mapped.records)
            message = f"{len(rows)} row(s), {published} published"
            if not rows:
                message = "no rows"
        for start in range(0, len(mapped.records), self.publish_chunk):
            self.publisher.publish(mapped.records[start : start + self.publish_chunk])
        accepted = len(mapped.records)
        status = "PROCESSED" if accepted else "REJECTED"
        stored = self._destination(name, checksum, PROCESSED if accepted else REJECTED)
        outcome = FileOutcome(
            name, status, stored, accepted, len({r for r, _, _ in mapped.errors}), message
        )
        self._send_receipt(outcome, checksum, mapping, receipt_key=checksum)
        return outcome, _report(mapped.errors)

    def _map(self, rows: list[dict[str, Any]], checksum: str, mapping: SourceMapping) -> _Mapped:
        converter = self.converters[mapping.name]
        records: list[OutboundRecord] = []
        errors: list[tuple[int, str, str]] = []
        for number, row in enumerate(rows, start=1):
            problems = row_problems(row)
            outcome = (
                None
                if problems
                else converter.convert(row, derived_event_id("file", checksum, number))
            )
            if isinstance(outcome, Converted):
                records.append(
                    self.record_for(outcome.envelope, mapping.source_system, outcome.batch_code)
                )
                continue
            problems += list(outcome.errors) if outcome is not None else []
            errors.extend((number, f, r) for f, r in problems)
        return _Mapped(records, errors)

    def _destination(self, name: str, checksum: str, sub: str) -> str:
        target = self.folder / sub / name
        if target.exists():  # same name, other content (a daily export): keep both
            target = target.with_name(f"{target.stem}.{checksum[:12]}{target.suffix}")
        return str(target.relative_to(self.folder))

    def _finish_move(self, path: Path, entry: LedgerEntry, mapping: SourceMapping) -> FileOutcome:
        target = self.folder / entry.stored_as
        if entry.report:
            _write_atomically(target.with_name(target.name + ".errors.csv"), entry.report)
        path.replace(target)
        _remove_marker(path)
        self.ledger.mark_moved(entry.checksum)
        status = "PROCESSED" if entry.outcome == PROCESSED else "REJECTED"
        log.info(
            "%s -> %s (%d accepted, %d rejected)",
            path.name,
            entry.stored_as,
            entry.accepted,
            entry.rejected,
        )
        return FileOutcome(path.name, status, entry.stored_as, entry.accepted, entry.rejected, "")

    def _duplicate(
        self, path: Path, checksum: str, known: LedgerEntry, mapping: SourceMapping
    ) -> FileOutcome:
        stored = self._destination(path.name, checksum, PROCESSED)
        target = self.folder / stored
        if target.exists() or stored == known.stored_as:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
            target = target.with_name(f"{target.stem}.dup-{stamp}{target.suffix}")
            stored = str(target.relative_to(self.folder))
        message = (
            f"duplicate of {known.file_name} (same sha256 {checksum}), handled before as "
            f"{known.stored_as} ({known.accepted} accepted, {known.rejected} rejected); "
            "nothing published"
        )
        outcome = FileOutcome(path.name, "DUPLICATE", stored, 0, 0, message)
        self._send_receipt(outcome, checksum, mapping, receipt_key=f"{checksum}:{stored}")
        _write_atomically(target.with_name(target.name + ".duplicate.txt"), message + "\n")
        path.replace(target)
        _remove_marker(path)
        log.info("%s is a duplicate of %s: moved to %s", path.name, known.file_name, stored)
        return outcome

    def _send_receipt(
        self, outcome: FileOutcome, checksum: str, mapping: SourceMapping, receipt_key: str
    ) -> None:
        receipt = {
            "receipt_id": derived_event_id("receipt", receipt_key),
            "file_name": outcome.file_name,
            "stored_as": outcome.stored_as,
            "checksum_sha256": checksum,
            "mapping": mapping.name,
            "source_system": mapping.source_system,
            "status": outcome.status,
            "rows_accepted": outcome.accepted,
            "rows_rejected": outcome.rejected,
            "message": outcome.message,
            "processed_at": dt.datetime.now(dt.UTC),
            "plant": self.plant,
        }
        record = OutboundRecord(
            topic=self.receipts_topic,
            key=outcome.file_name.encode(),
            value=self.receipt_serde.encode(receipt),
        )
        self.publisher.publish([record])

    # -- the watch loop -----------------------------------------------------------------------

    def run(
        self, stop: threading.Event, interval_s: float, settle_s: float, once: bool = False
    ) -> list[FileOutcome]:
        """Watch the folder until ``stop``; with ``once``, handle what is there now and return."""
        tracker = CompletenessTracker(0.0 if once else settle_s)
        outcomes: list[FileOutcome] = []
        while not stop.is_set():
            for path in tracker.ready(self.folder):
                if stop.is_set():
                    break
                outcome = self._attempt(path)
                if outcome is not None:
                    outcomes.append(outcome)
                    tracker.forget(path)
            if once:
                break
            stop.wait(interval_s)
        return outcomes

    def _attempt(self, path: Path) -> FileOutcome | None:
        started = time.monotonic()
        try:
            outcome = self.process(path)
        except (TracesyncError, OSError) as exc:
            log.error("%s: not handled, will retry: %s", path.name, exc)
            return None
        if outcome is not None:
            elapsed = time.monotonic() - started
            rate = outcome.accepted / elapsed if elapsed > 0 else 0.0
            log.info("%s: %s in %.2fs (%.0f rows/s)", path.name, outcome.status, elapsed, rate)
        return outcome


def _report(errors: list[tuple[int, str, str]]) -> str:
    if not errors:
        return ""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["row", "field", "reason"])
    writer.writerows(errors)
    return out.getvalue()


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def _remove_marker(path: Path) -> None:
    path.with_name(path.name + DONE_SUFFIX).unlink(missing_ok=True)
