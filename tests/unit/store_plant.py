"""Hand-built ``TraceChain`` records for trace store tests: a small plant with a 4-level genealogy.

The plant (parent -> child, read "is consumed by")::

    RM-SUGAR-L1 -> SYRUP-B1 -> FILL-B1 -> FG-B1
    RM-SALT-L1  ------------>  FILL-B1
    RM-FLOUR-L1 -> DOUGH-B1 ------------> FG-B1, FG-B2
    RM-YEAST-L1 -> DOUGH-B1
    RM-SALT-L1  ------------------------> FG-B2
    RM-OTHER-L1 -> FG-B3                  (unrelated)

FG-B1 and FG-B2 share delivery DLV-2 (to CUST-B); FG-B1 also went out on DLV-1 to CUST-A and has a
complaint CMP-1 on trace code TC-FG-B1-0002, an out-of-limit oven temperature and an own hold.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

T0 = datetime(2026, 11, 2, 6, 0, tzinfo=UTC)


def d(value: str | int) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.001"))


def chain(
    code: str,
    version: int = 1,
    *,
    product: str | None = None,
    consumes: Sequence[tuple[str, str, str]] = (),
    trace_codes: Sequence[str] = (),
    shipments: Sequence[tuple[str, str, str]] = (),
    complaints: Sequence[tuple[str, str, str | None]] = (),
    stock: Sequence[tuple[str, str]] = (),
    holds: Sequence[tuple[str, str, bool, bool]] = (),
    parameters: Sequence[tuple[str, str, float, float, float]] = (),
    material: str | None = None,
    line: str = "L1",
) -> dict[str, Any]:
    """A full ``TraceChain`` record; tuples are (parent, material, qty), (delivery, customer,
    qty), (complaint, customer, trace code), (location, qty), (hold, origin, active, inherited),
    (equipment, parameter, value, low, high)."""
    produced = product is not None
    return {
        "batch_code": code,
        "version": version,
        "plant": "P1",
        "production": {
            "order_id": f"PO-{code}" if produced else None,
            "product_code": product,
            "product_name": f"{product} name" if produced else None,
            "line_id": line if produced else None,
            "shift": "A" if produced else None,
            "team": "T1" if produced else None,
            "operators": ["op1"] if produced else [],
            "equipment": sorted({p[0] for p in parameters} | ({"MIX-1"} if produced else set())),
            "trace_codes": list(trace_codes),
            "planned_quantity": d(100) if produced else None,
            "produced_quantity": d(100) if produced else None,
            "scrapped_quantity": d(0) if produced else None,
            "uom": "KG" if produced else None,
            "started_at": T0 if produced else None,
            "completed_at": T0 + timedelta(hours=2) if produced else None,
        },
        "parameters": [
            {
                "equipment_id": eq,
                "parameter": name,
                "value": value,
                "unit": "C",
                "lower_limit": low,
                "upper_limit": high,
                "out_of_limit": not low <= value <= high,
                "recorded_at": T0 + timedelta(minutes=30),
            }
            for eq, name, value, low, high in parameters
        ],
        "consumptions": [
            {
                "consumption_id": f"C-{code}-{parent}",
                "parent_lot": parent,
                "material_code": mat,
                "quantity": d(q),
                "uom": "KG",
            }
            for parent, mat, q in consumes
        ],
        "inspections": [
            {
                "inspection_id": f"I-{code}",
                "plan": "FINAL",
                "verdict": "PASS",
                "inspector": "qa1",
                "failed_characteristics": [],
                "recorded_at": T0 + timedelta(hours=3),
            }
        ]
        if produced
        else [],
        "holds": [
            {
                "hold_id": hold_id,
                "origin_code": origin,
                "reason": "supplier alert",
                "active": active,
                "inherited": inherited,
                "changed_at": T0 + timedelta(hours=4),
                "disposition": None,
            }
            for hold_id, origin, active, inherited in holds
        ],
        "warehouse": {
            "received_quantity": sum((d(q) for _, q in stock), Decimal(0)) if stock else None,
            "issued_quantity": d(0),
            "stock": [{"location": loc, "quantity": d(q)} for loc, q in stock],
            "last_counts": [],
        },
        "material_receipt": (
            {
                "supplier_id": "SUP-1",
                "supplier_lot": f"S-{code}",
                "material_code": material,
                "quantity": d(1000),
                "uom": "KG",
            }
            if material
            else None
        ),
        "erp_received_quantity": None,
        "production_cost": None,
        "cost_currency": None,
        "shipments": [
            {
                "delivery_id": dlv,
                "customer_id": cust,
                "ship_to": f"{cust} DC",
                "quantity": d(q),
                "ship_date": date(2026, 11, 3),
            }
            for dlv, cust, q in shipments
        ],
        "complaints": [
            {
                "complaint_id": cid,
                "customer_id": cust,
                "trace_code": tc,
                "defect": "foreign body",
                "severity": "HIGH",
                "received_at": T0 + timedelta(days=5),
            }
            for cid, cust, tc in complaints
        ],
        "reconciliation": {
            "status": "PENDING" if produced else "NOT_APPLICABLE",
            "mes_quantity": d(100) if produced else None,
            "wms_quantity": None,
            "erp_quantity": None,
            "wms_delta": None,
            "erp_delta": None,
            "missing": [],
        },
        "sources": ["MES"] if produced else ["ERP"],
        "event_count": 3,
        "first_event_at": T0,
        "last_event_at": T0 + timedelta(hours=4),
    }


def plant() -> list[dict[str, Any]]:
    """Every chain of the plant in the module docstring."""
    return [
        chain("RM-SUGAR-L1", material="SUGAR", stock=[("RM-STORE", "500")]),
        chain("RM-SALT-L1", material="SALT", stock=[("RM-STORE", "80")]),
        chain("RM-FLOUR-L1", material="FLOUR"),
        chain("RM-YEAST-L1", material="YEAST"),
        chain("RM-OTHER-L1", material="OTHER"),
        chain("SYRUP-B1", product="SYRUP", consumes=[("RM-SUGAR-L1", "SUGAR", "300")]),
        chain(
            "FILL-B1",
            product="FILLING",
            consumes=[("SYRUP-B1", "SYRUP", "50"), ("RM-SALT-L1", "SALT", "2")],
            stock=[("WIP-2", "10")],
        ),
        chain(
            "DOUGH-B1",
            product="DOUGH",
            consumes=[("RM-FLOUR-L1", "FLOUR", "200"), ("RM-YEAST-L1", "YEAST", "5")],
        ),
        chain(
            "FG-B1",
            product="PIE",
            consumes=[("DOUGH-B1", "DOUGH", "60"), ("FILL-B1", "FILLING", "40")],
            trace_codes=["TC-FG-B1-0001", "TC-FG-B1-0002"],
            shipments=[("DLV-1", "CUST-A", "30"), ("DLV-2", "CUST-B", "20")],
            complaints=[("CMP-1", "CUST-A", "TC-FG-B1-0002")],
            stock=[("WH-A", "40"), ("WH-B", "10")],
            holds=[("H-1", "FG-B1", True, False)],
            parameters=[("OVEN-1", "temperature", 231.0, 180.0, 220.0)],
            line="L2",
        ),
        chain(
            "FG-B2",
            product="BREAD",
            consumes=[("DOUGH-B1", "DOUGH", "100"), ("RM-SALT-L1", "SALT", "1")],
            trace_codes=["TC-FG-B2-0001"],
            shipments=[("DLV-2", "CUST-B", "70")],
            stock=[("WH-A", "30")],
        ),
        chain(
            "FG-B3",
            product="CAKE",
            consumes=[("RM-OTHER-L1", "OTHER", "9")],
            shipments=[("DLV-3", "CUST-C", "5")],
        ),
    ]
