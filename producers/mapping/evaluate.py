"""Applying field specs to a row: the raw value each spec gives, before any type coercion.

A column the row lacks is not an error here: it becomes :class:`MissingColumn`, which
:mod:`producers.mapping.coerce` turns into null for an optional field or an error for any other.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from producers.mapping.model import NO_DEFAULT, Column, Const, RecordSpec, Spec, Template
from tracesync.contracts.avro_values import FieldErrors


class _Missing:
    """A column the row lacks (reported as an error at the field that wanted it)."""


MISSING = _Missing()


@dataclass(frozen=True)
class MissingColumn:
    """What a column spec gives when the row lacks the column: null for an optional field,
    an error naming the column for any other."""

    name: str


def lookup(row: Mapping[str, Any], name: str) -> Any:
    """The row's value of a column; ``a/b`` walks nested records (lists are flattened)."""
    value: Any = row
    for part in name.split("/"):
        if isinstance(value, list):
            value = [v.get(part, MISSING) if isinstance(v, Mapping) else MISSING for v in value]
            value = [x for v in value for x in (v if isinstance(v, list) else [v])]
            if any(isinstance(v, _Missing) for v in value):
                return MISSING
        elif isinstance(value, Mapping):
            value = value.get(part, MISSING)
        else:
            return MISSING
        if isinstance(value, _Missing):
            return MISSING
    return value


def evaluate(spec: Spec, row: Mapping[str, Any], path: str, errors: FieldErrors) -> Any:
    """The raw value a spec gives for a row; missing columns become errors at ``path``."""
    if isinstance(spec, Const):
        return spec.value
    if isinstance(spec, Template):
        values = {}
        for name in spec.columns:
            value = lookup(row, name)
            if isinstance(value, _Missing) or value is None:
                errors.append((path, f"column {name!r} is missing or null (template)"))
                return None
            values[name] = as_text(value)
        return spec.text.format_map(values)
    if isinstance(spec, RecordSpec):
        return {k: evaluate(sub, row, f"{path}.{k}", errors) for k, sub in spec.fields.items()}
    return _evaluate_column(spec, row, path, errors)


def _evaluate_column(spec: Column, row: Mapping[str, Any], path: str, errors: FieldErrors) -> Any:
    value = lookup(row, spec.name)
    empty = isinstance(value, _Missing) or value is None or value == ""
    if empty and spec.default is not NO_DEFAULT:
        return spec.default
    if isinstance(value, _Missing):
        return MissingColumn(spec.name)
    if spec.json and isinstance(value, (str, bytes)):
        try:
            value = json.loads(value)
        except ValueError as exc:
            errors.append((path, f"column {spec.name!r} is not valid JSON: {exc}"))
            return None
    if spec.split is not None and isinstance(value, str):
        value = [part.strip() for part in value.split(spec.split) if part.strip()]
    if spec.translate is not None:
        value = _translated(spec.translate, value)
    if spec.items is not None:
        records = value if isinstance(value, list) else [value]
        return [
            evaluate(spec.items, item if isinstance(item, Mapping) else {}, f"{path}[{i}]", errors)
            for i, item in enumerate(records)
        ]
    return value


def _translated(table: Mapping[str, Any], value: Any) -> Any:
    if isinstance(value, list):
        return [_translated(table, v) for v in value]
    key = as_text(value).strip() if value is not None else ""
    return table.get(key, value)


def as_text(value: Any) -> str:
    """A row value as text (dates and timestamps in ISO-8601)."""
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)
