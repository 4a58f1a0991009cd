"""Routing predicates, templates and idempotency keys on real chain records (no I/O)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from sinks.targets.config import load_routes, parse_override, parse_routes
from sinks.targets.routing import PREDICATES, build_route, idempotency_key, render, resolve
from tests.unit import domain_factory as f
from tests.unit.targets_factory import ChainBuilder, inspection, life_of
from tracesync.contracts.record_serde import RecordSerde
from tracesync.errors import ConfigurationError

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"
SERDE = RecordSerde.single_object("TraceChain")


def wire(record: dict[str, Any]) -> dict[str, Any]:
    """The record as the sink sees it: encoded and decoded with the chain topic's serde."""
    return SERDE.decode(SERDE.encode(record))


def route(when: str, params: dict[str, Any] | None = None, **extra: Any) -> Any:
    spec = {"target": "t", "when": when, "params": params or {}, "payload": {"x": "${fact_id}"}}
    return build_route(extra.pop("name", "r"), spec | extra, ["t"])


def facts(when: str, record: dict[str, Any], **params: Any) -> list[str]:
    return [n.fact_id for n in route(when, params).notices(wire(record))]


def test_batch_completed_once_completed_and_same_fact_at_every_later_version() -> None:
    b = ChainBuilder("B1")
    not_yet = b.add(f.erp_receipt("B1", "9"))
    assert facts("batch_completed", not_yet) == []
    later = [b.add(f.completed("B1")), b.add(f.hold("B1", "H1")), b.add(f.received("B1", "9"))]
    ids = {tuple(facts("batch_completed", r)) for r in later}
    assert len(ids) == 1
    (only,) = ids
    assert len(only) == 1 and only[0].startswith("completed@")


def test_hold_active_and_released_are_different_facts_of_the_same_hold() -> None:
    placed, released = life_of("B2")[1:3]
    assert facts("hold_active", placed) == ["hold:B2/H-B2:active"]
    assert facts("hold_released", placed) == []
    assert facts("hold_active", released) == []
    assert facts("hold_released", released) == ["hold:B2/H-B2:released"]


def test_inherited_param_narrows_holds() -> None:
    record = life_of("B3")[1]
    record["holds"].append(
        dict(record["holds"][0], hold_id="H-P", origin_code="LOT-9", inherited=True)
    )
    assert set(facts("hold_active", record)) == {"hold:B3/H-B3:active", "hold:LOT-9/H-P:active"}
    assert facts("hold_active", record, inherited=True) == ["hold:LOT-9/H-P:active"]
    assert facts("hold_active", record, inherited=False) == ["hold:B3/H-B3:active"]


def test_production_receipt_fact_changes_with_the_quantity() -> None:
    b = ChainBuilder("B4")
    assert facts("production_receipt", b.add(f.completed("B4"))) == []
    first = facts("production_receipt", b.add(f.erp_receipt("B4", "100")))
    assert first == ["erp-receipt:100"]
    corrected = f.erp_receipt("B4", "98")
    corrected = f.make(
        corrected.event_type, "B4", corrected.payload, system="ERP", ref="ERP:PR:B4", seq=2
    )
    assert facts("production_receipt", b.add(corrected)) == ["erp-receipt:98"]


def test_inspection_failed_only_for_fail_and_the_plans_asked_for() -> None:
    b = ChainBuilder("B5")
    b.add(inspection("B5", "I-ok", failed=False))
    record = b.add(inspection("B5", "I-bad", failed=True))
    assert facts("inspection_failed", record) == ["inspection:I-bad:FAIL"]
    assert facts("inspection_failed", record, plans=["INCOMING"]) == []
    assert facts("inspection_failed", record, plans=["FINAL"]) == ["inspection:I-bad:FAIL"]


def test_reconciliation_status_and_alert_kind() -> None:
    record = wire(life_of("B6")[3])
    status = record["reconciliation"]["status"]
    assert route("reconciliation_status", {"statuses": [status]}).notices(record)
    assert not route("reconciliation_status", {"statuses": ["MATCHED_NEVER"]}).notices(record)
    alert = {"alert_id": "a-1", "batch_code": "B6", "kind": "HOLD_PLACED", "subject": "H"}
    spec = {"target": "t", "when": "alert_kind", "params": {"kinds": ["HOLD_PLACED"]}}
    alerts = build_route("a", spec | {"payload": {"id": "${alert.alert_id}"}}, ["t"])
    (notice,) = alerts.notices(alert)
    assert notice.fact_id == "alert:a-1" and notice.payload == {"id": "a-1"}
    assert alerts.notices(alert | {"kind": "COMPLAINT_RECEIVED"}) == []


def test_match_narrows_by_field_value() -> None:
    record = wire(life_of("B7")[0])
    assert route("batch_completed", match={"chain.production.line_id": ["L1", "L2"]}).notices(
        record
    )
    assert not route("batch_completed", match={"chain.production.line_id": "L9"}).notices(record)


