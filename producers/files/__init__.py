"""File drops: ``tracesync ingest files --mapping FILE --watch DIR`` as a Kafka source adapter.

Legacy systems drop CSV or XML exports into a folder. The adapter lists the folder every
``poll_interval_s`` and takes a file when it is complete (:mod:`producers.files.completion`):

* ``completion = "marker"`` (the default): a marker file ``<name>.done`` exists next to it
  (written by the exporter after it closed the file; removed once the file is handled);
* ``completion = "rename"``: the exporter writes under a name the watcher skips (a leading dot,
  or ``.tmp``/``.part``/``.partial``) and renames the file into place when it is complete;
* ``completion = "settled"`` (opt-in, for exporters that can do neither): the file's size and
  modification time did not change for ``settle_s``. This cannot tell a writer that paused from
  one that finished; the checks below catch a writer that resumes while the file is being
  ingested, not one that resumes after the file was moved.

Whatever the protocol, the file is checked against what was read (size and SHA-256) before its
rows are published and again before it is recorded and moved, and the rows read are reconciled
with what was published and rejected. A file that changed stays where it is, nothing about it is
recorded, and it is read again once complete (its new content gets new event ids: rows already
published from the earlier content may then appear twice, with the same ``source_ref`` and
``source_seq``).

Files are matched to a mapping by ``[file] patterns`` (globs); files no mapping matches are left
alone. Each row is mapped and validated (:mod:`producers.mapping`); the good rows are published
(event id = uuid5 of file checksum + row number) and acknowledged, then a :class:`FileReceipt`
goes to ``ingest.receipts`` (keyed by file name), the checksum is recorded in a durable ledger
(SQLite, ``<settings.home>/ingest/files-ledger.db``) and the file is moved to ``processed/`` — or
to ``rejected/`` when it is unreadable or no row could be published. Rejected rows are listed in
``<name>.errors.csv`` next to the moved file (row number, field, reason; rows count from 1, the
CSV header not counted). A file whose checksum is in the ledger is not published again: it is
moved to ``processed/`` with a ``<name>.duplicate.txt`` note and a DUPLICATE receipt.

Memory does not grow with a file's size: the file is read from disk in chunks, twice
(:mod:`producers.files.streaming`): once to hash it and parse every record without keeping it
(an unreadable file is rejected before anything is published), then to map its rows and publish
them ``publish_chunk`` at a time, each chunk acknowledged before the next is read; bad rows go
to the error report on disk as they come. Both passes must agree on bytes and record count.

Modules: ``completion`` (when a file is complete), ``readers`` (CSV rows, the hashing reader),
``xml_records`` (XML records streamed), ``streaming`` (the two passes, the error spool),
``ingest`` (one file: publish, receipt, ledger, move), ``ledger``, ``reports`` (receipt, notes),
``errors`` and ``watcher`` (the loop).

Crash safety: before the ledger commit the file stays in the folder and is processed again on
restart from its first row (same event ids: nothing doubled in effect); the error report is put
in place next to the moved file's target before the commit, so after it the ledger holds the
outcome and a restart only finishes the move.
"""

from producers.files.completion import (
    CompletenessTracker,
    Completion,
    FileChangedError,
    FileSnapshot,
)
from producers.files.ingest import PROCESSED, REJECTED, FileDropIngest
from producers.files.ledger import LEDGER_FILE, FileLedger, LedgerEntry
from producers.files.readers import (
    HashingReader,
    UnreadableFileError,
    element_row,
    iter_rows,
    read_rows,
    row_problems,
)
from producers.files.reports import DONE_SUFFIX, FileOutcome
from producers.files.watcher import watch

__all__ = [
    "DONE_SUFFIX",
    "LEDGER_FILE",
    "PROCESSED",
    "REJECTED",
    "CompletenessTracker",
    "Completion",
    "FileChangedError",
    "FileDropIngest",
    "FileLedger",
    "FileOutcome",
    "FileSnapshot",
    "HashingReader",
    "LedgerEntry",
    "UnreadableFileError",
    "element_row",
    "iter_rows",
    "read_rows",
    "row_problems",
    "watch",
]
