"""The sections of a chain's view, each derived from the winning records of a few event types.

Every function takes the records grouped by event type (in the chain's record order) and derives
one section of :class:`~streams.domain.view.model.ChainView`. :data:`SECTIONS` says which event
types each section reads, so an incremental derivation re-derives only what a change touches.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from streams.domain import events as ev
from streams.domain.events import Event
from streams.domain.view.model import (
    Complaint,
    Consumption,
    Hold,
    Inspection,
    MaterialReceipt,
    ParameterReading,
    Production,
    Shipment,
    Warehouse,
)

ZERO = Decimal(0)

Grouped = Mapping[str, Sequence[Event]]
"""Winning records by event type, each sequence in the chain's record order."""


def amount(payload: Mapping[str, Any], name: str) -> Decimal:
    return Decimal(payload[name]["value"])


def production(grouped: Grouped) -> Production:
    order = latest(grouped.get(ev.PRODUCTION_ORDER_RELEASED, ()))
    started = latest(grouped.get(ev.BATCH_STARTED, ()))
    completed = latest(grouped.get(ev.BATCH_COMPLETED, ()))
    fields: dict[str, Any] = {}
    if order is not None:
        p = order.payload
        fields |= {
            "order_id": p["order_id"],
            "product_code": p["product_code"],
            "product_name": p["product_name"],
            "line_id": p["line_id"],
            "planned_quantity": amount(p, "planned_quantity"),
            "uom": p["planned_quantity"]["uom"],
        }
    for stage in (started, completed):
        if stage is None:
            continue
        p = stage.payload
        fields |= {
            "order_id": p["order_id"],
            "product_code": p["product_code"],
            "line_id": p["line_id"],
            "shift": p["shift"],
            "team": p["team"],
            "operators": tuple(sorted(p["operators"])),
            "equipment": tuple(sorted(p["equipment"])),
        }
    if started is not None:
        fields["started_at"] = started.occurred_at
    if completed is not None:
        p = completed.payload
        fields |= {
            "trace_codes": tuple(sorted(p["trace_codes"])),
            "produced_quantity": amount(p, "produced_quantity"),
            "scrapped_quantity": amount(p, "scrapped_quantity"),
            "uom": p["produced_quantity"]["uom"],
            "completed_at": completed.occurred_at,
        }
    return Production(**fields)


def latest(events: Iterable[Event]) -> Event | None:
    """The latest of several records of one kind (e.g. a batch started twice): by time, then id."""
    return max(events, key=lambda e: (e.occurred_at, e.source_seq, e.event_id), default=None)


