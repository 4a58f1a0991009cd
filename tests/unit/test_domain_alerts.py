"""Alerts are raised on entering a condition, once, with a stable id."""

from __future__ import annotations

from decimal import Decimal

from streams.domain import alerts as al
from streams.domain import reconcile as rc
from streams.domain.chain import TraceChain, merge_all
from streams.domain.view import view_of
from tests.unit.domain_factory import completed, erp_receipt, hold, received

RULES = rc.ReconciliationRules(tolerance=Decimal("0.005"))


def _view(*events):  # type: ignore[no-untyped-def]
    return view_of(merge_all(TraceChain("B1"), events), RULES)


def test_a_hold_raises_one_alert_and_its_release_another() -> None:
    placed = _view(hold("B1", "H1", target="BATCH"))
    (alert,) = al.alerts_between(None, placed)
    assert alert.kind == al.HOLD_PLACED
    assert al.alerts_between(placed, placed) == []
    released = _view(hold("B1", "H1", target="BATCH"), hold("B1", "H1", released=True))
    assert [a.kind for a in al.alerts_between(placed, released)] == [al.HOLD_RELEASED]


def test_a_mismatch_raises_an_alert_with_a_stable_id() -> None:
    before = _view(completed("B1", "100"), received("B1", "100"))
    after = _view(completed("B1", "100"), received("B1", "100"), erp_receipt("B1", "80"))
    first = al.alerts_between(before, after)
    assert [a.kind for a in first] == [al.QUANTITY_MISMATCH]
    assert al.alerts_between(before, after) == first
