"""Turn the ground-truth plant into envelope dicts exactly per the event contract.

Values are Avro-ready.

Every envelope: ``event_id`` (UUID4 string drawn from a seeded generator, so runs repeat),
``event_type``, ``source_system``, ``source_ref`` (stable per source record), ``source_seq``
(1, then 2 for a later correction of the same record), ``batch_code`` (the Kafka key),
``occurred_at``/``recorded_at`` (UTC datetimes, whole milliseconds), ``plant`` and ``payload``.
Decimals are ``decimal.Decimal``, dates ``datetime.date``. The list is sorted by ``recorded_at``,
which interleaves the four systems the way they would reach the hub.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from tracesync.devtools.simulator.model import Plant
from tracesync.devtools.simulator.timing import after

Envelope = dict[str, Any]

TOPIC_OF_SYSTEM = {
    "MES": "mes.events",
    "ERP": "erp.events",
    "WMS": "wms.events",
    "QMS": "qms.events",
}
RECORDING_DELAY_S = {
    "MES": (0.05, 5.0),
    "WMS": (1.0, 60.0),
    "ERP": (60.0, 1800.0),
    "QMS": (10.0, 600.0),
}


@dataclass(frozen=True)
class _Draft:
    system: str
    event_type: str
    source_ref: str
    source_seq: int
    code: str
    occurred_at: datetime
    recorded_at: datetime | None
    payload: dict[str, Any]


def qty(value: Decimal, uom: str) -> dict[str, Any]:
    return {"value": value, "uom": uom}


def _mes(plant: Plant) -> list[_Draft]:
    drafts = []
    for b in plant.batches:
        crew = {
            "order_id": b.order_id,
            "product_code": b.product_code,
            "line_id": b.line_id,
            "shift": b.shift,
            "team": b.team,
            "operators": list(b.operators),
            "equipment": list(b.equipment),
        }
        drafts.append(
            _Draft(
                "MES",
                "PRODUCTION_ORDER_RELEASED",
                f"MES:PO:{b.order_id}",
                1,
                b.code,
                b.released_at,
                None,
                {
                    "order_id": b.order_id,
                    "product_code": b.product_code,
                    "product_name": b.product_name,
                    "line_id": b.line_id,
                    "planned_quantity": qty(b.planned_quantity, b.uom),
                },
            )
        )
        drafts.append(
            _Draft("MES", "BATCH_STARTED", f"MES:BS:{b.code}", 1, b.code, b.started_at, None, crew)
        )
        for r in b.parameters:
            drafts.append(
                _Draft(
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
            )
        done = {
            **crew,
            "trace_codes": list(b.trace_codes),
            "scrapped_quantity": qty(b.scrapped_quantity, b.uom),
        }
        first = (
            b.first_reported_quantity
            if b.first_reported_quantity is not None
            else b.produced_quantity
        )
        ref = f"MES:BC:{b.code}"
        drafts.append(
            _Draft(
                "MES",
                "BATCH_COMPLETED",
                ref,
                1,
                b.code,
                b.completed_at,
                None,
                {**done, "produced_quantity": qty(first, b.uom)},
            )
        )
        if b.corrected_at is not None:
            drafts.append(
                _Draft(
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
    for c in plant.consumptions:
        drafts.append(
            _Draft(
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
        )
    return drafts


def _qms(plant: Plant) -> list[_Draft]:
    drafts = []
    for i in plant.inspections:
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
        drafts.append(
            _Draft(
                "QMS",
                "INSPECTION_RECORDED",
                f"QMS:QI:{i.inspection_id}",
                1,
                i.code,
                i.at,
                None,
                {
                    "inspection_id": i.inspection_id,
                    "plan": i.plan,
                    "characteristics": characteristics,
                    "verdict": i.verdict,
                    "inspector": i.inspector,
                },
            )
        )
    for h in plant.holds:
        drafts.append(
            _Draft(
                "QMS",
                "HOLD_PLACED",
                f"QMS:HOLD:{h.hold_id}",
                1,
                h.code,
                h.placed_at,
                None,
                {
                    "hold_id": h.hold_id,
                    "target_type": h.target_type,
                    "reason": h.reason,
                    "placed_by": h.placed_by,
                },
            )
        )
        if h.release is not None:
            r = h.release
            drafts.append(
                _Draft(
                    "QMS",
                    "HOLD_RELEASED",
                    f"QMS:HOLDREL:{h.hold_id}",
                    1,
                    h.code,
                    r.at,
                    None,
                    {
                        "hold_id": h.hold_id,
                        "target_type": h.target_type,
                        "reason": r.reason,
                        "released_by": r.released_by,
                        "disposition": r.disposition,
                    },
                )
            )
    for c in plant.complaints:
        drafts.append(
            _Draft(
                "QMS",
                "COMPLAINT_RECEIVED",
                f"QMS:CMP:{c.complaint_id}",
                1,
                c.code,
                c.at,
                None,
                {
                    "complaint_id": c.complaint_id,
                    "trace_code": c.trace_code,
                    "customer_id": c.customer_id,
                    "defect": c.defect,
                    "severity": c.severity,
                },
            )
        )
    return drafts


def _wms(plant: Plant) -> list[_Draft]:
    drafts = []
    for r in plant.receipts:
        drafts.append(
            _Draft(
                "WMS",
                "GOODS_RECEIVED",
                f"WMS:GR:{r.receipt_id}",
                1,
                r.code,
                r.at,
                None,
                {
                    "receipt_id": r.receipt_id,
                    "quantity": qty(r.quantity, r.uom),
                    "location": r.location,
                    "handling_unit": r.handling_unit,
                },
            )
        )
    for g in plant.issues:
        drafts.append(
            _Draft(
                "WMS",
                "GOODS_ISSUED",
                f"WMS:GI:{g.issue_id}",
                1,
                g.code,
                g.at,
                None,
                {
                    "issue_id": g.issue_id,
                    "order_ref": g.order_ref,
                    "quantity": qty(g.quantity, g.uom),
                    "location": g.location,
                },
            )
        )
    for t in plant.transfers:
        drafts.append(
            _Draft(
                "WMS",
                "STOCK_TRANSFERRED",
                f"WMS:ST:{t.transfer_id}",
                1,
                t.code,
                t.at,
                None,
                {
                    "transfer_id": t.transfer_id,
                    "from_location": t.from_location,
                    "to_location": t.to_location,
                    "quantity": qty(t.quantity, t.uom),
                    "handling_unit": t.handling_unit,
                },
            )
        )
    for s in plant.counts:
        for seq, value in enumerate(s.versions, start=1):
            recorded = s.updated_at if seq > 1 else None
            drafts.append(
                _Draft(
                    "WMS",
                    "STOCK_COUNTED",
                    f"WMS:SC:{s.count_id}",
                    seq,
                    s.code,
                    s.at,
                    recorded,
                    {"count_id": s.count_id, "location": s.location, "quantity": qty(value, s.uom)},
                )
            )
    return drafts


def _erp(plant: Plant) -> list[_Draft]:
    drafts = []
    for m in plant.material_receipts:
        drafts.append(
            _Draft(
                "ERP",
                "MATERIAL_RECEIPT_POSTED",
                f"ERP:MR:{m.receipt_id}",
                1,
                m.code,
                m.at,
                None,
                {
                    "receipt_id": m.receipt_id,
                    "supplier_id": m.supplier_id,
                    "supplier_lot": m.supplier_lot,
                    "material_code": m.material_code,
                    "quantity": qty(m.quantity, m.uom),
                },
            )
        )
    for p in plant.production_receipts:
        drafts.append(
            _Draft(
                "ERP",
                "PRODUCTION_RECEIPT_POSTED",
                f"ERP:PR:{p.receipt_id}",
                1,
                p.code,
                p.at,
                None,
                {
                    "order_id": p.order_id,
                    "quantity": qty(p.quantity, p.uom),
                    "cost": p.cost,
                    "currency": p.currency,
                },
            )
        )
    for d in plant.deliveries:
        drafts.append(
            _Draft(
                "ERP",
                "SHIPMENT_DISPATCHED",
                f"ERP:DLV:{d.delivery_id}:L{d.line_no}",
                1,
                d.code,
                d.at,
                None,
                {
                    "delivery_id": d.delivery_id,
                    "customer_id": d.customer_id,
                    "ship_to": d.ship_to,
                    "quantity": qty(d.quantity, d.uom),
                    "ship_date": d.ship_date,
                },
            )
        )
    return drafts


def build_events(plant: Plant, seed: int) -> list[Envelope]:
    """All envelopes of the plant in ``recorded_at`` order, with reproducible event ids."""
    rng = random.Random(f"events:{seed}")
    timed = []
    for draft in _mes(plant) + _qms(plant) + _wms(plant) + _erp(plant):
        recorded = draft.recorded_at
        if recorded is None:
            recorded = after(rng, draft.occurred_at, *RECORDING_DELAY_S[draft.system])
        timed.append((recorded, draft))
    timed.sort(key=lambda pair: (pair[0], pair[1].source_ref, pair[1].source_seq))
    return [
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "event_type": draft.event_type,
            "source_system": draft.system,
            "source_ref": draft.source_ref,
            "source_seq": draft.source_seq,
            "batch_code": draft.code,
            "occurred_at": draft.occurred_at,
            "recorded_at": recorded,
            "plant": plant.plant_id,
            "payload": draft.payload,
        }
        for recorded, draft in timed
    ]
