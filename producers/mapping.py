"""Declarative mappings (TOML) from source rows to Envelopes, shared by the DB and file adapters.

A mapping file names its source (``[source] name, system``), where rows come from (``[db]`` or
``[file]``, read by the adapter) and how one row becomes one Envelope (``[envelope]`` and
``[payload]``). Every value in those two tables is a *field spec*:

* ``"col"`` or ``{ column = "col" }``: the row's value of that column (``a/b`` walks nested XML
  elements); options ``split = ","`` (a text list), ``json = true`` (a JSON text column),
  ``map = { OK = "PASS" }`` (translate codes), ``default = ...`` (when the column is empty or null),
  ``items = { ... }`` (a table of field specs applied to each element of a list of records);
* ``{ const = ... }`` or a bare number/boolean: a constant;
* ``{ template = "MES:BS:{batch_code}" }``: text with column values filled in;
* a table without those keys: a record whose fields are field specs
  (``quantity = { value = "qty", uom = "uom" }``).

Row values are then coerced towards the Avro type of their field (text to numbers, booleans,
decimal strings, ISO timestamps; naive timestamps are read in ``[source] timezone``, UTC by default)
and validated by the envelope serde. :class:`RowConverter` reports every problem of a row as
``(field path, reason)`` pairs. Mapping files are checked when loaded; a bad one raises
:class:`~tracesync.errors.ConfigurationError` naming the file and the key.
"""

from __future__ import annotations

import datetime as dt
import json
import string
import tomllib
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracesync.contracts.avro_values import (
    ArrayNode,
    DateNode,
    DecimalNode,
    EnumNode,
    FieldErrors,
    Node,
    OptionalNode,
    Primitive,
    RecordNode,
    TimestampMillis,
    UuidNode,
    compile_schema,
)
from tracesync.contracts.schemas import ENVELOPE, EVENT_TYPES, current
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import ConfigurationError, InvalidFieldsError

INGEST_NAMESPACE = uuid.UUID("6f1c2d0e-5b7a-4c1e-9a53-7d2f4e8b9c10")
"""uuid5 namespace of the event ids the DB and file adapters derive."""

SOURCE_SYSTEMS = ("MES", "ERP", "WMS", "QMS")
_SPEC_KINDS = ("column", "const", "template")
_COLUMN_OPTIONS = frozenset({"column", "split", "json", "map", "default", "items"})
_REQUIRED_ENVELOPE = ("event_type", "batch_code", "source_ref", "source_seq", "occurred_at")
_OPTIONAL_ENVELOPE = ("recorded_at", "plant")
_NO_DEFAULT = object()
_EPOCH_ISO = "1970-01-01T00:00:00+00:00"
_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})


# -- field specs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """The value of one column (or nested element path) of the row."""

    name: str
    split: str | None = None
    json: bool = False
    translate: Mapping[str, Any] | None = None
    default: Any = _NO_DEFAULT
    items: RecordSpec | None = None


@dataclass(frozen=True)
class Const:
    value: Any


@dataclass(frozen=True)
class Template:
    text: str
    columns: tuple[str, ...]


@dataclass(frozen=True)
class RecordSpec:
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
            _collect_columns(spec, found)
        return found


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


# -- loading -------------------------------------------------------------------------------


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
    """One field spec (see the module docstring)."""
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
    return Column(name, split, as_json, translate, value.get("default", _NO_DEFAULT), item_spec)


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


def _collect_columns(spec: Spec, found: set[str]) -> None:
    if isinstance(spec, Column):
        found.add(spec.name.split("/", 1)[0])
    elif isinstance(spec, Template):
        found.update(spec.columns)
    elif isinstance(spec, RecordSpec):
        for sub in spec.fields.values():
            _collect_columns(sub, found)


# -- evaluating specs against a row ---------------------------------------------------------


class _Missing:
    """A column the row lacks (reported as an error at the field that wanted it)."""


MISSING = _Missing()


@dataclass(frozen=True)
class MissingColumn:
    """What a column spec gives when the row lacks the column: null for an optional field,
    an error naming the column for any other."""

    name: str


