"""A small typed client for the schema registry's Confluent-compatible API.

It wraps confluent-kafka's :class:`SchemaRegistryClient` (which Apicurio answers under
``/apis/ccompat/v7``): register Avro schemas under a subject, read them back by id, set and test
compatibility rules. Registry and transport failures become :class:`RegistryError` (a tracesync
:class:`~tracesync.errors.InfrastructureError`); a schema refused by the subject's compatibility
rule becomes :class:`IncompatibleSchemaError`. The wrapped client is exposed for confluent-kafka's
``AvroSerializer``/``AvroDeserializer``, which write the Confluent wire format (magic byte 0, then
the 4-byte big-endian schema id, then the Avro body).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from types import TracebackType
from typing import Any, TypeVar

import httpx as _transport
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError

from tracesync.errors import InfrastructureError
from tracesync.settings import RegistrySettings

T = TypeVar("T")

_CONFLICT = 409  # the Confluent API's status for a schema that breaks the compatibility rule
_AVRO = "AVRO"


class RegistryError(InfrastructureError):
    """The registry refused a request or could not be reached."""

    def __init__(self, message: str, *, status: int | None = None, code: int | None = None):
        self.status = status
        self.code = code
        super().__init__(message)


class IncompatibleSchemaError(RegistryError):
    """A schema breaks the compatibility rule of the subject it was registered under."""


class Compatibility(StrEnum):
    """Compatibility rules of the Confluent API."""

    NONE = "NONE"
    BACKWARD = "BACKWARD"
    BACKWARD_TRANSITIVE = "BACKWARD_TRANSITIVE"
    FORWARD = "FORWARD"
    FORWARD_TRANSITIVE = "FORWARD_TRANSITIVE"
    FULL = "FULL"
    FULL_TRANSITIVE = "FULL_TRANSITIVE"


@dataclass(frozen=True)
class RegisteredSchema:
    """One version of a subject as the registry knows it."""

    subject: str
    schema_id: int
    version: int
    schema_str: str


class SchemaRegistry:
    """Typed access to one registry; use as a context manager or call :meth:`close`."""

    def __init__(self, url: str, *, timeout_s: float = 10.0, max_retries: int = 2) -> None:
        self.url = url
        self._client = SchemaRegistryClient(
            {"url": url, "timeout": timeout_s, "max.retries": max_retries}
        )

    @classmethod
    def from_settings(cls, settings: RegistrySettings) -> SchemaRegistry:
        return cls(settings.url)

    @property
    def client(self) -> SchemaRegistryClient:
        """The wrapped confluent-kafka client, for serializers."""
        return self._client

    def register_avro(self, subject: str, schema_str: str) -> int:
        """Register an Avro schema under ``subject``; returns its id (equal schemas, equal ids)."""
        schema = Schema(schema_str, schema_type=_AVRO)
        schema_id: int = self._call(
            f"register schema under {subject!r}",
            lambda: self._client.register_schema(subject, schema),
        )
        return schema_id

    def schema_str(self, schema_id: int) -> str:
        """The schema text registered with ``schema_id``."""
        schema = self._call(
            f"get schema id {schema_id}", lambda: self._client.get_schema(schema_id)
        )
        return str(schema.schema_str)

    def latest(self, subject: str) -> RegisteredSchema:
        """The latest version registered under ``subject``."""
        found = self._call(
            f"get latest version of {subject!r}",
            lambda: self._client.get_latest_version(subject),
        )
        if found.schema_id is None or found.version is None:
            raise RegistryError(f"registry at {self.url} answered {subject!r} without id/version")
        return RegisteredSchema(
            subject=subject,
            schema_id=int(found.schema_id),
            version=int(found.version),
            schema_str=str(found.schema.schema_str),
        )

    def subjects(self) -> list[str]:
        """All subjects with at least one live version."""
        names: list[str] = self._call("list subjects", self._client.get_subjects)
        return names

    def set_compatibility(self, level: Compatibility, subject: str | None = None) -> Compatibility:
        """Set the rule of ``subject`` (or the global default when None); returns the rule set."""
        target = subject or "the global default"
        answer = self._call(
            f"set compatibility {level} on {target}",
            lambda: self._client.set_compatibility(subject_name=subject, level=level.value),
        )
        return Compatibility(_compatibility_of(answer))

    def compatibility(self, subject: str | None = None) -> Compatibility:
        """The rule of ``subject`` (or the global default when None)."""
        target = subject or "the global default"
        answer = self._call(
            f"get compatibility of {target}",
            lambda: self._client.get_compatibility(subject_name=subject),
        )
        return Compatibility(_compatibility_of(answer))

    def is_compatible(self, subject: str, schema_str: str) -> bool:
        """Whether ``schema_str`` may be registered as the next version of ``subject``."""
        schema = Schema(schema_str, schema_type=_AVRO)
        answer = self._call(
            f"test compatibility with {subject!r}",
            lambda: self._client.test_compatibility(subject, schema),
        )
        return bool(answer)

    def avro_serializer(self, schema_str: str, *, auto_register: bool = True) -> AvroSerializer:
        """A serializer writing the Confluent wire format with ``schema_str``."""
        conf = {"auto.register.schemas": auto_register}
        serializer: AvroSerializer = AvroSerializer(self._client, schema_str, conf=conf)
        return serializer

    def avro_deserializer(self, reader_schema_str: str | None = None) -> AvroDeserializer:
        """A deserializer resolving writer schemas by the id in each message."""
        deserializer: AvroDeserializer = AvroDeserializer(self._client, reader_schema_str)
        return deserializer

    def close(self) -> None:
        """Close the client's HTTP connections (its httpx session)."""
        # confluent-kafka 2.12's client has no close(); leaving its context closes the session
        self._client.__exit__(None, None, None)

    def __enter__(self) -> SchemaRegistry:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _call(self, what: str, action: Callable[[], T]) -> T:
        try:
            return action()
        except SchemaRegistryError as exc:
            kind = IncompatibleSchemaError if exc.http_status_code == _CONFLICT else RegistryError
            raise kind(
                f"registry at {self.url} refused to {what}: {exc.error_message}",
                status=exc.http_status_code,
                code=exc.error_code,
            ) from exc
        except _transport.TransportError as exc:
            raise RegistryError(f"registry at {self.url} unreachable ({what}): {exc}") from exc


def _compatibility_of(answer: Any) -> str:
    """The level in a config answer: a str, or a dict with compatibility(Level)."""
    if isinstance(answer, dict):
        return str(answer.get("compatibility") or answer.get("compatibilityLevel"))
    return str(answer)
