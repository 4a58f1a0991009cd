"""The wire format of source events: Envelope dicts to bytes and back.

:class:`EnvelopeSerde` encodes with one wire format and decodes any of the formats it knows, told
apart by the first byte (:mod:`tracesync.contracts.wire_formats`: Avro single-object encoding,
the Confluent wire format with ids from a schema registry).

Encoding checks the envelope field by field first (:class:`~tracesync.errors.InvalidFieldsError`
naming every bad field path); decoding wraps every failure into
:class:`~tracesync.errors.SerializationError` with the record's topic, partition and offset.
``envelope_from_json`` / ``envelope_to_json`` convert from and to what travels over REST.
"""

from __future__ import annotations

import io
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from fastavro import schemaless_reader, schemaless_writer
from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate

from tracesync.contracts.avro_values import FieldErrors
from tracesync.contracts.envelope_shape import PAYLOAD, EnvelopeShape
from tracesync.contracts.native import NativeEnvelope, read_native, read_native_as
from tracesync.contracts.schemas import ENVELOPE, EVENT_TYPES, JsonSchema, SchemaSet, current
from tracesync.contracts.wire_formats import (
    ENVELOPE_SUBJECT,
    ConfluentFormat,
    SchemaRegistry,
    SingleObjectFormat,
    WireFormat,
)
from tracesync.errors import InvalidFieldsError, RecordOrigin, SerializationError

_T = TypeVar("_T")


