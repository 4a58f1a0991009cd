"""Coercion of raw row values towards the Avro type of their field.

Text becomes numbers, booleans, decimal strings and ISO timestamps (naive ones read in the
mapping's time zone) in the JSON forms the envelope serde's ``from_json`` accepts; every value
that cannot be coerced adds ``(field path, reason)`` to the row's errors and is passed on as it
was, so the serde names it too. Numbers in text are ASCII digits only: ``1_000``, ``١٢٣``,
``inf`` or ``nan`` are refused, though Python's ``int``/``float`` would read them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

from producers.mapping.evaluate import MissingColumn, as_text
from tracesync.contracts.avro_values import (
    ArrayNode,
    DateNode,
    DecimalNode,
    EnumNode,
    FieldErrors,
    Node,
    OptionalNode,
    Primitive,
    RecordNode,
    TimestampMillis,
    UuidNode,
)
from tracesync.contracts.avro_values.scalars import NUMBER_TEXT

_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")

_TRUE = frozenset({"true", "t", "yes", "y", "1", "on"})
_FALSE = frozenset({"false", "f", "no", "n", "0", "off"})

ANY_NODE = Node()
"""Stands for an unknown payload type: values pass through uncoerced."""


def coerce(value: Any, node: Node, path: str, errors: FieldErrors, zone: dt.tzinfo) -> Any:
    """A raw row value made JSON-friendly for its Avro type (what ``from_json`` accepts)."""
    if isinstance(node, OptionalNode):
        if value is None or value == "" or isinstance(value, MissingColumn):
            return None
        return coerce(value, node.inner, path, errors, zone)
    if isinstance(value, MissingColumn):
        errors.append((path, f"column {value.name!r} is missing from the row"))
        return None
    if value is None:
        return None  # the serde names the field ("expected ..., got null")
    if isinstance(node, RecordNode):
        if not isinstance(value, Mapping):
            return value
        return {
            k: coerce(v, node.fields[k][0], f"{path}.{k}", errors, zone) if k in node.fields else v
            for k, v in value.items()
        }
    if isinstance(node, ArrayNode):
        items = value if isinstance(value, list) else ([] if value == "" else [value])
        return [coerce(v, node.items, f"{path}[{i}]", errors, zone) for i, v in enumerate(items)]
    handler = _SCALARS.get(type(node))
    if handler is None:
        return value
    try:
        return handler(value, node, zone)
    except (ValueError, ArithmeticError) as exc:
        errors.append((path, str(exc)))
        return value


def _primitive(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    kind = node.kind if isinstance(node, Primitive) else "string"
    if kind == "string":
        return value if isinstance(value, str) else as_text(value)
    if kind in ("int", "long"):
        return _integer(value)
    if kind in ("float", "double"):
        return _float(value)
    if kind == "boolean":
        return _boolean(value)
    return value


def _float(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {value!r}")
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("empty; expected a number")
        try:
            if NUMBER_TEXT.fullmatch(value.strip()) is None:
                raise ValueError
            return float(value.strip())
        except ValueError:
            raise ValueError(f"not a number: {value!r}") from None
    return float(value) if isinstance(value, Decimal | int) else value


def _integer(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected an integer, got {value!r}")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty; expected an integer")
        try:
            if _INTEGER_TEXT.fullmatch(text) is None:
                raise ValueError
            return int(text)
        except ValueError:
            raise ValueError(f"not an integer: {value!r}") from None
    if isinstance(value, Decimal | float) and value == int(value):
        return int(value)
    return value


def _boolean(value: Any) -> Any:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"not a boolean: {value!r} (true/false, yes/no, 1/0)")


def _decimal(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("empty; expected a decimal number")
        return value.strip()
    if isinstance(value, bool):
        raise ValueError(f"expected a decimal number, got {value!r}")
    return str(value) if isinstance(value, Decimal | int | float) else value


def _timestamp(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValueError("empty; expected a timestamp")
        try:
            value = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 timestamp: {text!r}") from None
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo is not None else value.replace(tzinfo=zone)
        return aware.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    if isinstance(value, dt.date):
        raise ValueError(f"a date without time: {value.isoformat()}")
    return value


def _date(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return value.strip()[:10] if isinstance(value, str) else value


def _enum(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


def _uuid(value: Any, node: Node, zone: dt.tzinfo) -> Any:
    return str(value).strip()


_SCALARS: dict[type[Node], Callable[[Any, Node, dt.tzinfo], Any]] = {
    Primitive: _primitive,
    DecimalNode: _decimal,
    TimestampMillis: _timestamp,
    DateNode: _date,
    EnumNode: _enum,
    UuidNode: _uuid,
}
