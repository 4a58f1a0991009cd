"""Text and JSON rendering of trace and recall answers (pure: answers built by hand)."""

from __future__ import annotations

from decimal import Decimal

from sinks.store.queries import BatchDetail, BatchTrace, Link, RecallReport, Resolved, TraceReport
from sinks.store.report import recall_text, report_dict, trace_text


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
        parameters_out_of_limit=(
            {
                "equipment_id": "OVEN-1",
                "parameter": "temperature",
                "value": 231.0,
                "unit": "C",
                "lower_limit": 180.0,
                "upper_limit": 220.0,
                "recorded_at": "2026-11-02T06:30:00",
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
