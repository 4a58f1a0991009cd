"""One complete dropped file -> acknowledged events, a receipt, a ledger entry, the file moved.

The file is read in chunks, never whole (:mod:`producers.files.streaming`). Each row is mapped
and validated (:mod:`producers.mapping`); the good rows are published (event id = uuid5 of file
checksum + row number) chunk by chunk and acknowledged, then a FileReceipt goes to
``ingest.receipts`` (keyed by file name), the checksum is recorded in the ledger and the file is
moved to ``processed/`` — or to ``rejected/`` when it is unreadable or no row could be published.
A file whose checksum is in the ledger is not published again (a DUPLICATE receipt and note).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import logging
from collections.abc import Sequence
from pathlib import Path

from producers.base import Publisher, SourceAdapter
from producers.files.completion import verify_unchanged
from producers.files.ledger import FileLedger, LedgerEntry
from producers.files.reports import FileOutcome, receipt, remove_marker, write_atomically
from producers.files.streaming import ErrorSpool, Published, Scan, publish_rows, scan
from producers.files.xml_records import record_steps
from producers.mapping import RowConverter, SourceMapping
from tracesync.contracts.record_serde import RecordSerde
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import ConfigurationError, TracesyncError
from tracesync.publisher import OutboundRecord
from tracesync.topics import TopicCatalog

log = logging.getLogger(__name__)

PROCESSED, REJECTED = "processed", "rejected"


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
            if mapping.file.format == "xml":
                record_steps(str(mapping.file.record_path))  # refused at start, not per file
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
            if mapping.file is not None and any(
                fnmatch.fnmatchcase(name, pattern) for pattern in mapping.file.patterns
            ):
                return mapping
        return None

    def process(self, path: Path) -> FileOutcome | None:
        """Handle one complete file; None when no mapping matches it (it is left alone).

        The file is read from disk in chunks, twice (:mod:`producers.files.streaming`): memory
        does not grow with its size. Raises :class:`FileChangedError` (nothing recorded, the
        file stays) when the file on disk is no longer what was checked, while publishing or
        after.
        """
        mapping = self.mapping_for(path.name)
        if mapping is None:
            return None
        checked = scan(path, mapping)
        read = checked.snapshot
        known = self.ledger.get(read.checksum)
        if known is not None and not known.moved and known.file_name == path.name:
            return self._finish_move(path, known, mapping)  # crashed after the ledger commit
        if known is not None:
            return self._duplicate(path, read.checksum, known, mapping)
        spool = ErrorSpool(self.folder / f".{read.checksum[:16]}.errors.csv.partial")
        try:
            published = self._publish(path, checked, mapping, spool)
            verify_unchanged(path, read, "while its rows were being published")
            outcome = self._outcome(path.name, checked, published)
            target = self.folder / outcome.stored_as
            spool.place(target.with_name(target.name + ".errors.csv"))
        except BaseException:
            spool.discard()
            raise
        self._send_receipt(outcome, read.checksum, mapping, receipt_key=read.checksum)
        entry = LedgerEntry(
            checksum=read.checksum,
            file_name=path.name,
            outcome=PROCESSED if outcome.status == "PROCESSED" else REJECTED,
            stored_as=outcome.stored_as,
            accepted=outcome.accepted,
            rejected=outcome.rejected,
            report="",  # in place next to the moved file's target already (spool.place)
            moved=False,
        )
        self.ledger.record(entry)
        self._finish_move(path, entry, mapping)
        return outcome

    def _publish(
        self, path: Path, checked: Scan, mapping: SourceMapping, spool: ErrorSpool
    ) -> Published:
        if checked.problem:
            spool.add(0, "<file>", checked.problem)
            return Published(0, 0, 0)
        return publish_rows(
            path,
            checked,
            mapping,
            converter=self.converters[mapping.name],
            record_for=self.record_for,
            publisher=self.publisher,
            chunk=self.publish_chunk,
            spool=spool,
        )

    def _outcome(self, name: str, checked: Scan, published: Published) -> FileOutcome:
        """The outcome, once the rows read are reconciled with the file as it is at the end."""
        accepted, rejected_rows = published.accepted, published.rejected
        if published.rows != accepted + rejected_rows:  # every row read: published or reported
            raise TracesyncError(
                f"{name!r}: {published.rows} row(s) read but {accepted} published and "
                f"{rejected_rows} rejected; not recorded"
            )
        read = checked.snapshot
        message = (
            f"unreadable: {checked.problem}"
            if checked.problem
            else f"{published.rows} row(s) read, {accepted} published, {rejected_rows} "
            f"rejected; the file at the end is the file read ({read.size} bytes, same sha256)"
            if published.rows
            else "no rows"
        )
        status = "PROCESSED" if accepted else "REJECTED"
        stored = self._destination(name, read.checksum, PROCESSED if accepted else REJECTED)
        rejected = 1 if checked.problem else rejected_rows  # an unreadable file counts as one
        return FileOutcome(name, status, stored, accepted, rejected, message)

    def _destination(self, name: str, checksum: str, sub: str) -> str:
        target = self.folder / sub / name
        if target.exists():  # same name, other content (a daily export): keep both
            target = target.with_name(f"{target.stem}.{checksum[:12]}{target.suffix}")
        return str(target.relative_to(self.folder))

    def _finish_move(self, path: Path, entry: LedgerEntry, mapping: SourceMapping) -> FileOutcome:
        target = self.folder / entry.stored_as
        if entry.report:
            write_atomically(target.with_name(target.name + ".errors.csv"), entry.report)
        path.replace(target)
        remove_marker(path)
        self.ledger.mark_moved(entry.checksum)
        status = "PROCESSED" if entry.outcome == PROCESSED else "REJECTED"
        log.info(
            "%r -> %r (%d accepted, %d rejected)",  # repr: a name may hold a newline
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
        write_atomically(target.with_name(target.name + ".duplicate.txt"), message + "\n")
        path.replace(target)
        remove_marker(path)
        log.info("%r is a duplicate of %r: moved to %r", path.name, known.file_name, stored)
        return outcome

    def _send_receipt(
        self, outcome: FileOutcome, checksum: str, mapping: SourceMapping, receipt_key: str
    ) -> None:
        value = receipt(outcome, checksum, mapping, receipt_key, self.plant)
        record = OutboundRecord(
            topic=self.receipts_topic,
            key=outcome.file_name.encode(),
            value=self.receipt_serde.encode(value),
        )
        self.publisher.publish([record])
