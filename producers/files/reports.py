"""What a handled file leaves behind: notes and its FileReceipt record (the error report is
written as rows are read: :class:`producers.files.streaming.ErrorSpool`)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from producers.mapping import SourceMapping, derived_event_id

DONE_SUFFIX = ".done"


@dataclass(frozen=True)
class FileOutcome:
    """What happened to one dropped file."""

    file_name: str
    status: str  # PROCESSED | REJECTED | DUPLICATE
    stored_as: str
    accepted: int
    rejected: int
    message: str


def receipt(
    outcome: FileOutcome, checksum: str, mapping: SourceMapping, receipt_key: str, plant: str
) -> dict[str, Any]:
    """The FileReceipt record of an outcome (its id is derived: a re-sent receipt is the same)."""
    return {
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
        "plant": plant,
    }


def write_atomically(path: Path, text: str) -> None:
    """Write ``text`` under a temporary name, then rename it into place."""
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(text, encoding="utf-8")
    partial.replace(path)


def remove_marker(path: Path) -> None:
    """Remove the ``.done`` marker of ``path`` (if any)."""
    path.with_name(path.name + DONE_SUFFIX).unlink(missing_ok=True)
