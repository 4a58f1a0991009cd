"""Compatibility with the released versions: backward for every type, forward too for the output
records (chain, alerts, receipts), headers that only grow; every break names its field."""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from tracesync.cli import main
from tracesync.contracts import deadletter_contract
from tracesync.contracts.schema_compat import (
    FORWARD,
    CompatProblem,
    check_backward,
    check_forward,
    check_released,
    release,
)
from tracesync.contracts.schemas import (
    OUTPUT_ROOTS,
    RELEASE_ROOTS,
    ReleasedVersion,
    SchemaSet,
    current,
    released_versions,
)
from tracesync.deadletter import CONVENTION
from tracesync.errors import ConfigurationError


def test_current_schemas_are_compatible_with_every_released_version() -> None:
    problems = check_released(current(), released_versions())
    assert problems == [], "\n".join(p.describe() for p in problems)


def test_the_latest_release_holds_every_output_record_and_the_dead_letter_headers() -> None:
    latest = released_versions()[-1]
    assert set(OUTPUT_ROOTS) <= set(latest.schemas.names())
    assert deadletter_contract.read_convention(latest.schemas.directory) == CONVENTION


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


def _field(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(f for f in schema["fields"] if f["name"] == name)
    return found


def test_a_dropped_chain_field_breaks_consumers_and_is_named() -> None:
    """Readers on the current schema would not notice; consumers on the released one would."""

    def drop(schema: dict[str, Any]) -> None:
        schema["fields"].remove(_field(schema, "plant"))

    changed = _changed("TraceChain", drop)
    assert check_backward(changed, _released_now()) == []
    problems = check_forward(changed, _released_now())
    assert _fields(problems) == {"TraceChain.plant"}
    assert all(p.direction == FORWARD for p in problems)
    assert "reader_field_missing_default_value" in problems[0].reason
    assert "v1 forward: TraceChain.plant" in problems[0].describe()


def test_a_dropped_nested_chain_field_is_named_by_its_path() -> None:
    def drop(schema: dict[str, Any]) -> None:
        schema["fields"].remove(_field(schema, "issued_quantity"))

    problems = check_released(_changed("ChainWarehouse", drop), _released_now())
    assert {"TraceChain.warehouse.issued_quantity", "ChainWarehouse.issued_quantity"} == (
        _fields(problems)
    )


def test_a_new_enum_symbol_without_default_breaks_consumers() -> None:
    def add(schema: dict[str, Any]) -> None:
        schema["symbols"].insert(0, "WITHDRAWN")
        del schema["default"]

    released = [
        ReleasedVersion(
            1, _released_now()[0].schemas.with_changes({"Severity": _without_default("Severity")})
        )
    ]
    problems = check_forward(_changed("Severity", add), released)
    assert "TraceChain.complaints[].severity" in _fields(problems)


def _without_default(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = copy.deepcopy(current().raw(name))
    del schema["default"]
    return schema


def test_a_changed_alert_field_type_is_reported_both_ways() -> None:
    def to_string(schema: dict[str, Any]) -> None:
        _field(schema, "occurred_at")["type"] = "string"

    problems = check_released(_changed("Alert", to_string), _released_now())
    assert {(p.type_name, p.field, p.direction) for p in problems} >= {
        ("Alert", "occurred_at", "backward"),
        ("Alert", "occurred_at", "forward"),
    }


def test_a_removed_output_record_is_reported() -> None:
    names = [n for n in current().names() if n != "FileReceipt"]
    without = SchemaSet.in_memory({n: current().raw(n) for n in names})
    problems = check_forward(without, _released_now())
    assert [(p.type_name, p.reason) for p in problems] == [
        ("FileReceipt", "removed: consumers of the released version read it")
    ]


def test_dead_letter_headers_may_grow_but_not_lose_or_change_one() -> None:
    released = CONVENTION
    grown = (*CONVENTION, replace(CONVENTION[0], name="dlq.extra", required=False))
    assert list(deadletter_contract.check_headers(released, grown)) == []
    without_offset = tuple(h for h in CONVENTION if h.name != "dlq.offset")
    retyped = tuple(
        replace(h, format="text") if h.name == "dlq.partition" else h for h in CONVENTION
    )
    optional = tuple(
        replace(h, required=False) if h.name == "dlq.reason" else h for h in CONVENTION
    )
    assert [h for h, _ in deadletter_contract.check_headers(released, without_offset)] == [
        "dlq.offset"
    ]
    assert [h for h, _ in deadletter_contract.check_headers(released, retyped)] == ["dlq.partition"]
    assert [h for h, _ in deadletter_contract.check_headers(released, optional)] == ["dlq.reason"]


def test_release_writes_the_header_convention_and_refuses_a_forward_break(tmp_path: Path) -> None:
    names = current().closure(RELEASE_ROOTS)
    src, released = tmp_path / "avro", tmp_path / "avro" / "released"
    _write(src, current(), names)
    assert release(src, released) == 1
    assert deadletter_contract.read_convention(released / "v1") == CONVENTION
    dropped = _changed("Alert", lambda s: s["fields"].remove(_field(s, "subject")))
    _write(src, dropped, ["Alert"])
    with pytest.raises(ConfigurationError, match=r"v1 forward: Alert\.subject"):
        release(src, released)


def test_schemas_check_passes_on_the_repository() -> None:
    result = CliRunner().invoke(main, ["schemas", "check"])
    assert result.exit_code == 0, result.output
    assert "full for TraceChain, Alert, FileReceipt" in result.output