def parameters(grouped: Grouped) -> tuple[ParameterReading, ...]:
    readings = (
        ParameterReading(
            equipment_id=p["equipment_id"],
            parameter=p["parameter"],
            value=float(p["value"]),
            unit=p["unit"],
            lower_limit=p["lower_limit"],
            upper_limit=p["upper_limit"],
            recorded_at=e.occurred_at,
        )
        for e in grouped.get(ev.PROCESS_PARAMETER_RECORDED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(readings, key=lambda r: (r.equipment_id, r.parameter, r.recorded_at)))


def consumptions(grouped: Grouped) -> tuple[Consumption, ...]:
    items = (
        Consumption(
            consumption_id=p["consumption_id"],
            parent_lot=p["parent_lot"],
            material_code=p["material_code"],
            quantity=amount(p, "quantity"),
            uom=p["quantity"]["uom"],
        )
        for e in grouped.get(ev.MATERIAL_CONSUMED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda c: (c.parent_lot, c.consumption_id)))


def inspections(grouped: Grouped) -> tuple[Inspection, ...]:
    items = (
        Inspection(
            inspection_id=p["inspection_id"],
            plan=p["plan"],
            verdict=p["verdict"],
            inspector=p["inspector"],
            failed_characteristics=tuple(
                sorted(c["name"] for c in p["characteristics"] if not c["passed"])
            ),
            recorded_at=e.occurred_at,
        )
        for e in grouped.get(ev.INSPECTION_RECORDED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda i: i.inspection_id))


def holds(batch_code: str, grouped: Grouped) -> tuple[Hold, ...]:
    holds: dict[tuple[str, str], Hold] = {}
    for e in grouped.get(ev.HOLD_PLACED, ()):
        p = e.payload
        holds[(batch_code, p["hold_id"])] = Hold(
            p["hold_id"], batch_code, p["reason"], True, False, e.occurred_at
        )
    for e in grouped.get(ev.HOLD_RELEASED, ()):
        p = e.payload
        placed = holds.get((batch_code, p["hold_id"]))
        reason = placed.reason if placed is not None else p["reason"]
        holds[(batch_code, p["hold_id"])] = Hold(
            p["hold_id"], batch_code, reason, False, False, e.occurred_at, p["disposition"]
        )
    for e in grouped.get(ev.HOLD_INHERITED, ()):
        p = e.payload
        key = (p["origin_code"], p["hold_id"])
        if key[0] == batch_code:  # a cycle in the genealogy brought our own hold back
            continue
        holds[key] = Hold(
            p["hold_id"], p["origin_code"], p["reason"], bool(p["active"]), True, e.occurred_at
        )
    return tuple(holds[k] for k in sorted(holds))


def warehouse(grouped: Grouped) -> Warehouse:
    stock: dict[str, Decimal] = defaultdict(Decimal)
    received = [e.payload for e in grouped.get(ev.GOODS_RECEIVED, ())]
    for p in received:
        stock[p["location"]] += amount(p, "quantity")
    issued = ZERO
    for e in grouped.get(ev.GOODS_ISSUED, ()):
        qty = amount(e.payload, "quantity")
        stock[e.payload["location"]] -= qty
        issued += qty
    for e in grouped.get(ev.STOCK_TRANSFERRED, ()):
        qty = amount(e.payload, "quantity")
        stock[e.payload["from_location"]] -= qty
        stock[e.payload["to_location"]] += qty
    counts: dict[str, tuple[datetime, str, Decimal]] = {}
    for e in grouped.get(ev.STOCK_COUNTED, ()):
        loc = e.payload["location"]
        candidate = (e.occurred_at, e.event_id, amount(e.payload, "quantity"))
        if loc not in counts or candidate[:2] > counts[loc][:2]:
            counts[loc] = candidate
    received_quantity = sum((amount(p, "quantity") for p in received), ZERO)
    return Warehouse(
        received_quantity=received_quantity if received else None,
        issued_quantity=issued,
        stock_by_location=tuple(sorted((k, v) for k, v in stock.items() if v != 0)),
        last_counts=tuple(sorted((loc, c[2]) for loc, c in counts.items())),
    )


def material_receipt(grouped: Grouped) -> MaterialReceipt | None:
    e = latest(grouped.get(ev.MATERIAL_RECEIPT_POSTED, ()))
    if e is None:
        return None
    p = e.payload
    return MaterialReceipt(
        p["supplier_id"],
        p["supplier_lot"],
        p["material_code"],
        amount(p, "quantity"),
        p["quantity"]["uom"],
    )


def shipments(grouped: Grouped) -> tuple[Shipment, ...]:
    items = (
        Shipment(
            p["delivery_id"], p["customer_id"], p["ship_to"], amount(p, "quantity"), p["ship_date"]
        )
        for e in grouped.get(ev.SHIPMENT_DISPATCHED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda s: (s.delivery_id, s.customer_id)))


def complaints(grouped: Grouped) -> tuple[Complaint, ...]:
    items = (
        Complaint(
            p["complaint_id"],
            p["customer_id"],
            p["trace_code"],
            p["defect"],
            p["severity"],
            e.occurred_at,
        )
        for e in grouped.get(ev.COMPLAINT_RECEIVED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda c: c.complaint_id))


ErpFacts = tuple[Decimal | None, Decimal | None, str | None]
"""ERP's received quantity, production cost and its currency."""


def erp(grouped: Grouped) -> ErpFacts:
    receipts = [e.payload for e in grouped.get(ev.PRODUCTION_RECEIPT_POSTED, ())]
    if not receipts:
        return None, None, None
    quantity = sum((amount(p, "quantity") for p in receipts), ZERO)
    cost = sum((Decimal(p["cost"]) for p in receipts), ZERO)
    return quantity, cost, receipts[0]["currency"]


@dataclass(frozen=True, slots=True)
class Section:
    """One part of the view: the view fields it fills and the event types it reads."""

    fields: tuple[str, ...]
    event_types: frozenset[str]
    derive: Callable[[str, Grouped], Any]
    """(batch code, grouped records) -> the value of the one field, or a tuple for several."""


def _types(*names: str) -> frozenset[str]:
    return frozenset(names)


SECTIONS: tuple[Section, ...] = (
    Section(
        ("production",),
        _types(ev.PRODUCTION_ORDER_RELEASED, ev.BATCH_STARTED, ev.BATCH_COMPLETED),
        lambda code, g: production(g),
    ),
    Section(("parameters",), _types(ev.PROCESS_PARAMETER_RECORDED), lambda c, g: parameters(g)),
    Section(("consumptions",), _types(ev.MATERIAL_CONSUMED), lambda c, g: consumptions(g)),
    Section(("inspections",), _types(ev.INSPECTION_RECORDED), lambda c, g: inspections(g)),
    Section(("holds",), _types(ev.HOLD_PLACED, ev.HOLD_RELEASED, ev.HOLD_INHERITED), holds),
    Section(
        ("warehouse",),
        _types(ev.GOODS_RECEIVED, ev.GOODS_ISSUED, ev.STOCK_TRANSFERRED, ev.STOCK_COUNTED),
        lambda c, g: warehouse(g),
    ),
    Section(
        ("material_receipt",), _types(ev.MATERIAL_RECEIPT_POSTED), lambda c, g: material_receipt(g)
    ),
    Section(
        ("erp_received_quantity", "production_cost", "cost_currency"),
        _types(ev.PRODUCTION_RECEIPT_POSTED),
        lambda c, g: erp(g),
    ),
    Section(("shipments",), _types(ev.SHIPMENT_DISPATCHED), lambda c, g: shipments(g)),
    Section(("complaints",), _types(ev.COMPLAINT_RECEIVED), lambda c, g: complaints(g)),
)
