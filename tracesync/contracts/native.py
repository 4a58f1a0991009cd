"""Decode Envelopes straight into JSON-native payloads: the form the stream worker keeps.

The worker stores and ships payloads as JSON (decimals as strings, dates as ISO strings,
timestamps as epoch milliseconds; :func:`json_native`). Decoding with the plain schema makes
fastavro build ``Decimal``, ``date`` and ``datetime`` objects that the worker then walks and turns
back into those forms. Here the schema is read in a *native variant* instead: each logical type
inside the payload is renamed to one of ours (``tracesync-native-…``), registered with fastavro's
``LOGICAL_READERS`` (its documented hook for custom logical types), which yields the JSON-native
value at once. The result is exactly ``json_native`` of the plain decoding, without the walk.

The head keeps its types (``occurred_at`` and ``recorded_at`` are datetimes), except
``event_id``, read as its canonical text instead of a ``uuid.UUID`` object.

:func:`read_native` reads one body, with a reader compiled from the variant
(:mod:`tracesync.contracts.avro_reader`) when the data was written with the current schema;
:class:`NativeEnvelope` marks its result, so the worker can tell it needs no conversion.
"""

from __future__ import annotations

import io
import re
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from fastavro import schemaless_reader
from fastavro.read import LOGICAL_READERS
from fastavro.schema import parse_schema

from tracesync.contracts.avro_reader import LogicalReader, Reader, compile_reader
from tracesync.contracts.schemas import JsonSchema

_PREFIX = "tracesync-native-"
_UUID_TEXT = f"{_PREFIX}uuid-text"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MILLISECOND = timedelta(milliseconds=1)
_DAYS_SHIFT = date(1970, 1, 1).toordinal()
_CANONICAL_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_PLAIN_DECIMAL_MAX_SCALE = 6  # str(Decimal) switches to exponent notation beyond this scale
_PAYLOAD = "payload"
_T = TypeVar("_T")
_EVENT_ID = "event_id"


class NativeEnvelope(dict[str, Any]):
    """A decoded Envelope whose payload is already JSON-native and ``event_id`` a string."""


