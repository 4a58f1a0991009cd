"""Builders of domain events for unit tests (plain data, no I/O)."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from streams.domain import events as ev
from streams.domain.events import Event

T0 = datetime(2026, 11, 1, 6, 0, tzinfo=UTC)
_counter = itertools.count()


def qty(value: str | int, uom: str = "KG") -> dict[str, Any]:
    return {"value": Decimal(str(value)), "uom": uom}


def make(
    event_type: str,
    batch: str,
    payload: dict[str, Any],
    *,
    system: str,
    ref: str | None = None,
    seq: int = 1,
    minute: int = 0,
    event_id: str | None = None,
) -> Event:
    n = next(_counter)
    return Event(
        event_id=event_id or str(uuid.UUID(int=n + 1, version=4)),
        event_type=event_type,
        source_system=system,
        source_ref=ref or f"{event_type}:{batch}:{n}",
        source_seq=seq,
        batch_code=batch,
        occurred_at=T0 + timedelta(minutes=minute),
        recorded_at=T0 + timedelta(minutes=minute),
        plant="P1",
        payload=payload,
    )


def completed(batch: str, produced: str = "100", *, seq: int = 1, minute: int = 60) -> Event:
    return make(
        ev.BATCH_COMPLETED,
        batch,
        {
            "order_id": f"PO-{batch}",
            "product_code": "FG-1",
            "line_id": "L1",
            "shift": "A",
            "team": "T1",
            "operators": ["op2", "op1"],
            "equipment": ["MIX-1"],
            "trace_codes": [f"TC-{batch}-1"],
            "produced_quantity": qty(produced),
            "scrapped_quantity": qty("1"),
        },
        system=ev.MES,
        ref=f"MES:BC:{batch}",
        seq=seq,
        minute=minute,
    )


def consumed(batch: str, parent: str, amount: str = "10") -> Event:
    return make(
        ev.MATERIAL_CONSUMED,
        batch,
        {
            "consumption_id": f"C-{batch}-{parent}",
            "parent_lot": parent,
            "material_code": "RM-1",
            "quantity": qty(amount),
        },
        system=ev.MES,
        ref=f"MES:MC:{batch}:{parent}",
    )


def received(batch: str, amount: str, location: str = "WH-A", n: int = 1) -> Event:
    return make(
        ev.GOODS_RECEIVED,
        batch,
        {
            "receipt_id": f"GR-{batch}-{n}",
            "quantity": qty(amount),
            "location": location,
            "handling_unit": f"HU-{n}",
        },
        system=ev.WMS,
        ref=f"WMS:GR:{batch}:{n}",
        minute=70,
    )


def erp_receipt(batch: str, amount: str) -> Event:
    return make(
        ev.PRODUCTION_RECEIPT_POSTED,
        batch,
        {
            "order_id": f"PO-{batch}",
            "quantity": qty(amount),
            "cost": Decimal("12.50"),
            "currency": "EUR",
        },
        system=ev.ERP,
        ref=f"ERP:PR:{batch}",
        minute=80,
    )


def hold(batch: str, hold_id: str, *, released: bool = False, target: str = "LOT") -> Event:
    if released:
        payload: dict[str, Any] = {
            "hold_id": hold_id,
            "target_type": target,
            "reason": "cleared",
            "released_by": "qa",
            "disposition": "RELEASE",
        }
        return make(
            ev.HOLD_RELEASED,
            batch,
            payload,
            system=ev.QMS,
            ref=f"QMS:HOLD:{hold_id}",
            seq=2,
            minute=120,
        )
    payload = {
        "hold_id": hold_id,
        "target_type": target,
        "reason": "supplier alert",
        "placed_by": "qa",
    }
    return make(ev.HOLD_PLACED, batch, payload, system=ev.QMS, ref=f"QMS:HOLD:{hold_id}", minute=90)
