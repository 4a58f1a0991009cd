"""Alerts: the conditions of a chain that people must hear about, raised when they first appear.

An alert is raised on the transition into a condition (a hold placed or inherited, a hold
released, a quantity discrepancy, an out-of-limit parameter, a failed inspection, a complaint).
Its id is derived from the batch and the condition, so re-raising it after a replay is harmless.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from streams.domain.view import ChainView

_NAMESPACE = uuid.UUID("0b7a64f1-27c5-4d2e-9a61-5f0f3d8e4c22")

HOLD_PLACED = "HOLD_PLACED"
HOLD_INHERITED = "HOLD_INHERITED"
HOLD_RELEASED = "HOLD_RELEASED"
QUANTITY_MISMATCH = "QUANTITY_MISMATCH"
MISSING_SIDE = "MISSING_SIDE"
PARAMETER_OUT_OF_LIMIT = "PARAMETER_OUT_OF_LIMIT"
INSPECTION_FAILED = "INSPECTION_FAILED"
COMPLAINT_RECEIVED = "COMPLAINT_RECEIVED"


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert about one batch."""

    alert_id: str
    batch_code: str
    kind: str
    subject: str
    message: str
    origin_code: str
    occurred_at: datetime


def _conditions(view: ChainView) -> dict[tuple[str, str], tuple[str, str, datetime]]:
    """(kind, subject) -> (message, origin code, time) for every alert-worthy condition."""
    out: dict[tuple[str, str], tuple[str, str, datetime]] = {}
    for h in view.holds:
        subject = f"{h.origin_code}/{h.hold_id}"
        if h.active:
            kind = HOLD_INHERITED if h.inherited else HOLD_PLACED
            via = f" inherited from {h.origin_code}" if h.inherited else ""
            out[(kind, subject)] = (
                f"hold {h.hold_id}{via}: {h.reason}",
                h.origin_code,
                h.changed_at,
            )
        else:
            out[(HOLD_RELEASED, subject)] = (
                f"hold {h.hold_id} released",
                h.origin_code,
                h.changed_at,
            )
    rec = view.reconciliation
    at = view.last_event_at or datetime.min.replace(tzinfo=UTC)
    if rec.status == "MISMATCH":
        out[(QUANTITY_MISMATCH, "quantity")] = (
            f"MES {rec.mes_quantity} / WMS {rec.wms_quantity} / ERP {rec.erp_quantity}",
            view.batch_code,
            at,
        )
    elif rec.status == "MISSING_SIDE":
        out[(MISSING_SIDE, "quantity")] = (
            f"no {' and '.join(rec.missing)} quantity after the settle time",
            view.batch_code,
            at,
        )
    for p in view.out_of_limit_parameters:
        out[(PARAMETER_OUT_OF_LIMIT, f"{p.equipment_id}/{p.parameter}/{p.recorded_at:%s}")] = (
            f"{p.parameter} on {p.equipment_id} = {p.value} {p.unit} "
            f"outside [{p.lower_limit}, {p.upper_limit}]",
            view.batch_code,
            p.recorded_at,
        )
    for i in view.inspections:
        if i.verdict == "FAIL":
            out[(INSPECTION_FAILED, i.inspection_id)] = (
                f"inspection {i.inspection_id} ({i.plan}) failed: "
                f"{', '.join(i.failed_characteristics) or 'verdict FAIL'}",
                view.batch_code,
                i.recorded_at,
            )
    for c in view.complaints:
        out[(COMPLAINT_RECEIVED, c.complaint_id)] = (
            f"complaint {c.complaint_id} from {c.customer_id}: {c.defect} ({c.severity})",
            view.batch_code,
            c.received_at,
        )
    return out


def _same_conditions(before: ChainView, after: ChainView) -> bool:
    """Whether the sections the conditions come from are unchanged, so the conditions are too.

    Cheap for an incremental view, which keeps the very sections it did not derive again.
    """
    return (
        before.reconciliation.status == after.reconciliation.status
        and before.holds == after.holds
        and before.parameters == after.parameters
        and before.inspections == after.inspections
        and before.complaints == after.complaints
    )


def alerts_between(before: ChainView | None, after: ChainView) -> list[Alert]:
    """The alerts raised by the change from ``before`` to ``after``, in a stable order."""
    if before is not None and _same_conditions(before, after):
        return []  # the same conditions: none is new
    old = _conditions(before) if before is not None else {}
    new = _conditions(after)
    raised = []
    for (kind, subject), (message, origin, at) in sorted(new.items()):
        if (kind, subject) in old:
            continue
        alert_id = uuid.uuid5(_NAMESPACE, f"{after.batch_code}|{kind}|{subject}")
        raised.append(Alert(str(alert_id), after.batch_code, kind, subject, message, origin, at))
    return raised