def lookup(row: Mapping[str, Any], name: str) -> Any:
    """The row's value of a column; ``a/b`` walks nested records (lists are flattened)."""
    value: Any = row
    for part in name.split("/"):
        if isinstance(value, list):
            value = [v.get(part, MISSING) if isinstance(v, Mapping) else MISSING for v in value]
            value = [x for v in value for x in (v if isinstance(v, list) else [v])]
            if any(isinstance(v, _Missing) for v in value):
                return MISSING
        elif isinstance(value, Mapping):
            value = value.get(part, MISSING)
        else:
            return MISSING
        if isinstance(value, _Missing):
            return MISSING
    return value


def evaluate(spec: Spec, row: Mapping[str, Any], path: str, errors: FieldErrors) -> Any:
    """The raw value a spec gives for a row; missing columns become errors at ``path``."""
    if isinstance(spec, Const):
        return spec.value
    if isinstance(spec, Template):
        values = {}
        for name in spec.columns:
            value = lookup(row, name)
            if isinstance(value, _Missing) or value is None:
                errors.append((path, f"column {name!r} is missing or null (template)"))
                return None
            values[name] = _text(value)
        return spec.text.format_map(values)
    if isinstance(spec, RecordSpec):
        return {k: evaluate(sub, row, f"{path}.{k}", errors) for k, sub in spec.fields.items()}
    return _evaluate_column(spec, row, path, errors)


def _evaluate_column(spec: Column, row: Mapping[str, Any], path: str, errors: FieldErrors) -> Any:
    value = lookup(row, spec.name)
    empty = isinstance(value, _Missing) or value is None or value == ""
    if empty and spec.default is not _NO_DEFAULT:
        return spec.default
    if isinstance(value, _Missing):
        return MissingColumn(spec.name)
    if spec.json and isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            errors.append((path, f"column {spec.name!r} is not valid JSON: {exc}"))
            return None
    if spec.split is not None and isinstance(value, str):
        value = [part.strip() for part in value.split(spec.split) if part.strip()]
    if spec.translate is not None:
        value = _translated(spec.translate, value)
    if spec.items is not None:
        records = value if isinstance(value, list) else [value]
        return [
            evaluate(spec.items, item if isinstance(item, Mapping) else {}, f"{path}[{i}]", errors)
            for i, item in enumerate(records)
        ]
    return value


def _translated(table: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, list):
        return [_translated(table, v) for v in value]
    key = _text(value).strip() if value is not None else ""
    return table.get(key, value)


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


# -- coercion towards the Avro types --------------------------------------------------------


def coerce(value: Any, node: Node, path: str, errors: FieldErrors, zone: dt.tzinfo) -> Any:
    """A raw row value made JSON-friendly for its Avro type (what ``from_json`` accepts)."""
    if isinstance(node, OptionalNode):
        if value is None or value == "" or isinstance(value, MissingColumn):
            return None
        return coerce(value, node.inner, path, errors, zone)
    if isinstance(value, MissingColumn):
        errors.append((path, f"column {value.name!r} is missing from the row"))
        return None
    if value is None:
        return None  # the serde names the field ("expected ..., got null")
    if isinstance(node, RecordNode):
        if not isinstance(value, Mapping):
            return value
        return {
            k: coerce(v, node.fields[k][0], f"{path}.{k}", errors, zone) if k in node.fields else v
            for k, v in value.items()
        }
    if isinstance(node, ArrayNode):
        items = value if isinstance(value, list) else ([] if value == "" else [value])
        return [coerce(v, node.items, f"{path}[{i}]", errors, zone) for i, v in enumerate(items)]
    handler = _SCALARS.get(type(node))
    if handler is None:
        return value
    try:
        return handler(value, node, zone)
    except (ValueError, ArithmeticError) as exc:
        errors.append((path, str(exc)))
        return value


