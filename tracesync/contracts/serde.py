"""The wire format of source events: Envelope dicts to bytes and back.

:class:`EnvelopeSerde` encodes with one wire format and decodes any of the formats it knows, told
apart by the first byte:

* Avro single-object encoding (``C3 01`` + 8-byte CRC-64-AVRO fingerprint + body); the decoder
  knows the fingerprint of the current Envelope and of every released one (``avro/released/``) and
  resolves old data to the current schema;
* the Confluent wire format (``00`` + 4-byte big-endian schema id + body) with ids from a schema
  registry behind the small :class:`SchemaRegistry` protocol.

Encoding checks the envelope field by field first (:class:`~tracesync.errors.InvalidFieldsError`
naming every bad field path); decoding wraps every failure into
:class:`~tracesync.errors.SerializationError` with the record's topic, partition and offset.
``envelope_from_json`` / ``envelope_to_json`` convert from and to what travels over REST.
"""

from __future__ import annotations

import io
import json
import struct
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from fastavro import schemaless_reader, schemaless_writer
from fastavro.schema import parse_schema
from fastavro.validation import ValidationError as AvroValidationError
from fastavro.validation import validate

from tracesync.contracts.avro_values import FieldErrors, RecordNode, compile_schema
from tracesync.contracts.native import NativeEnvelope, read_native
from tracesync.contracts.schemas import (
    ENVELOPE,
    EVENT_TYPES,
    JsonSchema,
    SchemaSet,
    current,
    released_versions,
    schema_fingerprint,
)
from tracesync.errors import (
    InfrastructureError,
    InvalidFieldsError,
    RecordOrigin,
    SerializationError,
)

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
ENVELOPE_SUBJECT = "tracesync.events.Envelope"
"""Registry subject of the Envelope (record-name strategy: one subject for all source topics)."""

_PAYLOAD = "payload"


def topic_subject(topic: str) -> str:
    """Registry subject under the topic-name strategy (``<topic>-value``)."""
    return f"{topic}-value"


class SchemaRegistry(Protocol):
    """What the Confluent wire format needs of a registry
    (:mod:`tracesync.contracts.registry_client`).

    ``schema_str`` raises ``LookupError``, or an error with ``status == 404``, for an unknown id;
    any other :class:`~tracesync.errors.InfrastructureError` means the registry is unavailable.
    """

    def register_avro(self, subject: str, schema_str: str) -> int: ...

    def schema_str(self, schema_id: int) -> str: ...


class WireFormat(Protocol):
    """One framing of Avro bodies: a header naming the writer schema, then the body."""

    magic: bytes

    def header(self) -> bytes: ...

    def writer_schema(self, data: bytes, origin: RecordOrigin) -> tuple[JsonSchema | None, int]:
        """The writer schema (None: the current one) and where the body starts."""
        ...


class SingleObjectFormat:
    """Avro single-object encoding, writer schema identified by its fingerprint."""

    magic = SINGLE_OBJECT_MAGIC
    _header_size = 10

    def __init__(self, current_schemas: SchemaSet, released: Iterable[SchemaSet] = ()) -> None:
        self._current = current_schemas.fingerprint(ENVELOPE)
        self._known: dict[bytes, JsonSchema | None] = {}
        for schemas in released:
            self._known[schemas.fingerprint(ENVELOPE)] = schemas.parsed(ENVELOPE)
        self._known[self._current] = None

    @classmethod
    def from_current(cls) -> SingleObjectFormat:
        """The current Envelope plus every released version under ``avro/released/``."""
        return cls(current(), [v.schemas for v in released_versions()])

    @property
    def fingerprints(self) -> list[bytes]:
        return list(self._known)

    def header(self) -> bytes:
        return SINGLE_OBJECT_MAGIC + self._current

    def writer_schema(self, data: bytes, origin: RecordOrigin) -> tuple[JsonSchema | None, int]:
        if len(data) < self._header_size:
            raise SerializationError(
                f"truncated record: {len(data)} bytes, the single-object header alone is 10",
                origin=origin,
            )
        fingerprint = bytes(data[2:10])
        if fingerprint not in self._known:
            raise SerializationError(
                f"unknown schema fingerprint {fingerprint.hex()}: neither the current Envelope nor "
                "a released one (avro/released/); written by a newer producer?",
                origin=origin,
            )
        return self._known[fingerprint], self._header_size


