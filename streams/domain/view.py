"""The derived view of a trace chain: what people and target systems read.

:func:`view_of` turns a chain's winning records into production, materials, quality, warehouse,
ERP and reconciliation facts, plus bookkeeping. It is a pure function of the records (and the
reconciliation rules), so two chains with the same records always have the same view.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from streams.domain import events as ev
from streams.domain.chain import TraceChain
from streams.domain.events import Event
from streams.domain.reconcile import Reconciliation, ReconciliationRules, reconcile

ZERO = Decimal(0)


@dataclass(frozen=True, slots=True)
class Production:
    """What MES says about the batch: order, where, when, who and how much."""

    order_id: str | None = None
    product_code: str | None = None
    product_name: str | None = None
    line_id: str | None = None
    shift: str | None = None
    team: str | None = None
    operators: tuple[str, ...] = ()
    equipment: tuple[str, ...] = ()
    trace_codes: tuple[str, ...] = ()
    planned_quantity: Decimal | None = None
    produced_quantity: Decimal | None = None
    scrapped_quantity: Decimal | None = None
    uom: str | None = None
    started_at: datetime | None = None
    completed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class ParameterReading:
    """A process parameter recorded on a piece of equipment, with its limits."""

    equipment_id: str
    parameter: str
    value: float
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    recorded_at: datetime

    @property
    def out_of_limit(self) -> bool:
        below = self.lower_limit is not None and self.value < self.lower_limit
        above = self.upper_limit is not None and self.value > self.upper_limit
        return below or above


@dataclass(frozen=True, slots=True)
class Consumption:
    """A parent lot consumed by this batch (one genealogy edge)."""

    consumption_id: str
    parent_lot: str
    material_code: str
    quantity: Decimal
    uom: str


@dataclass(frozen=True, slots=True)
class Inspection:
    """A QMS inspection of the batch and its verdict."""

    inspection_id: str
    plan: str
    verdict: str
    inspector: str
    failed_characteristics: tuple[str, ...]
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Hold:
    """A quality hold in force on (or released from) this batch, own or inherited from a parent."""

    hold_id: str
    origin_code: str
    reason: str
    active: bool
    inherited: bool
    changed_at: datetime
    disposition: str | None = None


@dataclass(frozen=True, slots=True)
class Shipment:
    """One batch line of a delivery to a customer."""

    delivery_id: str
    customer_id: str
    ship_to: str
    quantity: Decimal
    ship_date: date


@dataclass(frozen=True, slots=True)
class Complaint:
    """A customer complaint traced to this batch."""

    complaint_id: str
    customer_id: str
    trace_code: str | None
    defect: str
    severity: str
    received_at: datetime


@dataclass(frozen=True, slots=True)
class MaterialReceipt:
    """ERP's receipt of a purchased lot (for raw-material lots)."""

    supplier_id: str
    supplier_lot: str
    material_code: str
    quantity: Decimal
    uom: str


@dataclass(frozen=True, slots=True)
class Warehouse:
    """WMS facts: received and issued quantities, stock and last count per location."""

    received_quantity: Decimal | None
    issued_quantity: Decimal
    stock_by_location: tuple[tuple[str, Decimal], ...]
    last_counts: tuple[tuple[str, Decimal], ...]


@dataclass(frozen=True, slots=True)
class ChainView:
    """The full trace chain of one batch as published and stored."""

    batch_code: str
    version: int
    plant: str
    production: Production
    parameters: tuple[ParameterReading, ...]
    consumptions: tuple[Consumption, ...]
    inspections: tuple[Inspection, ...]
    holds: tuple[Hold, ...]
    warehouse: Warehouse
    material_receipt: MaterialReceipt | None
    erp_received_quantity: Decimal | None
    production_cost: Decimal | None
    cost_currency: str | None
    shipments: tuple[Shipment, ...]
    complaints: tuple[Complaint, ...]
    reconciliation: Reconciliation
    sources: tuple[str, ...]
    event_count: int
    first_event_at: datetime | None
    last_event_at: datetime | None

    @property
    def parent_lots(self) -> tuple[str, ...]:
        return tuple(sorted({c.parent_lot for c in self.consumptions}))

    @property
    def active_holds(self) -> tuple[Hold, ...]:
        return tuple(h for h in self.holds if h.active)

    @property
    def on_hold(self) -> bool:
        return any(h.active for h in self.holds)

    @property
    def out_of_limit_parameters(self) -> tuple[ParameterReading, ...]:
        return tuple(p for p in self.parameters if p.out_of_limit)


def _qty(payload: Mapping[str, Any], name: str) -> Decimal:
    return Decimal(payload[name]["value"])


def _by_type(events: Iterable[Event]) -> dict[str, list[Event]]:
    grouped: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        grouped[event.event_type].append(event)
    return grouped


def _production(grouped: Mapping[str, list[Event]]) -> Production:
    order = _latest(grouped.get(ev.PRODUCTION_ORDER_RELEASED, ()))
    started = _latest(grouped.get(ev.BATCH_STARTED, ()))
    completed = _latest(grouped.get(ev.BATCH_COMPLETED, ()))
    fields: dict[str, Any] = {}
    if order is not None:
        p = order.payload
        fields |= {
            "order_id": p["order_id"],
            "product_code": p["product_code"],
            "product_name": p["product_name"],
            "line_id": p["line_id"],
            "planned_quantity": _qty(p, "planned_quantity"),
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
            "produced_quantity": _qty(p, "produced_quantity"),
            "scrapped_quantity": _qty(p, "scrapped_quantity"),
            "uom": p["produced_quantity"]["uom"],
            "completed_at": completed.occurred_at,
        }
    return Production(**fields)


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(value)


