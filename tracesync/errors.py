"""The project's error hierarchy.

Every error raised on purpose by tracesync derives from :class:`TracesyncError`. Subclasses carry
the context an operator needs (batch code, topic, partition, offset, field) and library errors are
wrapped with ``raise ... from exc`` so the original cause stays visible.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class TracesyncError(Exception):
    """Root of all tracesync errors."""


class ConfigurationError(TracesyncError):
    """Settings or files on disk are missing or contradict each other."""


class InfrastructureError(TracesyncError):
    """A piece of infrastructure (broker, registry, database) could not be started or reached."""


@dataclass(frozen=True)
class RecordOrigin:
    """Where a record came from; attached to errors and to dead-letter headers."""

    topic: str | None = None
    partition: int | None = None
    offset: int | None = None

    def describe(self) -> str:
        if self.topic is None:
            return "<no origin>"
        return f"{self.topic}[{self.partition}]@{self.offset}"


class RecordError(TracesyncError):
    """A single record is bad; the component routes it aside and goes on."""

    def __init__(
        self,
        reason: str,
        *,
        field: str | None = None,
        batch_code: str | None = None,
        origin: RecordOrigin | None = None,
    ) -> None:
        self.reason = reason
        self.field = field
        self.batch_code = batch_code
        self.origin = origin or RecordOrigin()
        super().__init__(self.describe())

    def describe(self) -> str:
        parts = [self.reason]
        if self.field:
            parts.append(f"field={self.field}")
        if self.batch_code:
            parts.append(f"batch={self.batch_code}")
        if self.origin.topic is not None:
            parts.append(f"origin={self.origin.describe()}")
        return "; ".join(parts)


class SerializationError(RecordError):
    """A record could not be encoded to or decoded from its wire format."""


class ValidationError(RecordError):
    """A record is well-formed but breaks a rule of its schema or of the domain."""


class InvalidFieldsError(ValidationError):
    """A record has one or more bad fields; ``errors`` lists every (field path, reason)."""

    def __init__(
        self,
        errors: Sequence[tuple[str, str]],
        *,
        batch_code: str | None = None,
        origin: RecordOrigin | None = None,
    ) -> None:
        self.errors: list[tuple[str, str]] = list(errors)
        listed = "; ".join(f"{field}: {reason}" for field, reason in self.errors)
        super().__init__(
            f"{len(self.errors)} invalid field(s): {listed}",
            field=self.errors[0][0] if self.errors else None,
            batch_code=batch_code,
            origin=origin,
        )


class DeliveryError(TracesyncError):
    """The broker did not acknowledge a record."""


class TopologyError(TracesyncError):
    """Topics exist with a layout that breaks the pipeline (e.g. not co-partitioned)."""