def _primitive(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    kind = node.kind if isinstance(node, Primitive) else "string"
    if kind == "string":
        return value if isinstance(value, str) else _text(value)
    if kind in ("int", "long"):
        return _integer(value)
    if kind in ("float", "double"):
        if isinstance(value, bool):
            raise ValueError(f"expected a number, got {value!r}")
        if isinstance(value, str):
            if not value.strip():
                raise ValueError("empty; expected a number")
            try:
                return float(value.strip())
            except ValueError:
                raise ValueError(f"not a number: {value!r}") from None
        return float(value) if isinstance(value, Decimal | int) else value
    if kind == "boolean":
        return _boolean(value)
    return value


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty; expected an integer")
        try:
            return int(text)
        except ValueError:
            raise ValueError(f"not an integer: {value!r}") from None
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r} (true/false, yes/no, 1/0)")


def _decimal(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("empty; expected a decimal number")
        return value.strip()
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal number, got {value!r}")
    return str(value) if isinstance(value, Decimal | int | float) else value


def _timestamp(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty; expected a timestamp")
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {text!r}") from None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        raise ValueError(f"a date without time: {value.isoformat()}")
    return value


def _date(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.strip()[:10] if isinstance(value, str) else value


def _enum(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _uuid(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    return str(value).strip()


_SCALARS: dict[type[Node], Callable[[Any, Node, dt.tzinfo], Any]] = {
    Primitive: _primitive,
    DecimalNode: _decimal,
    TimestampMillis: _timestamp,
    DateNode: _date,
    EnumNode: _enum,
    UuidNode: _uuid,
}


_ANY = Node()
"""Stands for an unknown payload type: values pass through uncoerced."""


# -- rows to envelopes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Converted:
    """A row that became a valid, Avro-ready envelope."""

    envelope: dict[str, Any]

    @property
    def batch_code(self) -> str:
        return str(self.envelope["batch_code"])


@dataclass(frozen=True)
class RowRejected:
    """A row that did not; ``errors`` names every field and the reason."""

    errors: tuple[tuple[str, str], ...]
    batch_code: str | None = None

    def reason(self) -> str:
        return "; ".join(f"{f}: {r}" for f, r in self.errors)


@dataclass
class RowConverter:
    """Turns rows into envelopes with one mapping; validation by the envelope serde."""

    events: EventSpec
    serde: EnvelopeSerde
    plant: str
    _envelope_node: RecordNode = field(init=False)
    _payloads: dict[str, RecordNode] = field(init=False)

    def __post_init__(self) -> None:
        node = compile_schema(current().expanded(ENVELOPE))
        assert isinstance(node, RecordNode)
        self._envelope_node = node
        union = node.fields["payload"][0]
        branches = {b.name: b for b in getattr(union, "branches", ()) if isinstance(b, RecordNode)}
        self._payloads = {t: branches[i.payload_record] for t, i in EVENT_TYPES.items()}

    def convert(self, row: Mapping[str, Any], event_id: str) -> Converted | RowRejected:
        """One row -> envelope, or every (field, reason) that is wrong with it."""
        errors: FieldErrors = []
        zone = self.events.timezone
        obj: dict[str, Any] = {"event_id": event_id, "source_system": self.events.source_system}
        for key, spec in self.events.envelope.items():
            raw = evaluate(spec, row, key, errors)
            obj[key] = coerce(raw, self._envelope_node.fields[key][0], key, errors, zone)
        if "recorded_at" not in obj:  # not mapped: the source recorded it when it happened
            bad_occurred = any(f == "occurred_at" for f, _ in errors)
            obj["recorded_at"] = _EPOCH_ISO if bad_occurred else obj.get("occurred_at")
        obj.setdefault("plant", self.plant)
        raw_payload = evaluate(self.events.payload, row, "payload", errors)
        node = self._payloads.get(str(obj.get("event_type")), _ANY)
        obj["payload"] = coerce(raw_payload, node, "payload", errors, zone)
        code = obj.get("batch_code")
        batch = code if isinstance(code, str) and code else None
        try:
            envelope = self.serde.from_json(obj)
        except InvalidFieldsError as exc:
            errors.extend(e for e in exc.errors if e[0] not in {f for f, _ in errors})
        if errors:
            return RowRejected(tuple(errors), batch)
        return Converted(envelope)


def derived_event_id(*parts: object) -> str:
    """A deterministic event id (uuid5) from the parts that identify one row version."""
    return str(uuid.uuid5(INGEST_NAMESPACE, "|".join(str(p) for p in parts)))
