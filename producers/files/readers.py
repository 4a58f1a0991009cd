"""Reading the records of a dropped file: CSV rows by header, XML elements as rows.

Readers give plain dicts (column -> value) for :mod:`producers.mapping`; a file that cannot be
read as its mapping says raises :class:`UnreadableFileError` with the reason.
"""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from producers.mapping import SourceMapping
from tracesync.errors import ConfigurationError, TracesyncError


class UnreadableFileError(TracesyncError):
    """The file cannot be read as its mapping says (encoding, XML syntax, missing columns)."""


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
        root = ET.fromstring(data)  # noqa: S314 - expat refuses entity bombs, fetches nothing
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