def json_native(value: Any) -> Any:
    """A decoded Avro value as JSON-native data (what the worker stores and ships)."""
    if isinstance(value, dict):
        return {k: json_native(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_native(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return to_millis(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def to_millis(moment: datetime) -> int:
    """Epoch milliseconds, in integer arithmetic (a naive datetime counts as UTC, as in fastavro).

    ``int(moment.timestamp() * 1000)`` is one millisecond short for some instants (float
    rounding; none between 2020 and 2030, about 0.6 % elsewhere).
    """
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MILLISECOND


def decimal_text(data: bytes, writer_schema: JsonSchema, reader_schema: JsonSchema = None) -> str:
    """``str()`` of the Decimal fastavro would read from ``data``, without building it."""
    scale = writer_schema.get("scale", 0)
    unscaled = int.from_bytes(data, byteorder="big", signed=True)
    digits = str(-unscaled if unscaled < 0 else unscaled)
    if len(digits) > writer_schema["precision"] or not 0 <= scale <= _PLAIN_DECIMAL_MAX_SCALE:
        return str(LOGICAL_READERS["bytes-decimal"](data, writer_schema, reader_schema))
    if scale == 0:
        text = digits
    elif len(digits) > scale:
        text = f"{digits[:-scale]}.{digits[-scale:]}"
    else:
        text = f"0.{digits.zfill(scale)}"
    return f"-{text}" if unscaled < 0 else text


def date_text(days: int, writer_schema: JsonSchema = None, reader_schema: JsonSchema = None) -> str:
    return date.fromordinal(days + _DAYS_SHIFT).isoformat()


def uuid_text(text: str, writer_schema: JsonSchema = None, reader_schema: JsonSchema = None) -> str:
    """The canonical form of a UUID string; refuses what ``uuid.UUID`` refuses."""
    if _CANONICAL_UUID.fullmatch(text):
        return text
    return str(uuid.UUID(text))


def _through_json_native(standard: LogicalReader) -> LogicalReader:
    def read(data: Any, writer_schema: JsonSchema, reader_schema: JsonSchema) -> Any:
        return json_native(standard(data, writer_schema, reader_schema))

    return read


_FAST: dict[str, LogicalReader] = {
    "bytes-decimal": decimal_text,
    "fixed-decimal": decimal_text,
    "int-date": date_text,
    "long-timestamp-millis": lambda millis, w, r: millis,
}


def _register() -> None:
    """Our logical types, one per standard one: ``<type>-tracesync-native-<logical>``."""
    for name, standard in list(LOGICAL_READERS.items()):
        if _PREFIX in name:
            continue
        kind, logical = name.split("-", 1)
        fast = _FAST.get(name) or _through_json_native(standard)
        LOGICAL_READERS[f"{kind}-{_PREFIX}{logical}"] = fast
    LOGICAL_READERS[f"string-{_UUID_TEXT}"] = uuid_text


_register()


def _renamed(schema: JsonSchema, rename: Callable[[str], str]) -> JsonSchema:
    """A copy of ``schema`` with every ``logicalType`` passed through ``rename``."""
    if isinstance(schema, list):
        return [_renamed(s, rename) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key.startswith("__fastavro"):
            continue  # parse_schema's bookkeeping: rebuilt when the copy is parsed
        if key == "logicalType" and isinstance(value, str):
            out[key] = rename(value)
        elif key == "fields":
            out[key] = [{**f, "type": _renamed(f["type"], rename)} for f in value]
        elif key in ("type", "items", "values"):
            out[key] = _renamed(value, rename)
        else:
            out[key] = value
    return out


def _native_name(logical: str) -> str:
    return _PREFIX + logical


def _uuid_as_text(logical: str) -> str:
    return _UUID_TEXT if logical == "uuid" else logical


def native_variant(envelope_schema: JsonSchema) -> JsonSchema:
    """The parsed native variant of a (parsed or JSON) Envelope schema."""
    fields = []
    for field in envelope_schema["fields"]:
        if field["name"] == _PAYLOAD:
            field = {**field, "type": _renamed(field["type"], _native_name)}  # noqa: PLW2901
        elif field["name"] == _EVENT_ID:
            field = {**field, "type": _renamed(field["type"], _uuid_as_text)}  # noqa: PLW2901
        fields.append(field)
    top = {k: v for k, v in envelope_schema.items() if not k.startswith("__fastavro")}
    return parse_schema({**top, "fields": fields})


_VARIANTS: dict[int, tuple[JsonSchema, JsonSchema, Reader]] = {}


def _variant(schema: JsonSchema) -> tuple[JsonSchema, Reader]:
    """The native variant of a parsed schema and its compiled reader, built once per schema.

    The original is kept in the cache, so its id cannot be reused by another schema.
    """
    known = _VARIANTS.get(id(schema))
    if known is None:
        variant = native_variant(schema)
        known = _VARIANTS[id(schema)] = (schema, variant, compile_reader(variant, LOGICAL_READERS))
    return known[1], known[2]


_BUILDERS: dict[tuple[int, Any], tuple[JsonSchema, tuple[str, ...], Reader]] = {}


def _builder(schema: JsonSchema, make: Callable[..., Any]) -> tuple[tuple[str, ...], Reader]:
    """The field names of ``schema`` and a reader passing its native values to ``make``."""
    known = _BUILDERS.get((id(schema), make))
    if known is None:
        variant = _variant(schema)[0]
        reader = compile_reader(variant, LOGICAL_READERS, make)
        names = tuple(field["name"] for field in variant["fields"])
        known = _BUILDERS[id(schema), make] = (schema, names, reader)
    return known[1], known[2]


def read_native_as(
    data: bytes,
    start: int,
    writer_schema: JsonSchema | None,
    reader_schema: JsonSchema,
    make: Callable[..., _T],
) -> tuple[_T, int]:
    """:func:`read_native`, the Envelope's values passed to ``make`` in ``reader_schema``'s order.

    ``make(event_id, event_type, ..., payload)`` builds the caller's own object straight from the
    bytes (the stream worker's domain event), with no dict in between.
    """
    names, read = _builder(reader_schema, make)
    if writer_schema is None:
        return read(data, start)
    record, end = read_native(data, start, writer_schema, reader_schema)
    return make(*(record[name] for name in names)), end


def read_native(
    data: bytes, start: int, writer_schema: JsonSchema | None, reader_schema: JsonSchema
) -> tuple[Any, int]:
    """Read one Envelope body from ``data[start:]`` in native forms: ``(envelope, end)``.

    ``writer_schema`` None means the data was written with ``reader_schema`` itself (the usual
    case): then the compiled reader reads it. Data of another writer schema is resolved to the
    reader schema by fastavro, reading both schemas' native variants.
    """
    reader_variant, read = _variant(reader_schema)
    if writer_schema is None:
        return read(data, start)
    body = io.BytesIO(data)
    body.seek(start)
    record = schemaless_reader(body, _variant(writer_schema)[0], reader_variant)
    return record, body.tell()
