"""Nodes of Avro's scalar types: primitives, decimals, timestamps, dates, UUIDs and enums.

Beyond Avro's own type check they enforce what Avro leaves out: decimal precision and scale,
aware datetimes, UUID syntax, enum symbols named in the reason; no NUL in a string (PostgreSQL
cannot store one), numbers written with ASCII digits only (``1_000`` and ``١٢٣`` are refused,
though Python would read them), timestamps within the years 1 to 9999 once in UTC.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import uuid
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tracesync.contracts.avro_values.base import (
    FieldErrors,
    Node,
    exponent,
    fail,
    is_number,
    show,
)

INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
NUMBER_TEXT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
"""A decimal number as text: ASCII digits, no digit-group separators."""
NUL = "\x00"


def string_problem(value: Any) -> str | None:
    """Why ``value`` is no acceptable Avro string (None: it is one)."""
    if not isinstance(value, str):
        return f"expected a string, got {show(value)}"
    if NUL in value:
        return "contains a NUL character (U+0000)"
    return None


class Primitive(Node):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        reason = self._problem(value)
        if reason:
            errors.append((path, reason))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        self.check(value, path, errors)
        return float(value) if self.kind in ("float", "double") and is_number(value) else value

    def _problem(self, value: Any) -> str | None:
        kind = self.kind
        if kind == "null":
            return None if value is None else "must be null"
        if kind == "boolean":
            return None if isinstance(value, bool) else f"expected true/false, got {show(value)}"
        if kind == "string":
            return string_problem(value)
        if kind == "bytes":
            return None if isinstance(value, bytes) else f"expected bytes, got {show(value)}"
        if kind in INT_RANGE:
            low, high = INT_RANGE[kind]
            if not isinstance(value, int) or isinstance(value, bool):
                return f"expected an integer, got {show(value)}"
            return None if low <= value <= high else f"out of range for {kind}"
        if not is_number(value):
            return f"expected a number, got {show(value)}"
        return None if math.isfinite(value) else "must be a finite number"


class DecimalNode(Node):
    """A decimal of ``precision`` digits, ``scale`` of them decimals; at least ``minimum``."""

    def __init__(self, precision: int, scale: int, minimum: Decimal | None = None) -> None:
        self.precision = precision
        self.scale = scale
        self.minimum = minimum
        self._quantum = Decimal(1).scaleb(-scale)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Decimal):
            errors.append((path, f"expected decimal.Decimal, got {show(value)}"))
            return
        reason = self._problem(value)
        if reason:
            errors.append((path, reason))
        elif exponent(value) < -self.scale:
            errors.append((path, f"has more than {self.scale} decimal places (quantize it)"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append((path, f"expected a decimal string like '12.5', got {show(value)}"))
            return None
        text = str(value).strip()
        try:
            if isinstance(value, str) and NUMBER_TEXT.fullmatch(text) is None:
                raise InvalidOperation
            number = Decimal(text)
        except InvalidOperation:
            errors.append((path, f"not a decimal number (ASCII digits, '.' decimals): {value!r}"))
            return None
        reason = self._problem(number)
        if reason is None and number.quantize(self._quantum) != number:
            reason = f"has more than {self.scale} decimal places"
        if reason:
            errors.append((path, reason))
            return None
        return number.quantize(self._quantum)

    def to_json(self, value: Any) -> Any:
        return str(value)

    def _problem(self, value: Decimal) -> str | None:
        if not value.is_finite():
            return "must be a finite decimal"
        integer_digits = max(value.adjusted() + 1, 0)
        if integer_digits > self.precision - self.scale:
            limit = self.precision - self.scale
            return f"too large: at most {limit} digits before the decimal point"
        if self.minimum is not None and value < self.minimum:
            return f"must be at least {self.minimum}"
        return None


class TimestampMillis(Node):
    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                errors.append((path, "datetime without a time zone (use UTC)"))
        elif isinstance(value, bool) or not isinstance(value, int):
            errors.append((path, f"expected an aware datetime, got {show(value)}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            try:
                return EPOCH + dt.timedelta(milliseconds=value)
            except OverflowError:
                errors.append((path, f"{value} ms since 1970 is outside the years 1 to 9999"))
                return None
        if not isinstance(value, str):
            errors.append((path, f"expected an ISO-8601 timestamp string, got {show(value)}"))
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            errors.append((path, f"not an ISO-8601 timestamp: {value!r}"))
            return None
        if parsed.tzinfo is None:
            errors.append((path, f"timestamp {value!r} has no UTC offset (add Z or +hh:mm)"))
            return None
        try:
            return parsed.astimezone(dt.UTC)
        except OverflowError:
            errors.append((path, f"timestamp {value!r} is outside the years 1 to 9999 in UTC"))
            return None

    def to_json(self, value: Any) -> Any:
        if isinstance(value, int):
            value = EPOCH + dt.timedelta(milliseconds=value)
        text: str = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")


class DateNode(Node):
    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            errors.append((path, f"expected a datetime.date, got {show(value)}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else fail()
        except ValueError:
            errors.append((path, f"expected a date 'YYYY-MM-DD', got {show(value)}"))
            return None

    def to_json(self, value: Any) -> Any:
        return value.isoformat()


class UuidNode(Node):
    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if isinstance(value, uuid.UUID):
            return
        self.from_json(value, path, errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        try:
            return str(uuid.UUID(value)) if isinstance(value, str) else fail()
        except ValueError:
            errors.append((path, f"expected a UUID string, got {show(value)}"))
            return None

    def to_json(self, value: Any) -> Any:
        return str(value)


class EnumNode(Node):
    def __init__(self, name: str, symbols: Sequence[str]) -> None:
        self.name = name
        self.symbols = tuple(symbols)
        self._allowed = frozenset(symbols)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, str) or value not in self._allowed:
            allowed = ", ".join(self.symbols)
            errors.append((path, f"{show(value)} is not a {self.name}; one of {allowed}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        self.check(value, path, errors)
        return value
