"""The derived view: production, holds, warehouse and reconciliation facts of a chain."""

from __future__ import annotations

from decimal import Decimal

from streams.domain import reconcile as rc
from streams.domain.chain import TraceChain, merge_all
from streams.domain.genealogy import HoldStatus, inherited_hold_event, reconciliation_due_event
from streams.domain.view import view_of
from tests.unit.domain_factory import (
    T0,
    completed,
    consumed,
    erp_receipt,
    hold,
    make,
    qty,
    received,
)

RULES = rc.ReconciliationRules(tolerance=Decimal("0.005"))


def _view(*events):  # type: ignore[no-untyped-def]
    return view_of(merge_all(TraceChain("B1"), events), RULES)


def test_production_facts_come_from_the_latest_completion() -> None:
    view = _view(completed("B1", "100", seq=1), completed("B1", "98", seq=2))
    assert view.production.produced_quantity == Decimal("98")
    assert view.production.operators == ("op1", "op2")
    assert view.production.trace_codes == ("TC-B1-1",)
    assert view.sources == ("MES",)


def test_reconciliation_matches_within_tolerance() -> None:
    view = _view(completed("B1", "1000"), received("B1", "1004"), erp_receipt("B1", "1000"))
    assert view.reconciliation.status == rc.MATCHED
    assert view.reconciliation.wms_delta == Decimal("4")


def test_reconciliation_flags_a_mismatch_with_deltas() -> None:
    view = _view(completed("B1", "1000"), received("B1", "900"), erp_receipt("B1", "1000"))
    assert view.reconciliation.status == rc.MISMATCH
    assert view.reconciliation.wms_delta == Decimal("-100")
    assert view.reconciliation.erp_delta == Decimal("0")


def test_a_missing_side_is_pending_until_due_then_a_discrepancy() -> None:
    pending = _view(completed("B1", "100"), received("B1", "100"))
    assert pending.reconciliation.status == rc.PENDING
    due = _view(
        completed("B1", "100"), received("B1", "100"), reconciliation_due_event("B1", "P1", T0)
    )
    assert due.reconciliation.status == rc.MISSING_SIDE
    assert due.reconciliation.missing == ("ERP",)


def test_batches_without_mes_completion_are_not_reconciled() -> None:
    assert _view(received("B1", "5")).reconciliation.status == rc.NOT_APPLICABLE


def test_stock_follows_receipts_transfers_and_issues() -> None:
    transfer = make(
        "STOCK_TRANSFERRED",
        "B1",
        {
            "transfer_id": "T1",
            "from_location": "WH-A",
            "to_location": "WH-B",
            "quantity": qty("30"),
            "handling_unit": "HU-1",
        },
        system="WMS",
    )
    issue = make(
        "GOODS_ISSUED",
        "B1",
        {"issue_id": "I1", "order_ref": "DLV-1", "quantity": qty("20"), "location": "WH-B"},
        system="WMS",
    )
    view = _view(received("B1", "100"), transfer, issue)
    assert view.warehouse.stock_by_location == (("WH-A", Decimal("70")), ("WH-B", Decimal("10")))
    assert view.warehouse.issued_quantity == Decimal("20")


def test_own_hold_then_release() -> None:
    placed = _view(hold("B1", "H1", target="BATCH"))
    assert placed.on_hold and not placed.holds[0].inherited
    released = _view(hold("B1", "H1", target="BATCH"), hold("B1", "H1", released=True))
    assert not released.on_hold
    assert released.holds[0].disposition == "RELEASE"


def test_inherited_hold_is_marked_with_its_origin() -> None:
    status = HoldStatus("H9", "L-RAW-1", "supplier alert", True, T0, "P1")
    view = _view(consumed("B1", "L-RAW-1"), inherited_hold_event("B1", status))
    (h,) = view.active_holds
    assert (h.origin_code, h.inherited) == ("L-RAW-1", True)
    assert view.parent_lots == ("L-RAW-1",)
