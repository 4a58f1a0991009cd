"""The base of every target-system transport (HTTP, database table, file export).

A transport delivers one :class:`~sinks.targets.routing.Notice` per call and either returns (the
target
acknowledged it) or raises :class:`TargetError` saying whether trying again may help. Retries,
backoff, the sent-ledger and dead-lettering are the core's business (:mod:`sinks.targets.sink`),
not the
transport's. Every transport must accept the same notice twice without doing it twice, by its
idempotency key: the ledger is written after the acknowledgement, so a crash in between re-sends.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from sinks.targets.routing import Notice
from tracesync.errors import ConfigurationError, TracesyncError

T = TypeVar("T")


class TargetError(TracesyncError):
    """A target did not take a notice; ``retriable`` says whether the same call may succeed."""

    def __init__(self, reason: str, *, target: str, retriable: bool) -> None:
        self.reason = reason
        self.target = target
        self.retriable = retriable
        super().__init__(f"target {target}: {reason}")


class Target(ABC):
    """One configured target system (a ``[targets.NAME]`` table of the routes file)."""

    transport: ClassVar[str]
    options: ClassVar[frozenset[str]]

    def __init__(self, name: str, config: Mapping[str, Any], home: Path) -> None:
        unknown = set(config) - self.options - {"transport"}
        if unknown:
            raise ConfigurationError(
                f"target {name!r} ({self.transport}): unknown options {sorted(unknown)}; "
                f"allowed: {sorted(self.options)}"
            )
        self.name = name
        self.config = config
        self.home = home

    def option(self, key: str, kind: type[T], default: T | None = None) -> T:
        """A typed option; ConfigurationError when it has the wrong type or is missing."""
        value = self.config.get(key, default)
        if value is None:
            raise ConfigurationError(f"target {self.name!r}: option {key!r} is required")
        if kind is float and isinstance(value, int):
            value = float(value)
        if not isinstance(value, kind):
            raise ConfigurationError(
                f"target {self.name!r}: option {key!r} must be {kind.__name__}, got {value!r}"
            )
        return value

    @abstractmethod
    def send(self, notice: Notice) -> None:
        """Deliver one notice; return when the target acknowledged it, else raise TargetError."""

    def close(self) -> None:  # noqa: B027 - optional hook, most transports hold nothing
        """Release connections and files."""

    def error(self, reason: str, *, retriable: bool) -> TargetError:
        return TargetError(reason, target=self.name, retriable=retriable)
