"""One valid Avro-ready envelope per event type, shared by the schema and serde tests."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from tracesync.contracts.schemas import EVENT_TYPES


def qty(value: str, uom: str = "KG") -> dict[str, Any]:
    return {"value": Decimal(value), "uom": uom}


CREW = {"shift": "A", "team": "T1", "operators": ["op-1", "op-2"], "equipment": ["mixer-1"]}

PAYLOADS: dict[str, dict[str, Any]] = {
    "PRODUCTION_ORDER_RELEASED": {
        "order_id": "PO-1",
        "product_code": "P-100",
        "product_name": "Syrup 100 ml",
        "line_id": "L1",
        "planned_quantity": qty("1000.000", "PC"),
    },
    "BATCH_STARTED": {"order_id": "PO-1", "product_code": "P-100", "line_id": "L1", **CREW},
    "BATCH_COMPLETED": {
        "order_id": "PO-1",
        "product_code": "P-100",
        "line_id": "L1",
        **CREW,
        "trace_codes": [f"TC-{i:06d}" for i in range(10)],
        "produced_quantity": qty("1200.500"),
        "scrapped_quantity": qty("3.250"),
    },
    "MATERIAL_CONSUMED": {
        "consumption_id": "C-1",
        "parent_lot": "LOT-9",
        "material_code": "M-7",
        "quantity": qty("12.5"),
    },
    "PROCESS_PARAMETER_RECORDED": {
        "equipment_id": "mixer-1",
        "parameter": "temperature",
        "value": 71.5,
        "unit": "C",
        "lower_limit": 65.0,
        "upper_limit": None,
    },
    "INSPECTION_RECORDED": {
        "inspection_id": "I-1",
        "plan": "QP-1",
        "characteristics": [
            {
                "name": "pH",
                "value": 6.8,
                "unit": "pH",
                "lower_limit": 6.5,
                "upper_limit": 7.5,
                "passed": True,
            }
        ],
        "verdict": "PASS",
        "inspector": "qa-1",
    },
    "HOLD_PLACED": {"hold_id": "H-1", "target_type": "BATCH", "reason": "pH", "placed_by": "qa-1"},
    "HOLD_RELEASED": {
        "hold_id": "H-1",
        "target_type": "LOT",
        "reason": "retest ok",
        "released_by": "qa-2",
        "disposition": "RELEASE",
    },
    "COMPLAINT_RECEIVED": {
        "complaint_id": "CP-1",
        "trace_code": None,
        "customer_id": "CU-1",
        "defect": "leaking cap",
        "severity": "HIGH",
    },
    "GOODS_RECEIVED": {
        "receipt_id": "GR-1",
        "quantity": qty("500"),
        "location": "A-01",
        "handling_unit": "HU-1",
    },
    "GOODS_ISSUED": {
        "issue_id": "GI-1",
        "order_ref": "PO-1",
        "quantity": qty("20"),
        "location": "A-01",
    },
    "STOCK_TRANSFERRED": {
        "transfer_id": "ST-1",
        "from_location": "A-01",
        "to_location": "B-02",
        "quantity": qty("100"),
        "handling_unit": "HU-1",
    },
    "STOCK_COUNTED": {"count_id": "SC-1", "location": "B-02", "quantity": qty("99.999")},
    "MATERIAL_RECEIPT_POSTED": {
        "receipt_id": "MR-1",
        "supplier_id": "S-1",
        "supplier_lot": "SL-77",
        "material_code": "M-7",
        "quantity": qty("500.000"),
    },
    "PRODUCTION_RECEIPT_POSTED": {
        "order_id": "PO-1",
        "quantity": qty("1200.500"),
        "cost": Decimal("15321.45"),
        "currency": "EUR",
    },
    "SHIPMENT_DISPATCHED": {
        "delivery_id": "D-1",
        "customer_id": "CU-1",
        "ship_to": "ST-9",
        "quantity": qty("48", "PC"),
        "ship_date": dt.date(2026, 3, 4),
    },
}


def envelope(event_type: str = "BATCH_COMPLETED", **changes: Any) -> dict[str, Any]:
    """A valid envelope of ``event_type``; ``changes`` replace envelope fields."""
    base: dict[str, Any] = {
        "event_id": str(uuid.UUID(int=7, version=4)),
        "event_type": event_type,
        "source_system": EVENT_TYPES[event_type].source_system
        if event_type in EVENT_TYPES
        else "MES",
        "source_ref": f"SRC:{event_type}:B-000123",
        "source_seq": 3,
        "batch_code": "B-000123",
        "occurred_at": dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC),
        "recorded_at": dt.datetime(2026, 3, 1, 8, 30, 5, 123000, tzinfo=dt.UTC),
        "plant": "PLANT-01",
        "payload": PAYLOADS.get(event_type, PAYLOADS["BATCH_COMPLETED"]),
    }
    base.update(changes)
    return base
