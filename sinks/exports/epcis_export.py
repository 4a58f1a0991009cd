"""Write an EPCIS document for a window of the trace store or for given codes, and check it.

The batches come from :func:`sinks.exports.store_reads.window_codes` (a window) or, for codes
(batch, trace code, delivery, complaint, GS1 Digital Link), from each code with its genealogy up
and down; their events stream to the file one by one (:func:`sinks.exports.epcis.write_document`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine

from sinks.exports.epcis import EpcisBuilder, write_document
from sinks.exports.epcis_schema import load_validator, problems
from sinks.exports.resolve import UnknownCodeError, store_code
from sinks.exports.store_reads import Window, genealogy_codes, stored_chains, window_codes
from tracesync.gs1.identifiers import Identifiers


def export_codes(
    conn: Connection, ids: Identifiers, window: Window, codes: Sequence[str] = ()
) -> list[str]:
    """The batches an export covers."""
    if not codes:
        return window_codes(conn, window)
    found: set[str] = set()
    for given in codes:
        batches = genealogy_codes(conn, store_code(conn, given, ids.master))
        if not batches:
            raise UnknownCodeError(f"{given!r} is not in the trace store")
        found.update(batches)
    return sorted(found)


def _events(
    conn: Connection, ids: Identifiers, window: Window, codes: Sequence[str]
) -> Iterator[dict[str, Any]]:
    builder = EpcisBuilder(ids)
    dated = Window(window.date_from, window.date_to)
    for stored in stored_chains(conn, export_codes(conn, ids, window, codes)):
        yield from builder.events(stored, dated)


def write_epcis(
    engine: Engine, out: Path, ids: Identifiers, window: Window, codes: Sequence[str] = ()
) -> int:
    """Write the document; returns the number of events."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn, out.open("wb") as handle:
        return write_document(handle, _events(conn, ids, window, codes))


def check_file(path: Path, schema: Path) -> list[str]:
    """Schema problems of a written document (empty: valid)."""
    return problems(load_validator(schema), json.loads(path.read_bytes()))
