"""The parsed shape of a mapping file: field specs, the event spec and the source tables.

Frozen dataclasses only; :mod:`producers.mapping.parse` builds them from TOML/JSON and
:mod:`producers.mapping.evaluate` applies them to rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

SOURCE_SYSTEMS = ("MES", "ERP", "WMS", "QMS")


class _NoDefault:
    """The ``default`` of a column spec that has none (``None`` is a valid default)."""

    def __repr__(self) -> str:
        return "NO_DEFAULT"


NO_DEFAULT: Any = _NoDefault()


# -- field specs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """The value of one column (or nested element path) of the row."""

    name: str
    split: str | None = None
    json: bool = False
    translate: Mapping[str, Any] | None = None
    default: Any = NO_DEFAULT
    items: RecordSpec | None = None


@dataclass(frozen=True)
class Const:
    """A constant value."""

    value: Any


@dataclass(frozen=True)
class Template:
    """Text with ``{column}`` placeholders filled from the row."""

    text: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RecordSpec:
    """A record whose fields are field specs."""

    fields: Mapping[str, Spec]


Spec = Column | Const | Template | RecordSpec


@dataclass(frozen=True)
class EventSpec:
    """How a row becomes an Envelope (source_system comes from ``[source]``)."""

    source_system: str
    envelope: Mapping[str, Spec]
    payload: Spec
    timezone: dt.tzinfo

    def columns(self) -> set[str]:
        """Top-level columns the mapping reads (for checking a file's header)."""
        found: set[str] = set()
        for spec in (*self.envelope.values(), self.payload):
            collect_columns(spec, found)
        return found

    def columns_for(self, path: str) -> list[str]:
        """The top-level columns behind an Envelope field path (``payload.quantity.value``,
        ``payload.lines[2].lot``); empty for a path no spec gives (``<row>``)."""
        parts = [part.split("[", 1)[0] for part in path.split(".")]
        spec: Spec | None = self.payload if parts[0] == "payload" else self.envelope.get(parts[0])
        for part in parts[1:]:
            if not isinstance(spec, RecordSpec) or part not in spec.fields:
                break  # a column (list items, JSON) or an unknown field: all of what is above
            spec = spec.fields[part]
        found: set[str] = set()
        if spec is not None:
            collect_columns(spec, found)
        return sorted(found)

    def fields_reading(self, column: str) -> list[str]:
        """Paths of the Envelope fields whose value comes from ``column`` (a top-level column)."""
        found: list[str] = []
        for key, spec in self.envelope.items():
            _collect_fields(spec, key, column, found)
        _collect_fields(self.payload, "payload", column, found)
        return found


def collect_columns(spec: Spec, found: set[str]) -> None:
    """Add the top-level columns ``spec`` reads to ``found``."""
    if isinstance(spec, Column):
        found.add(spec.name.split("/", 1)[0])
    elif isinstance(spec, Template):
        found.update(spec.columns)
    elif isinstance(spec, RecordSpec):
        for sub in spec.fields.values():
            collect_columns(sub, found)


def _top_columns(spec: Column | Template) -> set[str]:
    found: set[str] = set()
    collect_columns(spec, found)
    return found


def _collect_fields(spec: Spec, path: str, column: str, found: list[str]) -> None:
    if isinstance(spec, Column | Template) and column in _top_columns(spec):
        found.append(path)
    elif isinstance(spec, RecordSpec):
        for name, sub in spec.fields.items():
            _collect_fields(sub, f"{path}.{name}", column, found)


# -- sources -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DbSource:
    """``[db]``: the table and how changes are taken from it."""

    table: str
    mode: Literal["poll", "outbox"]
    key_columns: tuple[str, ...]
    watermark_column: str | None = None
    on_published: Literal["delete", "mark"] = "delete"
    published_column: str | None = None
    schema: str | None = None
    url: str | None = None


@dataclass(frozen=True)
class FileSource:
    """``[file]``: which dropped files, and how to read records from them."""

    format: Literal["csv", "xml"]
    patterns: tuple[str, ...]
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    record_path: str | None = None


@dataclass(frozen=True)
class SourceMapping:
    """One parsed mapping file."""

    name: str
    path: Path
    events: EventSpec
    db: DbSource | None = None
    file: FileSource | None = None

    @property
    def source_system(self) -> str:
        return self.events.source_system
