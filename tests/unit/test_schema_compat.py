"""Backward compatibility: current schemas read every released version; breaks name the field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from tracesync.contracts.schema_compat import CompatProblem, check_backward, release
from tracesync.contracts.schemas import (
    RELEASE_ROOTS,
    ReleasedVersion,
    SchemaSet,
    current,
    released_versions,
)
from tracesync.errors import ConfigurationError


def test_current_schemas_read_every_released_version() -> None:
    problems = check_backward(current(), released_versions())
    assert problems == [], "\n".join(p.describe() for p in problems)


def _released_now() -> list[ReleasedVersion]:
    """The current contract as if it had just been released."""
    names = current().closure(RELEASE_ROOTS)
    return [ReleasedVersion(1, SchemaSet.in_memory({n: current().raw(n) for n in names}))]


def _changed(name: str, edit: Any) -> SchemaSet:
    schema = copy.deepcopy(current().raw(name))
    edit(schema)
    return current().with_changes({name: schema})


def _fields(problems: list[CompatProblem]) -> set[str]:
    return {f"{p.type_name}.{p.field}" for p in problems}


def test_a_new_field_without_default_is_reported_by_name() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "line_speed", "type": "double", "doc": "new"})

    problems = check_backward(_changed("BatchCompleted", add), _released_now())
    assert "BatchCompleted.line_speed" in _fields(problems)
    assert any("reader_field_missing_default_value" in p.reason for p in problems)


def test_a_new_field_with_default_is_compatible() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["fields"].append({"name": "line_speed", "type": "double", "doc": "x", "default": 0})

    assert check_backward(_changed("BatchCompleted", add), _released_now()) == []


def test_a_changed_type_is_reported_with_the_path_of_the_field() -> None:
    def to_double(schema: dict[str, Any]) -> None:
        schema["fields"][0]["type"] = "double"

    problems = check_backward(_changed("Quantity", to_double), _released_now())
    assert "BatchCompleted.produced_quantity.value" in _fields(problems)
    assert "Quantity.value" in _fields(problems)
    assert any("type_mismatch" in p.reason for p in problems)


def test_a_narrowed_envelope_field_is_reported() -> None:
    def narrow(schema: dict[str, Any]) -> None:
        next(f for f in schema["fields"] if f["name"] == "source_seq")["type"] = "int"

    problems = check_backward(_changed("Envelope", narrow), _released_now())
    assert _fields(problems) == {"Envelope.source_seq"}


def test_a_changed_decimal_scale_is_reported_though_avro_allows_it() -> None:
    def rescale(schema: dict[str, Any]) -> None:
        schema["fields"][0]["type"]["scale"] = 2

    problems = check_backward(_changed("Quantity", rescale), _released_now())
    assert "Quantity.value" in _fields(problems)
    assert all("logical type changed" in p.reason for p in problems)


def test_a_dropped_payload_record_is_reported_on_the_union() -> None:
    def drop(schema: dict[str, Any]) -> None:
        payload = next(f for f in schema["fields"] if f["name"] == "payload")
        payload["type"].remove("StockCounted")

    problems = check_backward(_changed("Envelope", drop), _released_now())
    assert "Envelope.payload.<StockCounted>" in _fields(problems)


def test_an_enum_symbol_dropped_without_default_is_reported() -> None:
    def drop(schema: dict[str, Any]) -> None:
        schema["symbols"].remove("CONDITIONAL")
        del schema["default"]

    problems = check_backward(_changed("Verdict", drop), _released_now())
    assert "InspectionRecorded.verdict" in _fields(problems)


def _write(folder: Path, schemas: SchemaSet, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        (folder / f"{name}.avsc").write_text(json.dumps(schemas.raw(name), indent=2))


def test_release_copies_new_versions_only_and_refuses_breaks(tmp_path: Path) -> None:
    names = current().closure(RELEASE_ROOTS)
    src, released = tmp_path / "avro", tmp_path / "avro" / "released"
    _write(src, current(), names)
    assert release(src, released) == 1
    assert release(src, released) is None  # unchanged
    broken = _changed("Envelope", lambda s: s["fields"].append({"name": "x", "type": "int"}))
    _write(src, broken, ["Envelope"])
    with pytest.raises(ConfigurationError, match=r"Envelope\.x"):
        release(src, released)
    assert sorted(p.name for p in released.iterdir()) == ["v1"]
