"""MES events of the ground truth: orders released, batches started and completed (with a later
correction of the produced quantity), process parameters, material consumed.

The drafts come in a fixed order (per batch: release, start, parameters, completion, correction;
then every consumption): the recording delays are drawn in this order, so it keeps runs equal.
"""

from __future__ import annotations

from typing import Any

from tracesync.devtools.simulator.drafts import Draft, qty
from tracesync.devtools.simulator.model import Batch, Consumption, Plant


def mes_drafts(plant: Plant) -> list[Draft]:
    drafts = []
    for batch in plant.batches:
        drafts.extend(_batch_drafts(batch))
    drafts.extend(_consumed(c) for c in plant.consumptions)
    return drafts


def _crew(b: Batch) -> dict[str, Any]:
    return {
        "order_id": b.order_id,
        "product_code": b.product_code,
        "line_id": b.line_id,
        "shift": b.shift,
        "team": b.team,
        "operators": list(b.operators),
        "equipment": list(b.equipment),
    }


def _batch_drafts(b: Batch) -> list[Draft]:
    crew = _crew(b)
    released = {
        "order_id": b.order_id,
        "product_code": b.product_code,
        "product_name": b.product_name,
        "line_id": b.line_id,
        "planned_quantity": qty(b.planned_quantity, b.uom),
    }
    drafts = [
        Draft(
            "MES",
            "PRODUCTION_ORDER_RELEASED",
            f"MES:PO:{b.order_id}",
            1,
            b.code,
            b.released_at,
            None,
            released,
        ),
        Draft("MES", "BATCH_STARTED", f"MES:BS:{b.code}", 1, b.code, b.started_at, None, crew),
    ]
    drafts.extend(
        Draft(
            "MES",
            "PROCESS_PARAMETER_RECORDED",
            f"MES:PP:{b.code}:{r.equipment_id}:{r.parameter}",
            1,
            b.code,
            r.at,
            None,
            {
                "equipment_id": r.equipment_id,
                "parameter": r.parameter,
                "value": r.value,
                "unit": r.unit,
                "lower_limit": r.lower_limit,
                "upper_limit": r.upper_limit,
            },
        )
        for r in b.parameters
    )
    drafts.extend(_completed(b, crew))
    return drafts


def _completed(b: Batch, crew: dict[str, Any]) -> list[Draft]:
    """The completion as first reported and, when MES corrected it, the correction (seq 2)."""
    done = {
        **crew,
        "trace_codes": list(b.trace_codes),
        "scrapped_quantity": qty(b.scrapped_quantity, b.uom),
    }
    first = (
        b.first_reported_quantity if b.first_reported_quantity is not None else b.produced_quantity
    )
    ref = f"MES:BC:{b.code}"
    drafts = [
        Draft(
            "MES",
            "BATCH_COMPLETED",
            ref,
            1,
            b.code,
            b.completed_at,
            None,
            {**done, "produced_quantity": qty(first, b.uom)},
        ),
    ]
    if b.corrected_at is not None:
        drafts.append(
            Draft(
                "MES",
                "BATCH_COMPLETED",
                ref,
                2,
                b.code,
                b.completed_at,
                b.corrected_at,
                {**done, "produced_quantity": qty(b.produced_quantity, b.uom)},
            )
        )
    return drafts


def _consumed(c: Consumption) -> Draft:
    return Draft(
        "MES",
        "MATERIAL_CONSUMED",
        f"MES:MC:{c.consumption_id}",
        1,
        c.batch_code,
        c.at,
        None,
        {
            "consumption_id": c.consumption_id,
            "parent_lot": c.parent_code,
            "material_code": c.material_code,
            "quantity": qty(c.quantity, c.uom),
        },
    )