class ConfluentFormat:
    """Confluent wire format; the current Envelope is registered under ``subject`` on first use."""

    magic = CONFLUENT_MAGIC
    _header_size = 5

    def __init__(
        self, registry: SchemaRegistry, current_schemas: SchemaSet, subject: str = ENVELOPE_SUBJECT
    ) -> None:
        self._registry = registry
        self._subject = subject
        self._current_json = current_schemas.canonical_json(ENVELOPE)
        self._current_fingerprint = current_schemas.fingerprint(ENVELOPE)
        self._header: bytes | None = None
        self._by_id: dict[int, JsonSchema | None] = {}

    def header(self) -> bytes:
        if self._header is None:
            schema_id = self._registry.register_avro(self._subject, self._current_json)
            self._by_id[schema_id] = None
            self._header = CONFLUENT_MAGIC + struct.pack(">I", schema_id)
        return self._header

    def writer_schema(self, data: bytes, origin: RecordOrigin) -> tuple[JsonSchema | None, int]:
        if len(data) < self._header_size:
            raise SerializationError(
                f"truncated record: {len(data)} bytes, the Confluent header alone is 5",
                origin=origin,
            )
        (schema_id,) = struct.unpack_from(">I", data, 1)
        if schema_id not in self._by_id:
            self._by_id[schema_id] = self._fetch(schema_id, origin)
        return self._by_id[schema_id], self._header_size

    def _fetch(self, schema_id: int, origin: RecordOrigin) -> JsonSchema | None:
        try:
            text = self._registry.schema_str(schema_id)
        except Exception as exc:
            if isinstance(exc, InfrastructureError) and getattr(exc, "status", None) != 404:
                raise  # the registry is unavailable: not this record's fault, let the caller retry
            raise SerializationError(
                f"schema id {schema_id} is unknown to the registry: {exc}", origin=origin
            ) from exc
        try:
            parsed = parse_schema(json.loads(text))
        except Exception as exc:
            raise SerializationError(
                f"schema id {schema_id} from the registry is not a valid Avro schema: {exc}",
                origin=origin,
            ) from exc
        return None if schema_fingerprint(parsed) == self._current_fingerprint else parsed


@dataclass(frozen=True)
class EnvelopeShape:
    """The Envelope's field nodes, with the payload record picked by ``event_type``."""

    envelope: RecordNode  # every field but the payload
    payloads: Mapping[str, RecordNode]

    @classmethod
    def of(cls, schemas: SchemaSet) -> EnvelopeShape:
        envelope = compile_schema(schemas.expanded(ENVELOPE))
        assert isinstance(envelope, RecordNode)
        payloads = {
            event_type: _payload_node(envelope, info.payload_record)
            for event_type, info in EVENT_TYPES.items()
        }
        head = RecordNode(envelope.name)
        head.fields = {k: v for k, v in envelope.fields.items() if k != _PAYLOAD}
        return cls(head, payloads)

    def check(self, envelope: Any) -> FieldErrors:
        """Every problem of an Avro-ready envelope dict, by field path."""
        errors: FieldErrors = []
        self._walk(envelope, errors, convert=False)
        return errors

    def from_json(self, obj: Any) -> tuple[dict[str, Any], FieldErrors]:
        errors: FieldErrors = []
        return self._walk(obj, errors, convert=True), errors

    def to_json(self, envelope: Mapping[str, Any]) -> dict[str, Any]:
        obj: dict[str, Any] = self.envelope.to_json(_without_payload(envelope))
        payload_node = self.payloads.get(envelope.get("event_type", ""))
        payload = envelope.get(_PAYLOAD)
        obj[_PAYLOAD] = payload_node.to_json(payload) if payload_node else payload
        return obj

    def _walk(self, obj: Any, errors: FieldErrors, *, convert: bool) -> dict[str, Any]:
        if not isinstance(obj, Mapping):
            errors.append(("<root>", f"expected an Envelope object, got {type(obj).__name__}"))
            return {}
        head = _without_payload(obj)
        if convert:
            out: dict[str, Any] = self.envelope.from_json(head, "", errors)
        else:
            self.envelope.check(head, "", errors)
            out = dict(obj)
        payload_node = self._payload_node(obj, errors)
        if _PAYLOAD not in obj:
            errors.append((_PAYLOAD, "missing"))
        elif payload_node is not None and convert:
            out[_PAYLOAD] = payload_node.from_json(obj[_PAYLOAD], _PAYLOAD, errors)
        elif payload_node is not None:
            payload_node.check(obj[_PAYLOAD], _PAYLOAD, errors)
        _check_keys(obj, errors)
        return out

    def _payload_node(self, obj: Mapping[str, Any], errors: FieldErrors) -> RecordNode | None:
        event_type = obj.get("event_type")
        info = EVENT_TYPES.get(event_type) if isinstance(event_type, str) else None
        if info is None:
            if event_type == "UNKNOWN":
                errors.append(("event_type", "UNKNOWN cannot be published; name the event type"))
            return None  # other bad event types are reported by the enum check
        system = obj.get("source_system")
        if system != info.source_system and isinstance(system, str):
            errors.append(
                ("source_system", f"{event_type} comes from {info.source_system}, not {system}")
            )
        return self.payloads[str(event_type)]


