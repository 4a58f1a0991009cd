"""Serde for the pipeline's own records (``TraceChain``, ``Alert``): one named record of avro/.

Same wire formats as the envelope serde (:mod:`tracesync.contracts.serde`): Avro single-object
encoding
(fingerprint header) or the Confluent wire format (schema id from the registry). Records are
written by a writer compiled from the schema (:mod:`tracesync.contracts.avro_writer`: the same
bytes as fastavro's, several times faster), or by fastavro where the schema does not compile, and
read by a reader compiled from it (:mod:`tracesync.contracts.avro_reader`, with fastavro's own
logical-type conversions: the same values as fastavro's ``schemaless_reader``, about twice as fast).
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import Any

from fastavro import schemaless_reader, schemaless_writer
from fastavro.read import LOGICAL_READERS

from tracesync.contracts.avro_reader import Reader, compile_reader
from tracesync.contracts.avro_writer import UnsupportedSchemaError, Writer, compile_writer
from tracesync.contracts.schemas import SchemaSet, current
from tracesync.contracts.wire_formats import (
    CONFLUENT_MAGIC,
    SINGLE_OBJECT_MAGIC,
    SchemaRegistry,
    topic_subject,
)
from tracesync.errors import RecordOrigin, SerializationError


class RecordSerde:
    """Encode and decode one record type; decoding accepts the header it writes."""

    def __init__(self, name: str, header: bytes, schemas: SchemaSet | None = None) -> None:
        self.name = name
        self._schemas = schemas or current()
        self._schema = self._schemas.parsed(name)
        self._header = header
        self._writer: Writer | None
        try:
            self._writer = compile_writer(self._schema)
        except UnsupportedSchemaError:
            self._writer = None
        self._reader = _compiled_reader(self._schema)
        # whatever this serde writes, it also reads the single-object form of the same schema
        self._readable = (header, SINGLE_OBJECT_MAGIC + self._schemas.fingerprint(name))

    @property
    def schema(self) -> Any:
        """The fastavro-parsed schema."""
        return self._schema

    @property
    def compiled(self) -> bool:
        """Whether records are written by the compiled writer (else by fastavro)."""
        return self._writer is not None

    @classmethod
    def single_object(cls, name: str) -> RecordSerde:
        schemas = current()
        return cls(name, SINGLE_OBJECT_MAGIC + schemas.fingerprint(name), schemas)

    @classmethod
    def confluent(cls, name: str, registry: SchemaRegistry, topic: str) -> RecordSerde:
        schemas = current()
        schema_id = registry.register_avro(topic_subject(topic), schemas.canonical_json(name))
        return cls(name, CONFLUENT_MAGIC + struct.pack(">I", schema_id), schemas)

    def encode(self, record: dict[str, Any]) -> bytes:
        if self._writer is not None:
            data = bytearray(self._header)
            try:
                self._writer(data, record)
            except Exception as exc:
                raise SerializationError(f"cannot encode {self.name}: {exc}") from exc
            return bytes(data)
        out = io.BytesIO()
        out.write(self._header)
        try:
            schemaless_writer(out, self._schema, record)
        except Exception as exc:
            raise SerializationError(f"cannot encode {self.name}: {exc}") from exc
        return out.getvalue()

    def decode(self, data: bytes, origin: RecordOrigin | None = None) -> dict[str, Any]:
        header = self._header_of(data)
        if header is None:
            origin = origin or RecordOrigin()
            raise SerializationError(
                f"not a {self.name} record of this schema version "
                f"(header {bytes(data[:10]).hex() if data else 'empty'})",
                origin=origin,
            )
        try:
            record = self._read(data, len(header))
        except Exception as exc:
            raise SerializationError(
                f"cannot decode {self.name}: {exc}", origin=origin or RecordOrigin()
            ) from exc
        if not isinstance(record, dict):
            raise SerializationError(
                f"{self.name} did not decode to a record", origin=origin or RecordOrigin()
            )
        return record

    def _header_of(self, data: bytes) -> bytes | None:
        """The readable header ``data`` starts with (a plain loop: this runs for every record)."""
        if data:
            for header in self._readable:
                if data.startswith(header):
                    return header
        return None

    def head_reader(self, fields: int) -> Callable[[bytes], dict[str, Any]]:
        """A decoder of the record's first ``fields`` fields only (Avro writes fields in order,
        so a record's first fields are a record of their own): cheap where only they count."""
        head = {**self._schema, "name": f"{self._schema['name']}Head"}
        head["fields"] = self._schema["fields"][:fields]
        read = compile_reader(head, LOGICAL_READERS)

        def decode(data: bytes) -> dict[str, Any]:
            start = next((len(h) for h in self._readable if data and data.startswith(h)), None)
            if start is None:
                raise SerializationError(f"not a {self.name} record of this schema version")
            try:
                value: dict[str, Any] = read(bytes(data), start)[0]
            except Exception as exc:
                raise SerializationError(f"cannot decode {self.name}: {exc}") from exc
            return value

        return decode

    def _read(self, data: bytes, start: int) -> Any:
        if self._reader is not None:
            return self._reader(data if isinstance(data, bytes) else bytes(data), start)[0]
        body = io.BytesIO(data)
        body.seek(start)
        return schemaless_reader(body, self._schema, None)


def _compiled_reader(schema: Any) -> Reader | None:
    """The compiled reader of ``schema``, or None where it does not compile (fastavro reads)."""
    try:
        return compile_reader(schema, LOGICAL_READERS)
    except ValueError:
        return None