def _latest(events: Iterable[Event]) -> Event | None:
    """The latest of several records of one kind (e.g. a batch started twice): by time, then id."""
    return max(events, key=lambda e: (e.occurred_at, e.source_seq, e.event_id), default=None)


def _parameters(grouped: Mapping[str, list[Event]]) -> tuple[ParameterReading, ...]:
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


def _consumptions(grouped: Mapping[str, list[Event]]) -> tuple[Consumption, ...]:
    items = (
        Consumption(
            consumption_id=p["consumption_id"],
            parent_lot=p["parent_lot"],
            material_code=p["material_code"],
            quantity=_qty(p, "quantity"),
            uom=p["quantity"]["uom"],
        )
        for e in grouped.get(ev.MATERIAL_CONSUMED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda c: (c.parent_lot, c.consumption_id)))


def _inspections(grouped: Mapping[str, list[Event]]) -> tuple[Inspection, ...]:
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


def _holds(batch_code: str, grouped: Mapping[str, list[Event]]) -> tuple[Hold, ...]:
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


def _warehouse(grouped: Mapping[str, list[Event]]) -> Warehouse:
    stock: dict[str, Decimal] = defaultdict(Decimal)
    received = [e.payload for e in grouped.get(ev.GOODS_RECEIVED, ())]
    for p in received:
        stock[p["location"]] += _qty(p, "quantity")
    issued = ZERO
    for e in grouped.get(ev.GOODS_ISSUED, ()):
        qty = _qty(e.payload, "quantity")
        stock[e.payload["location"]] -= qty
        issued += qty
    for e in grouped.get(ev.STOCK_TRANSFERRED, ()):
        qty = _qty(e.payload, "quantity")
        stock[e.payload["from_location"]] -= qty
        stock[e.payload["to_location"]] += qty
    counts: dict[str, tuple[datetime, str, Decimal]] = {}
    for e in grouped.get(ev.STOCK_COUNTED, ()):
        loc = e.payload["location"]
        candidate = (e.occurred_at, e.event_id, _qty(e.payload, "quantity"))
        if loc not in counts or candidate[:2] > counts[loc][:2]:
            counts[loc] = candidate
    return Warehouse(
        received_quantity=sum((_qty(p, "quantity") for p in received), ZERO) if received else None,
        issued_quantity=issued,
        stock_by_location=tuple(sorted((k, v) for k, v in stock.items() if v != 0)),
        last_counts=tuple(sorted((loc, c[2]) for loc, c in counts.items())),
    )


def _material_receipt(grouped: Mapping[str, list[Event]]) -> MaterialReceipt | None:
    e = _latest(grouped.get(ev.MATERIAL_RECEIPT_POSTED, ()))
    if e is None:
        return None
    p = e.payload
    return MaterialReceipt(
        p["supplier_id"],
        p["supplier_lot"],
        p["material_code"],
        _qty(p, "quantity"),
        p["quantity"]["uom"],
    )


def _shipments(grouped: Mapping[str, list[Event]]) -> tuple[Shipment, ...]:
    items = (
        Shipment(
            p["delivery_id"], p["customer_id"], p["ship_to"], _qty(p, "quantity"), p["ship_date"]
        )
        for e in grouped.get(ev.SHIPMENT_DISPATCHED, ())
        for p in (e.payload,)
    )
    return tuple(sorted(items, key=lambda s: (s.delivery_id, s.customer_id)))


def _complaints(grouped: Mapping[str, list[Event]]) -> tuple[Complaint, ...]:
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


def view_of(chain: TraceChain, rules: ReconciliationRules) -> ChainView:
    """Derive the full view of ``chain``."""
    source_events = [e for e in chain.records.values() if e.source_system != ev.TRACESYNC]
    grouped = _by_type(chain.records.values())
    production = _production(grouped)
    warehouse = _warehouse(grouped)
    erp_receipts = [e.payload for e in grouped.get(ev.PRODUCTION_RECEIPT_POSTED, ())]
    erp_qty = sum((_qty(p, "quantity") for p in erp_receipts), ZERO) if erp_receipts else None
    cost = sum((Decimal(p["cost"]) for p in erp_receipts), ZERO) if erp_receipts else None
    times = [e.occurred_at for e in source_events]
    return ChainView(
        batch_code=chain.batch_code,
        version=chain.version,
        plant=min((e.plant for e in source_events), default=""),
        production=production,
        parameters=_parameters(grouped),
        consumptions=_consumptions(grouped),
        inspections=_inspections(grouped),
        holds=_holds(chain.batch_code, grouped),
        warehouse=warehouse,
        material_receipt=_material_receipt(grouped),
        erp_received_quantity=erp_qty,
        production_cost=cost,
        cost_currency=erp_receipts[0]["currency"] if erp_receipts else None,
        shipments=_shipments(grouped),
        complaints=_complaints(grouped),
        reconciliation=reconcile(
            mes=production.produced_quantity,
            wms=warehouse.received_quantity,
            erp=erp_qty,
            due=ev.RECONCILIATION_DUE in grouped,
            rules=rules,
        ),
        sources=tuple(sorted({e.source_system for e in source_events})),
        event_count=len(source_events),
        first_event_at=min(times, default=None),
        last_event_at=max(times, default=None),
    )
