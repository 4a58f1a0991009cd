"""QMS events of the ground truth: inspections, holds placed and released, complaints.

The drafts come in a fixed order (inspections, then each hold with its release, then
complaints): the recording delays are drawn in this order, so it keeps runs equal.
"""

from __future__ import annotations

from tracesync.devtools.simulator.drafts import Draft
from tracesync.devtools.simulator.model import Complaint, Hold, Inspection, Plant


def qms_drafts(plant: Plant) -> list[Draft]:
    drafts = [_inspection(i) for i in plant.inspections]
    for hold in plant.holds:
        drafts.extend(_hold(hold))
    drafts.extend(_complaint(c) for c in plant.complaints)
    return drafts


def _inspection(i: Inspection) -> Draft:
    characteristics = [
        {
            "name": c.name,
            "value": c.value,
            "unit": c.unit,
            "lower_limit": c.lower_limit,
            "upper_limit": c.upper_limit,
            "passed": c.passed,
        }
        for c in i.characteristics
    ]
    payload = {
        "inspection_id": i.inspection_id,
        "plan": i.plan,
        "characteristics": characteristics,
        "verdict": i.verdict,
        "inspector": i.inspector,
    }
    return Draft(
        "QMS", "INSPECTION_RECORDED", f"QMS:QI:{i.inspection_id}", 1, i.code, i.at, None, payload
    )


def _hold(h: Hold) -> list[Draft]:
    """The hold as placed and, when QMS released it, the release."""
    placed = {
        "hold_id": h.hold_id,
        "target_type": h.target_type,
        "reason": h.reason,
        "placed_by": h.placed_by,
    }
    drafts = [
        Draft("QMS", "HOLD_PLACED", f"QMS:HOLD:{h.hold_id}", 1, h.code, h.placed_at, None, placed)
    ]
    if h.release is not None:
        r = h.release
        released = {
            "hold_id": h.hold_id,
            "target_type": h.target_type,
            "reason": r.reason,
            "released_by": r.released_by,
            "disposition": r.disposition,
        }
        ref = f"QMS:HOLDREL:{h.hold_id}"
        drafts.append(Draft("QMS", "HOLD_RELEASED", ref, 1, h.code, r.at, None, released))
    return drafts


def _complaint(c: Complaint) -> Draft:
    payload = {
        "complaint_id": c.complaint_id,
        "trace_code": c.trace_code,
        "customer_id": c.customer_id,
        "defect": c.defect,
        "severity": c.severity,
    }
    ref = f"QMS:CMP:{c.complaint_id}"
    return Draft("QMS", "COMPLAINT_RECEIVED", ref, 1, c.code, c.at, None, payload)
