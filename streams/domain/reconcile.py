"""Reconciliation across systems: do MES, WMS and ERP agree on how much of a batch was made?

Applies to produced batches only (those with a MES completion). With all three quantities known
they are compared with a relative tolerance; a side still missing once the settle time has passed
(the chain holds a ``RECONCILIATION_DUE`` record) is a discrepancy too.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

NOT_APPLICABLE = "NOT_APPLICABLE"
PENDING = "PENDING"
MATCHED = "MATCHED"
MISMATCH = "MISMATCH"
MISSING_SIDE = "MISSING_SIDE"
DISCREPANCIES = frozenset({MISMATCH, MISSING_SIDE})


@dataclass(frozen=True, slots=True)
class ReconciliationRules:
    """How strict reconciliation is: relative tolerance, and how long a side may be missing."""

    tolerance: Decimal = Decimal("0.005")
    settle_seconds: float = 30.0


@dataclass(frozen=True, slots=True)
class Reconciliation:
    """The outcome for one batch, with the quantities and deltas against MES."""

    status: str
    mes_quantity: Decimal | None = None
    wms_quantity: Decimal | None = None
    erp_quantity: Decimal | None = None
    wms_delta: Decimal | None = None
    erp_delta: Decimal | None = None
    missing: tuple[str, ...] = ()

    @property
    def is_discrepancy(self) -> bool:
        return self.status in DISCREPANCIES


def _within(quantity: Decimal, reference: Decimal, tolerance: Decimal) -> bool:
    return abs(quantity - reference) <= abs(reference) * tolerance


def reconcile(
    *,
    mes: Decimal | None,
    wms: Decimal | None,
    erp: Decimal | None,
    due: bool,
    rules: ReconciliationRules,
) -> Reconciliation:
    """Compare the three quantities of one batch."""
    if mes is None:
        return Reconciliation(NOT_APPLICABLE)
    wms_delta = None if wms is None else wms - mes
    erp_delta = None if erp is None else erp - mes
    missing = tuple(name for name, q in (("WMS", wms), ("ERP", erp)) if q is None)
    if missing or wms is None or erp is None:
        status = MISSING_SIDE if due else PENDING
        return Reconciliation(status, mes, wms, erp, wms_delta, erp_delta, missing)
    agree = _within(wms, mes, rules.tolerance) and _within(erp, mes, rules.tolerance)
    return Reconciliation(MATCHED if agree else MISMATCH, mes, wms, erp, wms_delta, erp_delta)
