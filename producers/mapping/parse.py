"""Loading and checking mapping files (TOML, or JSON with the same structure).

Every problem raises :class:`~tracesync.errors.ConfigurationError` naming the file and the key,
so a bad mapping stops the adapter at start-up rather than at the first row.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from producers.mapping.model import (
    NO_DEFAULT,
    SOURCE_SYSTEMS,
    Column,
    Const,
    DbSource,
    EventSpec,
    FileSource,
    RecordSpec,
    SourceMapping,
    Spec,
    Template,
)
from tracesync.contracts.schemas import EVENT_TYPES
from tracesync.errors import ConfigurationError

_SPEC_KINDS = ("column", "const", "template")
_COLUMN_OPTIONS = frozenset({"column", "split", "json", "map", "default", "items"})
_REQUIRED_ENVELOPE = ("event_type", "batch_code", "source_ref", "source_seq", "occurred_at")
_OPTIONAL_ENVELOPE = ("recorded_at", "plant")


class _Reader:
    """Reads typed values out of the TOML document, naming file and key in every error."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def fail(self, key: str, reason: str) -> ConfigurationError:
        return ConfigurationError(f"mapping {self.path}: [{key}] {reason}")

    def table(self, doc: Mapping[str, Any], key: str, *, required: bool = True) -> dict[str, Any]:
        value = _get(doc, key)
        if value is None and not required:
            return {}
        if not isinstance(value, dict):
            raise self.fail(key, "missing table" if value is None else "must be a table")
        return value

    def text(self, doc: Mapping[str, Any], key: str, default: str | None = None) -> str:
        value = _get(doc, key)
        if value is None and default is not None:
            return default
        if not isinstance(value, str) or not value.strip():
            raise self.fail(key, "missing" if value is None else "must be a non-empty string")
        return value

    def optional_text(self, doc: Mapping[str, Any], key: str) -> str | None:
        return self.text(doc, key) if _get(doc, key) is not None else None

    def choice(
        self, doc: Mapping[str, Any], key: str, allowed: tuple[str, ...], default: str
    ) -> str:
        value = self.text(doc, key, default)
        if value not in allowed:
            raise self.fail(key, f"is {value!r}; one of {', '.join(allowed)}")
        return value

    def texts(self, doc: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = _get(doc, key)
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            raise self.fail(key, "must be a string or a non-empty list of strings")
        return tuple(value)

    def unknown(self, table: Mapping[str, Any], prefix: str, known: set[str]) -> None:
        for key in table:
            if key not in known:
                raise self.fail(
                    f"{prefix}.{key}", f"unknown key; known: {', '.join(sorted(known))}"
                )


def _get(doc: Mapping[str, Any], dotted: str) -> Any:
    value: Any = doc
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def load_mapping(path: Path) -> SourceMapping:
    """Parse and check one mapping file (``.toml``, or ``.json`` with the same structure)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigurationError(f"cannot read mapping {path}: {exc}") from exc
    try:
        doc = json.loads(raw) if path.suffix == ".json" else tomllib.loads(raw.decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ConfigurationError(f"mapping {path} is not valid TOML/JSON: {exc}") from exc
    return parse_mapping(doc, path)


def parse_mapping(doc: Mapping[str, Any], path: Path) -> SourceMapping:
    """Check a mapping document (already parsed from TOML/JSON)."""
    r = _Reader(path)
    r.unknown(doc, "<top>", {"source", "db", "file", "envelope", "payload"})
    source = r.table(doc, "source")
    r.unknown(source, "source", {"name", "system", "timezone"})
    name = r.text(doc, "source.name")
    system = r.choice(doc, "source.system", SOURCE_SYSTEMS, "")
    zone_name = r.text(doc, "source.timezone", "UTC")
    try:
        zone: dt.tzinfo = dt.UTC if zone_name == "UTC" else ZoneInfo(zone_name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise r.fail("source.timezone", f"unknown time zone {zone_name!r}") from exc
    events = EventSpec(system, _envelope_specs(r, doc), _payload_spec(r, doc), zone)
    has_db, has_file = "db" in doc, "file" in doc
    if has_db == has_file:
        raise r.fail("db", "a mapping needs exactly one of the tables [db] and [file]")
    if has_db:
        return SourceMapping(name, path, events, db=_db_source(r, doc))
    return SourceMapping(name, path, events, file=_file_source(r, doc))


def _envelope_specs(r: _Reader, doc: Mapping[str, Any]) -> dict[str, Spec]:
    table = r.table(doc, "envelope")
    r.unknown(table, "envelope", {*_REQUIRED_ENVELOPE, *_OPTIONAL_ENVELOPE})
    for key in _REQUIRED_ENVELOPE:
        if key not in table:
            raise r.fail(f"envelope.{key}", "missing (every Envelope needs it)")
    event_type = table["event_type"]
    if isinstance(event_type, str) and event_type in EVENT_TYPES:
        table = {**table, "event_type": {"const": event_type}}  # a bare symbol is a constant
    elif (
        isinstance(event_type, dict)
        and "const" in event_type
        and event_type["const"] not in EVENT_TYPES
    ):
        raise r.fail("envelope.event_type", f"{event_type['const']!r} is not an EventType")
    specs = {key: parse_spec(r, value, f"envelope.{key}") for key, value in table.items()}
    event_const = specs["event_type"]
    system = _get(doc, "source.system")
    if isinstance(event_const, Const) and EVENT_TYPES[event_const.value].source_system != system:
        raise r.fail(
            "envelope.event_type",
            f"{event_const.value} is a {EVENT_TYPES[event_const.value].source_system} event, "
            f"the source is {system}",
        )
    return specs


def _payload_spec(r: _Reader, doc: Mapping[str, Any]) -> Spec:
    value = doc.get("payload")
    if value is None:
        raise r.fail(
            "payload", "missing (a table of field specs, or { column = ..., json = true })"
        )
    return parse_spec(r, value, "payload")


def parse_spec(r: _Reader, value: Any, key: str) -> Spec:
    """One field spec (see :mod:`producers.mapping`)."""
    if isinstance(value, str):
        if not value.strip():
            raise r.fail(key, "empty column name")
        return Column(value)
    if isinstance(value, (bool, int, float)):
        return Const(value)
    if not isinstance(value, dict):
        raise r.fail(
            key, f"must be a column name, a constant or a table, not {type(value).__name__}"
        )
    kinds = [k for k in _SPEC_KINDS if k in value]
    if len(kinds) > 1:
        raise r.fail(key, f"use only one of {', '.join(kinds)}")
    if not kinds:
        if not value:
            raise r.fail(key, "empty table")
        return RecordSpec({k: parse_spec(r, v, f"{key}.{k}") for k, v in value.items()})
    if kinds == ["const"]:
        r.unknown(value, key, {"const"})
        return Const(value["const"])
    if kinds == ["template"]:
        r.unknown(value, key, {"template"})
        return _template(r, value["template"], f"{key}.template")
    return _column(r, value, key)


def _template(r: _Reader, text: Any, key: str) -> Template:
    if not isinstance(text, str) or not text:
        raise r.fail(key, "must be a non-empty string")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(text) if name is not None]
    except ValueError as exc:
        raise r.fail(key, f"bad template: {exc}") from exc
    if not names or any(not n for n in names):
        raise r.fail(key, "needs at least one {column} and no empty {}")
    return Template(text, tuple(names))


def _column(r: _Reader, value: Mapping[str, Any], key: str) -> Column:
    r.unknown(value, key, set(_COLUMN_OPTIONS))
    name = value["column"]
    if not isinstance(name, str) or not name.strip():
        raise r.fail(f"{key}.column", "must be a non-empty string")
    split = value.get("split")
    if split is not None and (not isinstance(split, str) or not split):
        raise r.fail(f"{key}.split", "must be a non-empty string")
    as_json = value.get("json", False)
    if not isinstance(as_json, bool):
        raise r.fail(f"{key}.json", "must be true or false")
    translate = value.get("map")
    if translate is not None and not isinstance(translate, dict):
        raise r.fail(f"{key}.map", "must be a table of source value = mapped value")
    items = value.get("items")
    item_spec = None
    if items is not None:
        spec = parse_spec(r, items, f"{key}.items")
        if not isinstance(spec, RecordSpec):
            raise r.fail(f"{key}.items", "must be a table of field specs")
        item_spec = spec
    return Column(name, split, as_json, translate, value.get("default", NO_DEFAULT), item_spec)


def _db_source(r: _Reader, doc: Mapping[str, Any]) -> DbSource:
    table = r.table(doc, "db")
    known = {"table", "schema", "mode", "key_columns", "watermark_column", "on_published"}
    r.unknown(table, "db", known | {"published_column", "url"})
    mode = r.choice(doc, "db.mode", ("poll", "outbox"), "poll")
    keys = r.texts(doc, "db.key_columns")
    watermark = r.optional_text(doc, "db.watermark_column")
    on_published = r.choice(doc, "db.on_published", ("delete", "mark"), "delete")
    published = r.optional_text(doc, "db.published_column")
    if mode == "poll" and watermark is None:
        raise r.fail("db.watermark_column", "missing: poll mode reads rows above a watermark")
    if mode == "outbox" and on_published == "mark" and published is None:
        raise r.fail("db.published_column", "missing: on_published = 'mark' sets this column")
    return DbSource(
        table=r.text(doc, "db.table"),
        mode=mode,  # type: ignore[arg-type]
        key_columns=keys,
        watermark_column=watermark,
        on_published=on_published,  # type: ignore[arg-type]
        published_column=published,
        schema=r.optional_text(doc, "db.schema"),
        url=r.optional_text(doc, "db.url"),
    )


def _file_source(r: _Reader, doc: Mapping[str, Any]) -> FileSource:
    table = r.table(doc, "file")
    r.unknown(table, "file", {"format", "patterns", "encoding", "delimiter", "record_path"})
    fmt = r.choice(doc, "file.format", ("csv", "xml"), "")
    delimiter = r.text(doc, "file.delimiter", ",")
    if len(delimiter) != 1:
        raise r.fail("file.delimiter", "must be one character")
    record_path = r.optional_text(doc, "file.record_path")
    if fmt == "xml" and record_path is None:
        raise r.fail("file.record_path", "missing: the element path of one record, e.g. './/Row'")
    return FileSource(
        format=fmt,  # type: ignore[arg-type]
        patterns=r.texts(doc, "file.patterns"),
        encoding=r.text(doc, "file.encoding", "utf-8-sig"),
        delimiter=delimiter,
        record_path=record_path,
    )
