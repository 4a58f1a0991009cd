"""Text and JSON rendering of trace and recall answers (pure: answers built by hand)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from decimal import Decimal

from sinks.store.lot_facts import LotFacts
from sinks.store.queries import (
    BatchDetail,
    BatchTrace,
    Link,
    RecallReport,
    Reconciliation,
    Resolved,
    TraceReport,
    reconciliation_of,
)
from sinks.store.report import recall_text, reconciliation_line, report_dict, trace_text
from sinks.store.rows import jsonable
from tracesync.plant_time import zone_named, zoned

AT = datetime(2026, 11, 2, 6, 30, tzinfo=UTC)
MISMATCH = Reconciliation(
    "MISMATCH",
    Decimal("100.000"),
    Decimal("98.000"),
    None,
    Decimal("-2.000"),
    None,
    ("ERP",),
)


def _detail(code: str) -> BatchDetail:
    return BatchDetail(
        batch_code=code,
        version=3,
        product_code="PIE",
        product_name="Pie",
        material_code=None,
        order_id="PO-1",
        line_id="L2",
        shift="A",
        team="T1",
        equipment=("MIX-1", "OVEN-1"),
        operators=("op1",),
        produced_quantity=Decimal("100.000"),
        uom="KG",
        on_hold=True,
        reconciliation_status="MATCHED",
        trace_codes=("TC-1",),
        started_at=AT,
        completed_at=AT,
        supplier_id=None,
        supplier_lot=None,
        reconciliation=MISMATCH,
        parameters_out_of_limit=(
            {
                "equipment_id": "OVEN-1",
                "parameter": "temperature",
                "value": 231.0,
                "unit": "C",
                "lower_limit": 180.0,
                "upper_limit": 220.0,
                "recorded_at": AT,
            },
        ),
        inspections=(),
        holds=(
            {
                "hold_id": "H-1",
                "origin_code": "RM-1",
                "reason": "supplier alert",
                "active": True,
                "inherited": True,
                "changed_at": AT,
            },
        ),
        shipments=(),
        complaints=(),
    )


LINKS = (
    Link("DOUGH-1", 1, "FG-1", "DOUGH", Decimal("60.000"), "KG", "DOUGH", None, False, True),
    Link("RM-1", 2, "DOUGH-1", "FLOUR", Decimal("5.000"), "KG", None, "FLOUR", True, True),
)


def test_trace_text_shows_levels_holds_parameters_and_query_time() -> None:
    report = TraceReport(
        Resolved("TC-1", "trace_code", ("FG-1",)),
        (BatchTrace(_detail("FG-1"), LINKS, ("RM-1",), False),),
        elapsed_ms=12.34,
    )
    text = trace_text(report)
    assert text.splitlines()[0] == "trace TC-1 (trace_code) -> FG-1"
    assert "OUT OF LIMIT OVEN-1 temperature = 231.0 C (limits 180.0..220.0)" in text
    assert "hold         H-1 ACTIVE (inherited from RM-1): supplier alert" in text
    assert "  L1 DOUGH-1 (DOUGH) into FG-1  DOUGH 60.000 KG" in text
    assert "    L2 RM-1 (FLOUR) into DOUGH-1  FLOUR 5.000 KG  [ON HOLD]" in text
    assert "raw materials: RM-1" in text
    assert text.endswith("query time 12.3 ms")


def test_recall_text_and_json() -> None:
    shipment = {
        "batch_code": "FG-1",
        "delivery_id": "DLV-1",
        "customer_id": "CUST-A",
        "ship_to": "DC",
        "quantity": Decimal("30.000"),
        "ship_date": "2026-11-03",
    }
    report = RecallReport(
        lot="RM-1",
        lot_detail=None,
        downstream=(Link("FG-1", 1, "RM-1", "FLOUR", Decimal("5.000"), "KG", "PIE"),),
        stock=({"batch_code": "FG-1", "location": "WH-A", "quantity": Decimal("40.000")},),
        shipments=(shipment,),
        customers=("CUST-A",),
        deliveries=("DLV-1",),
        depth_limited=True,
        elapsed_ms=3.0,
    )
    text = recall_text(report)
    assert "  FG-1 at WH-A: 40.000" in text
    assert "  DLV-1 FG-1 -> CUST-A (DC) 30.000 on 2026-11-03" in text
    assert "(walk stopped at --max-depth; there may be more levels)" in text
    data = report_dict(report)
    assert data["stock"][0]["quantity"] == "40.000"
    assert data["downstream"][0]["code"] == "FG-1"


RAW = LotFacts(
    code="RM-1",
    product_code=None,
    material_code="FLOUR",
    supplier_id="SUP-9",
    supplier_lot="S-77",
    on_hold=True,
    reconciliation_status="NOT_APPLICABLE",
    inspections=(
        {
            "inspection_id": "I-RM-1",
            "plan": "INCOMING",
            "verdict": "FAIL",
            "inspector": "qa1",
            "failed_characteristics": "moisture,colour",
            "recorded_at": AT,
        },
    ),
    holds=(
        {
            "hold_id": "H-1",
            "origin_code": "RM-1",
            "reason": "supplier alert",
            "active": True,
            "inherited": False,
            "changed_at": AT,
            "disposition": None,
        },
    ),
)


def _trace_with_upstream_facts() -> TraceReport:
    one = BatchTrace(_detail("FG-1"), LINKS, ("RM-1",), False, upstream_lots=(RAW,))
    return TraceReport(Resolved("FG-1", "batch", ("FG-1",)), (one,))


def test_a_trace_shows_supplier_quality_and_holds_of_each_upstream_lot() -> None:
    text = trace_text(_trace_with_upstream_facts())

    assert "    RM-1 (FLOUR)  supplier SUP-9, supplier lot S-77  [ON HOLD]" in text
    assert (
        "      inspection   I-RM-1 INCOMING FAIL failed: moisture,colour"
        " at 2026-11-02 06:30:00+00:00"
    ) in text
    assert (
        "      hold         H-1 ACTIVE (own): supplier alert since 2026-11-02 06:30:00+00:00"
        in text
    )


def test_the_reconciliation_shows_each_quantity_and_delta() -> None:
    assert reconciliation_line(MISMATCH) == (
        "MISMATCH: MES 100.000, WMS 98.000 (-2.000), ERP - (missing)"
    )
    matched = Reconciliation(
        "MATCHED", Decimal("5"), Decimal("5"), Decimal("5.1"), Decimal("0"), Decimal("0.1"), ()
    )
    assert reconciliation_line(matched) == "MATCHED: MES 5, WMS 5 (+0), ERP 5.1 (+0.1)"
    assert "reconciled   MISMATCH: MES 100.000" in trace_text(_trace_with_upstream_facts())


def test_the_reconciliation_is_read_from_the_stored_chain() -> None:
    chain = {
        "reconciliation": {
            "status": "MISMATCH",
            "mes_quantity": "100.000",
            "wms_quantity": "98.000",
            "erp_quantity": None,
            "wms_delta": "-2.000",
            "erp_delta": None,
            "missing": ["ERP"],
        }
    }
    assert reconciliation_of(chain, "PENDING") == MISMATCH
    assert reconciliation_of({}, "PENDING").status == "PENDING"


def test_times_are_shown_in_the_plant_zone_with_the_offset() -> None:
    berlin = zone_named("Europe/Berlin")
    report = _trace_with_upstream_facts()

    text = trace_text(report, berlin)
    data = report_dict(report, berlin)

    assert "times in Europe/Berlin, with the UTC offset" in text
    assert "from 2026-11-02 07:30:00+01:00" in text
    assert "since 2026-11-02 07:30:00+01:00" in text
    assert data["traces"][0]["batch"]["started_at"] == "2026-11-02T07:30:00+01:00"
    lot = data["traces"][0]["upstream_lots"][0]
    assert lot["inspections"][0]["recorded_at"] == "2026-11-02T07:30:00+01:00"
    assert (lot["supplier_id"], lot["supplier_lot"]) == ("SUP-9", "S-77")
    assert data["traces"][0]["batch"]["reconciliation"]["wms_delta"] == "-2.000"
    assert report_dict(report)["traces"][0]["batch"]["started_at"].endswith("+00:00")


def test_the_json_answer_is_the_answer_with_times_zoned_and_decimals_as_text() -> None:
    """The one-pass conversion gives what asdict, zoned and jsonable gave one after another."""
    berlin = zone_named("Europe/Berlin")
    for report in (_trace_with_upstream_facts(), _recall_with_a_lot()):
        expected = jsonable(zoned(dataclasses.asdict(report), berlin))
        assert report_dict(report, berlin) == expected
    shipped = report_dict(_recall_with_a_lot())["shipments"][0]
    assert (shipped["ship_date"], shipped["quantity"]) == ("2026-11-03", "30.000")


def _recall_with_a_lot() -> RecallReport:
    shipment = {"batch_code": "FG-1", "quantity": Decimal("30.000"), "ship_date": date(2026, 11, 3)}
    return RecallReport(
        lot="RM-1",
        lot_detail=_detail("RM-1"),
        downstream=LINKS,
        stock=({"batch_code": "FG-1", "location": "WH-A", "quantity": Decimal("40.000")},),
        shipments=(shipment,),
        customers=("CUST-A",),
        deliveries=("DLV-1",),
        depth_limited=False,
    )