class EnvelopeSerde:
    """Encode Envelope dicts with one wire format; decode any of the known formats."""

    def __init__(
        self,
        writer: WireFormat,
        *,
        readers: Iterable[WireFormat] = (),
        schemas: SchemaSet | None = None,
        validate_with_fastavro: bool = True,
    ) -> None:
        self._schemas = schemas or current()
        self._schema = self._schemas.parsed(ENVELOPE)
        self._shape = EnvelopeShape.of(self._schemas)
        self._writer = writer
        self._readers = {fmt.magic[:1]: fmt for fmt in (writer, *readers)}
        self._validate_with_fastavro = validate_with_fastavro

    @classmethod
    def single_object(cls, schemas: SchemaSet | None = None) -> EnvelopeSerde:
        """Single-object encoding; decodes data of the current and every released schema."""
        if schemas is None or schemas is current():
            return cls(SingleObjectFormat.from_current(), schemas=current())
        return cls(SingleObjectFormat(schemas), schemas=schemas)

    @classmethod
    def confluent(
        cls, registry: SchemaRegistry, subject: str = ENVELOPE_SUBJECT, *, also_single: bool = True
    ) -> EnvelopeSerde:
        """Confluent wire format with ids from ``registry``; can still read single-object."""
        schemas = current()
        readers = [SingleObjectFormat.from_current()] if also_single else []
        return cls(ConfluentFormat(registry, schemas, subject), readers=readers, schemas=schemas)

    def check(self, envelope: Mapping[str, Any]) -> None:
        """Raise :class:`InvalidFieldsError` listing every bad field of an Avro-ready envelope."""
        errors = self._shape.check(envelope)
        if not errors and self._validate_with_fastavro:
            errors = _fastavro_errors(_tagged(envelope), self._schema)
        if errors:
            raise InvalidFieldsError(errors, batch_code=_batch_code(envelope))

    def encode(self, envelope: Mapping[str, Any]) -> bytes:
        """Validate and encode; raises InvalidFieldsError (a ValidationError) naming the fields."""
        self.check(envelope)
        return self.encode_checked(envelope)

    def encode_checked(self, envelope: Mapping[str, Any]) -> bytes:
        """Encode an envelope that already passed :meth:`check` or :meth:`from_json`.

        Skips the field-by-field check (most of the cost of :meth:`encode`); fastavro still
        refuses a value that does not fit its type, as a SerializationError.
        """
        out = io.BytesIO()
        out.write(self._writer.header())
        try:
            schemaless_writer(out, self._schema, _tagged(envelope))
        except Exception as exc:
            raise SerializationError(
                f"cannot encode envelope: {exc}", batch_code=_batch_code(envelope)
            ) from exc
        return out.getvalue()

    def decode(
        self, data: bytes, origin: RecordOrigin | None = None, *, native: bool = False
    ) -> dict[str, Any]:
        """Decode one record; every failure is a SerializationError carrying ``origin``.

        ``native``: the payload comes JSON-native, as a :class:`~tracesync.contracts.native.
        NativeEnvelope` (what the stream worker keeps; :mod:`tracesync.contracts.native`).
        """
        origin = origin or RecordOrigin()
        writer_schema, start = self._writer_schema(data, origin)
        record: Any
        try:
            if native:
                native_record, end = read_native(bytes(data), start, writer_schema, self._schema)
                record = NativeEnvelope(native_record)
            else:
                record, end = self._read(data, start, writer_schema)
        except Exception as exc:
            raise _body_error(exc, origin) from exc
        _check_end(data, end, origin)
        if not isinstance(record, dict):
            raise SerializationError("decoded value is not a record", origin=origin)
        if isinstance(record.get("event_id"), uuid.UUID):
            record["event_id"] = str(record["event_id"])
        return record

    def decode_as(
        self, data: bytes, make: Callable[..., _T], origin: RecordOrigin | None = None
    ) -> _T:
        """Decode one record JSON-native, as ``make(event_id, event_type, ..., payload)``.

        The Envelope's field values in the current schema's order, as :meth:`decode` with
        ``native=True`` gives them, passed straight to ``make`` (no dict in between: the stream
        worker builds its domain event so). Failures as in :meth:`decode`; an exception raised by
        ``make`` is one of them.
        """
        origin = origin or RecordOrigin()
        writer_schema, start = self._writer_schema(data, origin)
        try:
            value, end = read_native_as(bytes(data), start, writer_schema, self._schema, make)
        except Exception as exc:
            raise _body_error(exc, origin) from exc
        _check_end(data, end, origin)
        return value

    def _writer_schema(self, data: bytes, origin: RecordOrigin) -> tuple[JsonSchema | None, int]:
        """The wire format's writer schema of ``data`` and where its body starts."""
        if data is None or len(data) == 0:
            raise SerializationError("empty record value (tombstone?)", origin=origin)
        fmt = self._readers.get(bytes(data[:1]))
        if fmt is None or bytes(data[: len(fmt.magic)]) != fmt.magic:
            raise SerializationError(
                f"unknown wire format: starts with {bytes(data[:2]).hex()}; expected "
                f"{' or '.join(m.magic.hex() for m in self._readers.values())}",
                origin=origin,
            )
        return fmt.writer_schema(data, origin)

    def _read(self, data: bytes, start: int, writer_schema: JsonSchema | None) -> tuple[Any, int]:
        body = io.BytesIO(data)
        body.seek(start)
        if writer_schema is None:
            record = schemaless_reader(body, self._schema, None)
        else:
            record = schemaless_reader(body, writer_schema, self._schema)
        return record, body.tell()

    def from_json(self, obj: Any) -> dict[str, Any]:
        """JSON-friendly envelope -> Avro-ready dict; InvalidFieldsError lists ALL problems."""
        envelope, errors = self._shape.from_json(obj)
        if errors:
            batch = obj.get("batch_code") if isinstance(obj, Mapping) else None
            raise InvalidFieldsError(errors, batch_code=batch if isinstance(batch, str) else None)
        return envelope

    def to_json(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        """Avro-ready (or decoded) envelope -> JSON-friendly dict (strings for decimals, times)."""
        return self._shape.to_json(envelope)


def _tagged(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The envelope with its payload in fastavro's tuple notation: an explicit union branch."""
    info = EVENT_TYPES.get(envelope.get("event_type", ""))
    if info is None:
        return dict(envelope)
    return {**envelope, PAYLOAD: (info.payload_fullname, envelope.get(PAYLOAD))}


def _fastavro_errors(datum: Mapping[str, Any], schema: JsonSchema) -> FieldErrors:
    try:
        validate(datum, schema, raise_errors=True)
    except AvroValidationError as exc:
        return [(_short_field(e.field), "does not match the Avro schema") for e in exc.errors]
    except (ValueError, TypeError) as exc:
        return [("<envelope>", f"does not match the Avro schema: {exc}")]
    return []


def _short_field(field: str | None) -> str:
    """fastavro names fields ``tracesync.events.Quantity.value``; keep ``Quantity.value``."""
    if not field:
        return "<envelope>"
    parts = field.split(".")
    return ".".join(parts[-2:]) if len(parts) > 2 else field


def _field_hint(exc: BaseException) -> str | None:
    field = getattr(exc, "field", None)
    return field if isinstance(field, str) else None


def _batch_code(envelope: Any) -> str | None:
    code = envelope.get("batch_code") if isinstance(envelope, Mapping) else None
    return code if isinstance(code, str) else None


_DEFAULT: EnvelopeSerde | None = None


def _default_serde() -> EnvelopeSerde:
    global _DEFAULT  # noqa: PLW0603 - one compiled shape per process, built lazily
    if _DEFAULT is None:
        _DEFAULT = EnvelopeSerde.single_object()
    return _DEFAULT


def envelope_from_json(obj: Any) -> dict[str, Any]:
    """JSON-friendly envelope (ISO-8601 timestamps, decimal strings) -> Avro-ready dict."""
    return _default_serde().from_json(obj)


def envelope_to_json(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """Avro-ready or decoded envelope -> JSON-friendly dict."""
    return _default_serde().to_json(envelope)


__all__ = ["EnvelopeSerde", "envelope_from_json", "envelope_to_json"]


def _body_error(exc: Exception, origin: RecordOrigin) -> SerializationError:
    """The error of an Avro body the reader failed on, naming the field where it can."""
    detail = str(exc) or "the body ends too early"
    return SerializationError(
        f"cannot decode Avro body: {type(exc).__name__}: {detail}",
        field=_field_hint(exc),
        origin=origin,
    )


def _check_end(data: bytes, end: int, origin: RecordOrigin) -> None:
    if end != len(data):
        raise SerializationError(
            f"{len(data) - end} bytes left after the Envelope: wrong writer schema?",
            origin=origin,
        )
