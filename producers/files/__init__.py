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

Modules: ``completion`` (when a file is complete), ``readers`` (CSV/XML rows), ``ingest`` (one
file: publish, receipt, ledger, move), ``ledger``, ``reports`` (error report, receipt) and
``watcher`` (the loop).

Crash safety: before the ledger commit the file stays in the folder and is processed again on
restart (same event ids: nothing doubled in effect); after it, the ledger holds the outcome and
the report, and a restart only finishes the move.
"""

from producers.files.completion import CompletenessTracker
from producers.files.ingest import PROCESSED, REJECTED, FileDropIngest
from producers.files.ledger import LEDGER_FILE, FileLedger, LedgerEntry
from producers.files.readers import UnreadableFileError, element_row, read_rows, row_problems
from producers.files.reports import DONE_SUFFIX, FileOutcome
from producers.files.watcher import watch

__all__ = [
    "DONE_SUFFIX",
    "LEDGER_FILE",
    "PROCESSED",
    "REJECTED",
    "CompletenessTracker",
    "FileDropIngest",
    "FileLedger",
    "FileOutcome",
    "LedgerEntry",
    "UnreadableFileError",
    "element_row",
    "read_rows",
    "row_problems",
    "watch",
]
