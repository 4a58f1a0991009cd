"""The derived view's data: what people and target systems read about one batch.

Frozen dataclasses only; :mod:`streams.domain.view.derive` computes them from a chain's records.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from streams.domain.reconcile import Reconciliation


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
