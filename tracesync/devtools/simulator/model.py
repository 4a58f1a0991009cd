"""Ground-truth records of the simulated plant: what really happened, system by system.

These frozen dataclasses are the single source both for the events the simulator emits
(:mod:`tracesync.devtools.simulator.events`) and for the expected final facts
(:mod:`tracesync.devtools.simulator.oracle`).
Quantities are ``Decimal`` with scale 3, costs scale 2; every time is a timezone-aware UTC datetime
with whole milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

Kind = Literal["raw", "intermediate", "finished"]


@dataclass(frozen=True)
class Supplier:
    supplier_id: str
    name: str


@dataclass(frozen=True)
class RawLot:
    """A supplier lot received under our own lot code (``L-R-000001``)."""

    code: str
    material_code: str
    supplier_id: str
    supplier_lot: str
    quantity: Decimal
    uom: str
    received_at: datetime


@dataclass(frozen=True)
class ParameterReading:
    equipment_id: str
    parameter: str
    value: float
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    at: datetime

    @property
    def out_of_limits(self) -> bool:
        below = self.lower_limit is not None and self.value < self.lower_limit
        above = self.upper_limit is not None and self.value > self.upper_limit
        return below or above


@dataclass(frozen=True)
class Batch:
    """One production run of one product on one line (intermediate or finished)."""

    code: str
    kind: Kind
    product_code: str
    product_name: str
    order_id: str
    line_id: str
    planned_quantity: Decimal
    uom: str
    shift: str
    team: str
    operators: tuple[str, ...]
    equipment: tuple[str, ...]
    released_at: datetime
    started_at: datetime
    completed_at: datetime
    produced_quantity: Decimal
    scrapped_quantity: Decimal
    trace_codes: tuple[str, ...]
    parameters: tuple[ParameterReading, ...]
    first_reported_quantity: Decimal | None = None
    """Set when MES first reported a wrong produced quantity and corrected it later (seq 2)."""
    corrected_at: datetime | None = None


@dataclass(frozen=True)
class Consumption:
    consumption_id: str
    batch_code: str
    parent_code: str
    material_code: str
    quantity: Decimal
    uom: str
    at: datetime


@dataclass(frozen=True)
class Characteristic:
    name: str
    value: float
    unit: str
    lower_limit: float | None
    upper_limit: float | None
    passed: bool


@dataclass(frozen=True)
class Inspection:
    inspection_id: str
    code: str
    plan: str
    characteristics: tuple[Characteristic, ...]
    verdict: str
    inspector: str
    at: datetime


@dataclass(frozen=True)
class HoldRelease:
    released_by: str
    reason: str
    disposition: str
    at: datetime


@dataclass(frozen=True)
class Hold:
    hold_id: str
    code: str
    target_type: str
    reason: str
    placed_by: str
    placed_at: datetime
    release: HoldRelease | None = None


@dataclass(frozen=True)
class Complaint:
    complaint_id: str
    code: str
    trace_code: str | None
    customer_id: str
    defect: str
    severity: str
    at: datetime


@dataclass(frozen=True)
class GoodsReceipt:
    receipt_id: str
    code: str
    quantity: Decimal
    uom: str
    location: str
    handling_unit: str
    at: datetime


@dataclass(frozen=True)
class Transfer:
    transfer_id: str
    code: str
    from_location: str
    to_location: str
    quantity: Decimal
    uom: str
    handling_unit: str
    at: datetime


@dataclass(frozen=True)
class GoodsIssue:
    issue_id: str
    code: str
    order_ref: str
    quantity: Decimal
    uom: str
    location: str
    at: datetime


@dataclass(frozen=True)
class StockCount:
    """A physical count; ``versions`` are what WMS recorded (seq 1, 2 ...); the last one stands."""

    count_id: str
    code: str
    location: str
    uom: str
    versions: tuple[Decimal, ...]
    at: datetime
    updated_at: datetime | None = None


@dataclass(frozen=True)
class MaterialReceipt:
    receipt_id: str
    code: str
    supplier_id: str
    supplier_lot: str
    material_code: str
    quantity: Decimal
    uom: str
    at: datetime


@dataclass(frozen=True)
class ProductionReceipt:
    receipt_id: str
    code: str
    order_id: str
    quantity: Decimal
    uom: str
    cost: Decimal
    currency: str
    at: datetime


@dataclass(frozen=True)
class DeliveryLine:
    """One batch line of a delivery; ERP sends one ShipmentDispatched per line."""

    delivery_id: str
    line_no: int
    code: str
    customer_id: str
    ship_to: str
    quantity: Decimal
    uom: str
    ship_date: date
    at: datetime


@dataclass(frozen=True)
class Plant:
    """Everything that happened in the simulated plant, by system."""

    plant_id: str
    base_time: datetime
    suppliers: tuple[Supplier, ...]
    lots: tuple[RawLot, ...]
    batches: tuple[Batch, ...]
    consumptions: tuple[Consumption, ...]
    inspections: tuple[Inspection, ...]
    holds: tuple[Hold, ...]
    complaints: tuple[Complaint, ...]
    receipts: tuple[GoodsReceipt, ...]
    transfers: tuple[Transfer, ...]
    issues: tuple[GoodsIssue, ...]
    counts: tuple[StockCount, ...]
    material_receipts: tuple[MaterialReceipt, ...]
    production_receipts: tuple[ProductionReceipt, ...]
    deliveries: tuple[DeliveryLine, ...]
    _lots: dict[str, RawLot] = field(default_factory=dict, init=False, compare=False, repr=False)
    _batches: dict[str, Batch] = field(default_factory=dict, init=False, compare=False, repr=False)
    _parents: dict[str, tuple[str, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    def codes(self) -> list[str]:
        """All lot and batch codes, lots first."""
        return [lot.code for lot in self.lots] + [b.code for b in self.batches]

    def lot(self, code: str) -> RawLot | None:
        """The raw lot with this code, if there is one."""
        if not self._lots:
            self._lots.update({lot.code: lot for lot in self.lots})
        return self._lots.get(code)

    def batch(self, code: str) -> Batch:
        """The produced batch with this code."""
        if not self._batches:
            self._batches.update({b.code: b for b in self.batches})
        return self._batches[code]

    def parents(self) -> dict[str, tuple[str, ...]]:
        """Direct parents (sorted, distinct) of every code; lots have none."""
        if not self._parents:
            found: dict[str, set[str]] = {code: set() for code in self.codes()}
            for c in self.consumptions:
                found[c.batch_code].add(c.parent_code)
            self._parents.update({code: tuple(sorted(p)) for code, p in found.items()})
        return self._parents
