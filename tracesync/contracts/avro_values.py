"""Field-by-field handling of Avro values, with the path of every problem.

An Avro schema (expanded JSON) is compiled once into a tree of :class:`Node` objects. Each node can

* ``check`` a Python value ready for fastavro (``Decimal``, aware ``datetime``, ``date`` …) and
  report every problem with its field path (``payload.produced_quantity.value``), including the
  rules Avro itself does not enforce: decimal precision and scale, time zones, UUID syntax,
  unknown fields;
* ``from_json`` a JSON-friendly value (decimal and timestamp strings as they come over REST);
* ``to_json`` a Python value back to JSON-friendly form.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal, InvalidOperation
from typing import Any

from tracesync.contracts.schemas import JsonSchema, fullname

FieldErrors = list[tuple[str, str]]
"""(field path, reason) pairs."""

_MISSING = object()
_INT_RANGE = {"int": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


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


class Primitive(Node):
    def __init__(self, kind: str) -> None:
        self.kind = kind

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        reason = self._problem(value)
        if reason:
            errors.append((path, reason))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        self.check(value, path, errors)
        return float(value) if self.kind in ("float", "double") and _is_number(value) else value

    def _problem(self, value: Any) -> str | None:
        kind = self.kind
        if kind == "null":
            return None if value is None else "must be null"
        if kind == "boolean":
            return None if isinstance(value, bool) else f"expected true/false, got {_show(value)}"
        if kind == "string":
            return None if isinstance(value, str) else f"expected a string, got {_show(value)}"
        if kind == "bytes":
            return None if isinstance(value, bytes) else f"expected bytes, got {_show(value)}"
        if kind in _INT_RANGE:
            low, high = _INT_RANGE[kind]
            if not isinstance(value, int) or isinstance(value, bool):
                return f"expected an integer, got {_show(value)}"
            return None if low <= value <= high else f"out of range for {kind}"
        if not _is_number(value):
            return f"expected a number, got {_show(value)}"
        return None if math.isfinite(value) else "must be a finite number"


class DecimalNode(Node):
    def __init__(self, precision: int, scale: int) -> None:
        self.precision = precision
        self.scale = scale
        self._quantum = Decimal(1).scaleb(-scale)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Decimal):
            errors.append((path, f"expected decimal.Decimal, got {_show(value)}"))
            return
        reason = self._problem(value)
        if reason:
            errors.append((path, reason))
        elif _exponent(value) < -self.scale:
            errors.append((path, f"has more than {self.scale} decimal places (quantize it)"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            errors.append((path, f"expected a decimal string like '12.5', got {_show(value)}"))
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            errors.append((path, f"not a decimal number: {value!r}"))
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
        return None


class TimestampMillis(Node):
    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if isinstance(value, dt.datetime):
            if value.tzinfo is None or value.utcoffset() is None:
                errors.append((path, "datetime without a time zone (use UTC)"))
        elif isinstance(value, bool) or not isinstance(value, int):
            errors.append((path, f"expected an aware datetime, got {_show(value)}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return _EPOCH + dt.timedelta(milliseconds=value)
        if not isinstance(value, str):
            errors.append((path, f"expected an ISO-8601 timestamp string, got {_show(value)}"))
            return None
        try:
            parsed = dt.datetime.fromisoformat(value)
        except ValueError:
            errors.append((path, f"not an ISO-8601 timestamp: {value!r}"))
            return None
        if parsed.tzinfo is None:
            errors.append((path, f"timestamp {value!r} has no UTC offset (add Z or +hh:mm)"))
            return None
        return parsed.astimezone(dt.UTC)

    def to_json(self, value: Any) -> Any:
        if isinstance(value, int):
            value = _EPOCH + dt.timedelta(milliseconds=value)
        text: str = value.astimezone(dt.UTC).isoformat(timespec="milliseconds")
        return text.replace("+00:00", "Z")


class DateNode(Node):
    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if isinstance(value, dt.datetime) or not isinstance(value, dt.date):
            errors.append((path, f"expected a datetime.date, got {_show(value)}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        try:
            return dt.date.fromisoformat(value) if isinstance(value, str) else _raise()
        except ValueError:
            errors.append((path, f"expected a date 'YYYY-MM-DD', got {_show(value)}"))
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
            return str(uuid.UUID(value)) if isinstance(value, str) else _raise()
        except ValueError:
            errors.append((path, f"expected a UUID string, got {_show(value)}"))
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
            errors.append((path, f"{_show(value)} is not a {self.name}; one of {allowed}"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        self.check(value, path, errors)
        return value


class ArrayNode(Node):
    def __init__(self, items: Node) -> None:
        self.items = items

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not _is_sequence(value):
            errors.append((path, f"expected a list, got {_show(value)}"))
            return
        for index, item in enumerate(value):
            self.items.check(item, f"{path}[{index}]", errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not _is_sequence(value):
            errors.append((path, f"expected a list, got {_show(value)}"))
            return None
        return [self.items.from_json(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]

    def to_json(self, value: Any) -> Any:
        return [self.items.to_json(v) for v in value]


class MapNode(Node):
    def __init__(self, values: Node) -> None:
        self.values = values

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Mapping):
            errors.append((path, f"expected an object, got {_show(value)}"))
            return
        for key, item in value.items():
            self.values.check(item, f"{path}[{key!r}]", errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not isinstance(value, Mapping):
            errors.append((path, f"expected an object, got {_show(value)}"))
            return None
        return {k: self.values.from_json(v, f"{path}[{k!r}]", errors) for k, v in value.items()}

    def to_json(self, value: Any) -> Any:
        return {k: self.values.to_json(v) for k, v in value.items()}


class OptionalNode(Node):
    """The union ``["null", X]``: None or an X."""

    def __init__(self, inner: Node) -> None:
        self.inner = inner

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if value is not None:
            self.inner.check(value, path, errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        return None if value is None else self.inner.from_json(value, path, errors)

    def to_json(self, value: Any) -> Any:
        return None if value is None else self.inner.to_json(value)


class UnionNode(Node):
    """A general union: the value must fit one branch (no per-branch detail is reported)."""

    def __init__(self, branches: Sequence[Node]) -> None:
        self.branches = tuple(branches)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if self._fitting(value) is None:
            errors.append((path, f"{_show(value)} fits no branch of the union"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        for branch in self.branches:
            attempt: FieldErrors = []
            converted = branch.from_json(value, path, attempt)
            if not attempt:
                return converted
        errors.append((path, f"{_show(value)} fits no branch of the union"))
        return None

    def to_json(self, value: Any) -> Any:
        branch = self._fitting(value)
        return value if branch is None else branch.to_json(value)

    def _fitting(self, value: Any) -> Node | None:
        for branch in self.branches:
            attempt: FieldErrors = []
            branch.check(value, "", attempt)
            if not attempt:
                return branch
        return None


class RecordNode(Node):
    def __init__(self, name: str) -> None:
        self.name = name
        self.fields: dict[str, tuple[Node, Any]] = {}  # name -> (node, default or _MISSING)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Mapping):
            errors.append((path or "<root>", f"expected a {self.name} object, got {_show(value)}"))
            return
        for name, (node, default) in self.fields.items():
            item = value.get(name, _MISSING)
            if item is _MISSING:
                if default is _MISSING:
                    errors.append((join(path, name), "missing"))
                continue
            node.check(item, join(path, name), errors)
        self._unknown(value, path, errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not isinstance(value, Mapping):
            errors.append((path or "<root>", f"expected a {self.name} object, got {_show(value)}"))
            return None
        out: dict[str, Any] = {}
        for name, (node, default) in self.fields.items():
            item = value.get(name, _MISSING)
            if item is _MISSING:
                if default is _MISSING:
                    errors.append((join(path, name), "missing"))
                else:
                    out[name] = node.from_json(default, join(path, name), errors)
                continue
            out[name] = node.from_json(item, join(path, name), errors)
        self._unknown(value, path, errors)
        return out

    def to_json(self, value: Any) -> Any:
        return {
            name: node.to_json(value[name])
            for name, (node, _) in self.fields.items()
            if name in value
        }

    def _unknown(self, value: Mapping[str, Any], path: str, errors: FieldErrors) -> None:
        for name in value:
            if name not in self.fields:
                errors.append((join(path, str(name)), f"unknown field of {self.name}"))


def compile_schema(schema: JsonSchema) -> Node:
    """Compile an expanded Avro schema (as produced by ``SchemaSet.expanded``) into nodes."""
    return _Compiler().compile(schema)


class _Compiler:
    def __init__(self) -> None:
        self._named: dict[str, Node] = {}

    def compile(self, schema: JsonSchema) -> Node:
        if isinstance(schema, list):
            return self._union(schema)
        if isinstance(schema, str):
            return self._named.get(fullname(schema)) or Primitive(schema)
        logical = schema.get("logicalType")
        kind = schema["type"]
        if logical == "decimal" and kind == "bytes":
            return DecimalNode(int(schema["precision"]), int(schema.get("scale", 0)))
        if logical == "timestamp-millis" and kind == "long":
            return TimestampMillis()
        if logical == "date" and kind == "int":
            return DateNode()
        if logical == "uuid" and kind == "string":
            return UuidNode()
        if kind == "record":
            return self._record(schema)
        if kind == "enum":
            node = EnumNode(schema["name"], schema["symbols"])
            self._named[fullname(schema["name"])] = node
            return node
        if kind == "array":
            return ArrayNode(self.compile(schema["items"]))
        if kind == "map":
            return MapNode(self.compile(schema["values"]))
        return self.compile(kind)

    def _record(self, schema: Mapping[str, Any]) -> Node:
        node = RecordNode(schema["name"])
        self._named[fullname(schema["name"])] = node
        for field in schema["fields"]:
            node.fields[field["name"]] = (
                self.compile(field["type"]),
                field.get("default", _MISSING),
            )
        return node

    def _union(self, branches: list[JsonSchema]) -> Node:
        nodes = [self.compile(b) for b in branches]
        others = [n for n, b in zip(nodes, branches, strict=True) if b != "null"]
        if len(others) == 1 and len(nodes) == 2:
            return OptionalNode(others[0])
        return UnionNode(nodes)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_sequence(value: Any) -> bool:
    return isinstance(value, (list, tuple))


def _show(value: Any) -> str:
    text = repr(value)
    shown = text if len(text) <= 40 else text[:37] + "..."
    return f"{type(value).__name__} {shown}"


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return exponent if isinstance(exponent, int) else 0


def _raise() -> Any:
    raise ValueError