def _payload_node(envelope: RecordNode, record_name: str) -> RecordNode:
    """The payload record node for ``record_name`` inside the Envelope's payload union."""
    union = envelope.fields[_PAYLOAD][0]
    for branch in getattr(union, "branches", ()):
        if isinstance(branch, RecordNode) and branch.name == record_name:
            return branch
    raise LookupError(f"payload union of the Envelope lacks {record_name}")


def _without_payload(obj: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != _PAYLOAD}


def _check_keys(obj: Mapping[str, Any], errors: FieldErrors) -> None:
    for key in ("batch_code", "source_ref"):
        if obj.get(key) == "":
            errors.append((key, "must not be empty"))


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
        if data is None or len(data) == 0:
            raise SerializationError("empty record value (tombstone?)", origin=origin)
        fmt = self._readers.get(bytes(data[:1]))
        if fmt is None or bytes(data[: len(fmt.magic)]) != fmt.magic:
            raise SerializationError(
                f"unknown wire format: starts with {bytes(data[:2]).hex()}; expected "
                f"{' or '.join(m.magic.hex() for m in self._readers.values())}",
                origin=origin,
            )
        writer_schema, start = fmt.writer_schema(data, origin)
        record: Any
        try:
            if native:
                native_record, end = read_native(bytes(data), start, writer_schema, self._schema)
                record = NativeEnvelope(native_record)
            else:
                record, end = self._read(data, start, writer_schema)
        except Exception as exc:
            detail = str(exc) or "the body ends too early"
            raise SerializationError(
                f"cannot decode Avro body: {type(exc).__name__}: {detail}",
                field=_field_hint(exc),
                origin=origin,
            ) from exc
        if end != len(data):
            raise SerializationError(
                f"{len(data) - end} bytes left after the Envelope: wrong writer schema?",
                origin=origin,
            )
        if not isinstance(record, dict):
            raise SerializationError("decoded value is not a record", origin=origin)
        if isinstance(record.get("event_id"), uuid.UUID):
            record["event_id"] = str(record["event_id"])
        return record

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
    return {**envelope, _PAYLOAD: (info.payload_fullname, envelope.get(_PAYLOAD))}


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


__all__ = [
    "CONFLUENT_MAGIC",
    "ENVELOPE_SUBJECT",
    "SINGLE_OBJECT_MAGIC",
    "ConfluentFormat",
    "EnvelopeSerde",
    "EnvelopeShape",
    "SchemaRegistry",
    "SingleObjectFormat",
    "WireFormat",
    "envelope_from_json",
    "envelope_to_json",
    "topic_subject",
]
