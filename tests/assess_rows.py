"""Source rows for the mappings ``tracesync assess --emit-config`` writes: what a source would
export (CSV, XML) or hold in its outbox table, one valid row per index, built from the mapping's
own column specs and the skeleton's column types."""

from __future__ import annotations

import csv
import io
import json
from typing import Any
from xml.sax.saxutils import escape

from producers.mapping import Column as ColumnSpec
from producers.mapping import RecordSpec, SourceMapping, Spec
from tracesync.assess.skeleton import Column

ENUMS = {"verdict": "PASS", "target_type": "BATCH", "disposition": "RELEASE", "severity": "HIGH"}
CHARACTERISTIC = {"name": "ph", "value": 7.1, "unit": "pH", "passed": True}


def list_columns(mapping: SourceMapping) -> dict[str, ColumnSpec]:
    """Top-level columns read as lists (split text, JSON text, nested XML records)."""
    found: dict[str, ColumnSpec] = {}

    def walk(spec: Spec) -> None:
        if isinstance(spec, ColumnSpec) and (spec.split or spec.json or spec.items):
            found[spec.name.split("/", 1)[0]] = spec
        elif isinstance(spec, RecordSpec):
            for sub in spec.fields.values():
                walk(sub)

    walk(mapping.events.payload)
    return found


def value_for(column: Column, index: int) -> Any:
    """A valid value of one skeleton column, as a source would hold it (text for files)."""
    name, kind = column.name, column.kind
    if name == "batch_code":
        return f"BATCH-{index:03d}"
    if name in ENUMS:
        return ENUMS[name]
    if kind.startswith("decimal"):
        return "12.500"
    if kind == "timestamp":
        return f"2025-03-01T08:{index:02d}:00+00:00"
    if kind == "date":
        return "2025-03-01"
    if kind in ("bigint", "integer"):
        return index + 1
    if kind == "double":
        return 7.25
    if kind == "boolean":
        return "true"
    return f"{name}-{index}"


def row(columns: tuple[Column, ...], mapping: SourceMapping, index: int) -> dict[str, Any]:
    """One flat row (CSV or database): list columns as split or JSON text."""
    lists = list_columns(mapping)
    out: dict[str, Any] = {}
    for column in columns:
        spec = lists.get(column.name)
        if spec is not None and spec.json:
            out[column.name] = json.dumps([CHARACTERISTIC])
        elif spec is not None:
            out[column.name] = f"{column.name}-a,{column.name}-b"
        else:
            out[column.name] = value_for(column, index)
    return out


def csv_text(columns: tuple[Column, ...], mapping: SourceMapping, count: int) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, [c.name for c in columns], lineterminator="\n")
    writer.writeheader()
    for index in range(count):
        writer.writerow(row(columns, mapping, index))
    return buffer.getvalue()


def xml_text(columns: tuple[Column, ...], mapping: SourceMapping, count: int) -> str:
    """An export with one element per record (the mapping's ``record_path``)."""
    assert mapping.file is not None and mapping.file.record_path is not None
    record = mapping.file.record_path.removeprefix(".//")
    lists = list_columns(mapping)
    parts = ["<Export>"]
    for index in range(count):
        parts.append(f"<{record}>")
        for column in columns:
            spec = lists.get(column.name)
            if spec is not None and spec.items is not None:
                child = spec.name.split("/", 1)[1]
                inner = "".join(f"<{k}>{v}</{k}>" for k, v in CHARACTERISTIC.items())
                parts.append(f"<{column.name}><{child}>{inner}</{child}></{column.name}>")
            else:
                value = row((column,), mapping, index)[column.name]
                parts.append(f"<{column.name}>{escape(str(value))}</{column.name}>")
        parts.append(f"</{record}>")
    parts.append("</Export>")
    return "".join(parts)
