"""Chain records -> trace store rows (pure): child rows, flags, and one version per batch."""

from __future__ import annotations

import json
from decimal import Decimal

from sinks.store.rows import chain_json, chain_rows, jsonable, latest_per_batch
from streams.domain.chain import TraceChain, merge_all
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import view_of
from streams.records import chain_record
from tests.unit import domain_factory as f
from tests.unit.store_plant import chain, plant
from tracesync.devtools.synthetic import synthetic_records


def _by_code(code: str) -> dict[str, object]:
    return next(r for r in plant() if r["batch_code"] == code)


def test_finished_batch_rows_carry_every_child_table() -> None:
    rows = chain_rows(_by_code("FG-B1"))
    assert rows.batch["on_hold"] is True
    assert rows.batch["line_id"] == "L2"
    assert {e["parent_lot"] for e in rows.children["genealogy_edges"]} == {"DOUGH-B1", "FILL-B1"}
    assert [t["trace_code"] for t in rows.children["trace_codes"]] == [
        "TC-FG-B1-0001",
        "TC-FG-B1-0002",
    ]
    assert [s["delivery_id"] for s in rows.children["shipments"]] == ["DLV-1", "DLV-2"]
    assert [p["parameter"] for p in rows.children["parameters_out_of_limit"]] == ["temperature"]
    assert rows.children["complaints"][0]["trace_code"] == "TC-FG-B1-0002"
    assert {(s["location"], s["quantity"]) for s in rows.children["stock"]} == {
        ("WH-A", Decimal("40.000")),
        ("WH-B", Decimal("10.000")),
    }


def test_raw_lot_keeps_its_material_and_no_production() -> None:
    rows = chain_rows(_by_code("RM-SUGAR-L1"))
    assert rows.batch["material_code"] == "SUGAR"
    assert rows.batch["product_code"] is None
    assert rows.batch["on_hold"] is False
    assert rows.children["genealogy_edges"] == []


def test_parameters_within_limits_are_not_stored_as_out_of_limit() -> None:
    rows = chain_rows(chain("X", product="P", parameters=[("OVEN-1", "t", 200.0, 180.0, 220.0)]))
    assert rows.children["parameters_out_of_limit"] == []


def test_chain_json_is_plain_json_data() -> None:
    data = json.loads(chain_rows(_by_code("FG-B1")).batch["chain"])
    assert data["production"]["produced_quantity"] == "100.000"
    assert data["first_event_at"] == "2026-11-02T06:00:00+00:00"
    assert jsonable({"d": Decimal("1.5")}) == {"d": "1.5"}


def test_latest_per_batch_keeps_the_highest_version_whatever_the_order() -> None:
    rows = [chain_rows(chain("A", v)) for v in (3, 7, 1, 7, 5)] + [chain_rows(chain("B", 2))]
    chosen = {r.batch_code: r.version for r in latest_per_batch(rows)}
    assert chosen == {"A": 7, "B": 2}


def test_rows_of_a_chain_built_by_the_domain() -> None:
    events = [
        f.completed("FG-9"),
        f.consumed("FG-9", "LOT-1"),
        f.consumed("FG-9", "LOT-2"),
        f.received("FG-9", "100", "WH-A"),
        f.hold("FG-9", "H-9"),
    ]
    chain_ = merge_all(TraceChain("FG-9"), events)
    record = chain_record(view_of(chain_, ReconciliationRules()))
    rows = chain_rows(record)
    assert rows.version == chain_.version == 5
    assert rows.batch["on_hold"] is True
    assert {e["parent_lot"] for e in rows.children["genealogy_edges"]} == {"LOT-1", "LOT-2"}
    assert rows.children["trace_codes"] == [{"trace_code": "TC-FG-9-1", "batch_code": "FG-9"}]
    assert rows.children["stock"] == [
        {"batch_code": "FG-9", "location": "WH-A", "quantity": Decimal("100")}
    ]


def test_chain_json_is_the_same_data_as_the_generic_conversion() -> None:
    for record in [*plant(), *synthetic_records(200)]:
        assert json.loads(chain_json(record)) == jsonable(record)