def test_idempotency_key_depends_on_route_batch_and_fact_never_on_version() -> None:
    key = idempotency_key("r", "B1", "completed@1")
    assert key == idempotency_key("r", "B1", "completed@1")
    others = {
        idempotency_key("r2", "B1", "completed@1"),
        idempotency_key("r", "B2", "completed@1"),
        idempotency_key("r", "B1", "completed@2"),
    }
    assert key not in others and len(others) == 3
    versions = [wire(r) for r in life_of("B8")]
    keys = {n.key for r in versions for n in route("batch_completed").notices(r)}
    assert len(keys) == 1
    assert {n.version for r in versions for n in route("batch_completed").notices(r)} == {
        1,
        2,
        3,
        4,
        5,
    }


def test_render_keeps_types_formats_text_and_tolerates_missing_paths() -> None:
    context = {
        "chain": {
            "q": Decimal("1.500"),
            "t": datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),
            "codes": ["A", "B"],
            "n": None,
        }
    }
    template = {
        "q": "${chain.q}",
        "t": "${chain.t}",
        "codes": "${chain.codes}",
        "first": "${chain.codes.0}",
        "text": "q=${chain.q} of ${chain.n}",
        "missing": "${chain.nope.deeper}",
        "nested": [{"c": 1}, "${chain.codes.1}"],
    }
    assert render(template, context) == {
        "q": "1.500",
        "t": "2026-01-02T03:04:05+00:00",
        "codes": ["A", "B"],
        "first": "A",
        "text": "q=1.500 of ",
        "missing": None,
        "nested": [{"c": 1}, "B"],
    }
    assert resolve(context, "chain.codes.7") is None


def test_example_routes_file_builds_the_documented_notices() -> None:
    config = load_routes(EXAMPLE)
    assert [r.name for r in config.routes] == [
        "wms-inbound-notice",
        "wms-hold-block",
        "wms-hold-unblock",
        "erp-production-receipt",
        "qms-failed-inspection",
    ]
    last = wire(life_of("B9")[-1])
    made = {n.route: n for r in config.routes for n in r.notices(last)}
    assert set(made) == {
        "wms-inbound-notice",
        "wms-hold-unblock",
        "erp-production-receipt",
        "qms-failed-inspection",
    }
    inbound = made["wms-inbound-notice"].payload
    assert inbound["type"] == "INBOUND_NOTICE" and inbound["quantity"] == "100.000"
    assert inbound["reference"] == "TS-B9" and inbound["trace_codes"] == ["TC-B9-1"]
    assert made["qms-failed-inspection"].payload["failed"] == ["ph"]
    assert made["erp-production-receipt"].payload["cost"] == "12.50"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"when": "nope"}, "is not one of"),
        ({"target": "other"}, "target 'other'"),
        ({"params": {"plans": ["X"]}}, "takes params"),
        ({"payload": {"x": "${secret.value}"}}, "placeholder"),
        ({"payload": {}}, "payload table is required"),
        ({"colour": "red"}, "unknown keys"),
    ],
)
def test_bad_routes_are_refused_with_the_reason(spec: dict[str, Any], message: str) -> None:
    base = {"target": "t", "when": "batch_completed", "payload": {"x": "${chain.batch_code}"}}
    with pytest.raises(ConfigurationError, match=message):
        build_route("r", base | spec, ["t"])


def test_required_params_and_param_types() -> None:
    with pytest.raises(ConfigurationError, match="needs params"):
        route("alert_kind")
    with pytest.raises(ConfigurationError, match="must be a list"):
        route("inspection_failed", {"plans": "FINAL"})
    with pytest.raises(ConfigurationError, match="true or false"):
        route("hold_active", {"inherited": "yes"})
    assert set(PREDICATES) >= {"batch_completed", "hold_active", "hold_released"}


def test_routes_file_overrides_and_checks() -> None:
    data = {
        "targets": {"wms": {"transport": "http", "url": "http://a"}},
        "routes": [{"name": "r", "target": "wms", "when": "batch_completed", "payload": {"a": 1}}],
    }
    config = parse_routes(data, {"wms": {"url": "http://b"}})
    assert config.targets["wms"]["url"] == "http://b"
    with pytest.raises(ConfigurationError, match="unknown target"):
        parse_routes(data, {"erp": {"url": "x"}})
    with pytest.raises(ConfigurationError, match="unique"):
        parse_routes(data | {"routes": data["routes"] * 2})
    with pytest.raises(ConfigurationError, match="transport"):
        parse_routes(data | {"targets": {"wms": {"transport": "pigeon"}}})
    with pytest.raises(ConfigurationError, match="retry"):
        parse_routes(data | {"retry": {"attempts": 0}})
    assert parse_override("wms.url=http://x:1/a=b") == ("wms", "url", "http://x:1/a=b")
    with pytest.raises(ConfigurationError):
        parse_override("wms=http://x")
