"""Reading the records of a dropped file as a stream: CSV rows by header, XML elements as rows.

Readers take a binary stream and yield plain dicts (column -> value) for
:mod:`producers.mapping` one at a time, so a file of any size is read in constant memory; a file
that cannot be read as its mapping says raises :class:`UnreadableFileError` with the reason (from
the record where it turns out). :class:`HashingReader` counts and hashes the bytes read.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Iterator, Mapping
from collections.abc import Set as AbstractSet
from typing import IO, Any

from producers.files.completion import FileSnapshot
from producers.files.errors import UnreadableFileError
from producers.files.xml_records import element_row, xml_rows
from producers.mapping import SourceMapping
from producers.mapping.model import FileSource
from tracesync.errors import ConfigurationError

__all__ = [
    "HashingReader",
    "UnreadableFileError",
    "element_row",
    "iter_rows",
    "read_rows",
    "row_problems",
]

_CHUNK = 256 * 1024


class HashingReader(io.RawIOBase):
    """A binary file read through, at most ``limit`` bytes, counting and hashing what it gave."""

    def __init__(self, raw: IO[bytes], limit: int | None = None) -> None:
        self._raw = raw
        self._left = limit
        self._digest = hashlib.sha256()
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        if self._left is not None:
            view = view[: self._left]
        n = self._raw.readinto(view) or 0  # type: ignore[attr-defined]
        self._digest.update(view[:n])
        self.size += n
        if self._left is not None:
            self._left -= n
        return n

    def snapshot(self) -> FileSnapshot:
        """Size and SHA-256 of everything up to the end (or the limit), reading what is left."""
        buffer = bytearray(_CHUNK)
        while self.readinto(buffer):
            pass
        return FileSnapshot(self.size, self._digest.hexdigest())


def iter_rows(stream: IO[bytes], mapping: SourceMapping) -> Iterator[dict[str, Any]]:
    """The records of a binary stream, one dict at a time (CSV: header -> value; XML: see
    :func:`element_row`)."""
    source = mapping.file
    if source is None:
        raise ConfigurationError(f"mapping {mapping.path} has no [file] table")
    if source.format == "xml":
        return xml_rows(stream, str(source.record_path))
    return _csv_rows(stream, source, mapping.events.columns())


def read_rows(data: bytes, mapping: SourceMapping) -> list[dict[str, Any]]:
    """Every record of a file held in memory (small files: samples, previews, tests)."""
    return list(iter_rows(io.BytesIO(data), mapping))


def _csv_rows(
    stream: IO[bytes], source: FileSource, columns: AbstractSet[str]
) -> Iterator[dict[str, Any]]:
    try:
        text = io.TextIOWrapper(stream, encoding=source.encoding, newline="")
    except LookupError as exc:
        raise UnreadableFileError(f"not {source.encoding} text: {exc}") from exc
    try:
        reader = csv.DictReader(text, delimiter=source.delimiter)
        missing = sorted(columns - set(reader.fieldnames or ()))
        if missing:
            raise UnreadableFileError(f"header lacks the column(s) {', '.join(missing)}")
        yield from reader
    except UnicodeDecodeError as exc:
        raise UnreadableFileError(f"not {source.encoding} text: {exc}") from exc
    except csv.Error as exc:
        raise UnreadableFileError(f"not valid CSV: {exc}") from exc
    finally:
        text.detach()  # the caller's stream stays open (it hashes what is left)


def row_problems(row: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Shape problems of a CSV row (too many or too few fields)."""
    problems = []
    if None in row:
        problems.append(("<row>", f"{len(row[None])} more field(s) than the header"))  # type: ignore[index]
    short = [k for k, v in row.items() if k is not None and v is None]
    if short:
        problems.append(("<row>", f"fewer fields than the header (no {', '.join(short)})"))
    return problems
