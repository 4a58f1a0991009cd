"""The framings of Avro bodies on the wire, told apart by their first byte.

* Avro single-object encoding (``C3 01`` + 8-byte CRC-64-AVRO fingerprint + body): the decoder
  knows the fingerprint of the current Envelope and of every released one (``avro/released/``) and
  resolves old data to the current schema;
* the Confluent wire format (``00`` + 4-byte big-endian schema id + body) with ids from a schema
  registry behind the small :class:`SchemaRegistry` protocol.

Each :class:`WireFormat` writes its header and, reading, names the writer schema of a record.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterable
from typing import Protocol

from fastavro.schema import parse_schema

from tracesync.contracts.schemas import (
    ENVELOPE,
    JsonSchema,
    SchemaSet,
    current,
    released_versions,
    schema_fingerprint,
)
from tracesync.errors import InfrastructureError, RecordOrigin, SerializationError

SINGLE_OBJECT_MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
ENVELOPE_SUBJECT = "tracesync.events.Envelope"
"""Registry subject of the Envelope (record-name strategy: one subject for all source topics)."""


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
