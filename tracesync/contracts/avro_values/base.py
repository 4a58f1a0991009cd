"""What every node shares: the error list, the node protocol, small value tests.

A node reports problems by appending ``(field path, reason)`` pairs to a :data:`FieldErrors` list
and goes on, so one pass names every bad field.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

FieldErrors = list[tuple[str, str]]
"""(field path, reason) pairs."""

MISSING: Any = object()
"""Marks a field without a default (and an absent value)."""


def join(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


class Node:
    """One schema position; subclasses know one Avro type."""

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        raise NotImplementedError

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        raise NotImplementedError

    def to_json(self, value: Any) -> Any:
        return value


def is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def show(value: Any) -> str:
    text = repr(value)
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"{type(value).__name__} {shown}"


def exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def fail() -> Any:
    """Raise ValueError (for use inside an expression)."""
    raise ValueError
