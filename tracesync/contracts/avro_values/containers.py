"""Nodes of Avro's composite types: arrays, maps, unions (optional or general) and records.

They walk into their items and extend the field path (``lines[2].quantity``) so that a problem
deep inside a value is reported where it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from tracesync.contracts.avro_values.base import (
    MISSING,
    FieldErrors,
    Node,
    is_sequence,
    join,
    show,
)


class ArrayNode(Node):
    def __init__(self, items: Node) -> None:
        self.items = items

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not is_sequence(value):
            errors.append((path, f"expected a list, got {show(value)}"))
            return
        for index, item in enumerate(value):
            self.items.check(item, f"{path}[{index}]", errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not is_sequence(value):
            errors.append((path, f"expected a list, got {show(value)}"))
            return None
        return [self.items.from_json(v, f"{path}[{i}]", errors) for i, v in enumerate(value)]

    def to_json(self, value: Any) -> Any:
        return [self.items.to_json(v) for v in value]


class MapNode(Node):
    def __init__(self, values: Node) -> None:
        self.values = values

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Mapping):
            errors.append((path, f"expected an object, got {show(value)}"))
            return
        for key, item in value.items():
            self.values.check(item, f"{path}[{key!r}]", errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not isinstance(value, Mapping):
            errors.append((path, f"expected an object, got {show(value)}"))
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
            errors.append((path, f"{show(value)} fits no branch of the union"))

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        for branch in self.branches:
            attempt: FieldErrors = []
            converted = branch.from_json(value, path, attempt)
            if not attempt:
                return converted
        errors.append((path, f"{show(value)} fits no branch of the union"))
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
        self.fields: dict[str, tuple[Node, Any]] = {}  # name -> (node, default or MISSING)

    def check(self, value: Any, path: str, errors: FieldErrors) -> None:
        if not isinstance(value, Mapping):
            errors.append((path or "<root>", f"expected a {self.name} object, got {show(value)}"))
            return
        for name, (node, default) in self.fields.items():
            item = value.get(name, MISSING)
            if item is MISSING:
                if default is MISSING:
                    errors.append((join(path, name), "missing"))
                continue
            node.check(item, join(path, name), errors)
        self._unknown(value, path, errors)

    def from_json(self, value: Any, path: str, errors: FieldErrors) -> Any:
        if not isinstance(value, Mapping):
            errors.append((path or "<root>", f"expected a {self.name} object, got {show(value)}"))
            return None
        out: dict[str, Any] = {}
        for name, (node, default) in self.fields.items():
            item = value.get(name, MISSING)
            if item is MISSING:
                if default is MISSING:
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
