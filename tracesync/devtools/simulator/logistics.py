"""WMS and ERP logistics ground truth: goods issues for consumption and deliveries, stock transfers,
stock counts, deliveries (several batch lines each) and the customer complaints that follow.

Per code the warehouse keeps one current location: receipts land there, a transfer moves the whole
balance to another location of the same area, issues leave from wherever the stock is at that time.
Counts report the balance of the current location after the code's last movement.
"""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

from tracesync.devtools.simulator import catalog
from tracesync.devtools.simulator.model import (
    Batch,
    Complaint,
    Consumption,
    DeliveryLine,
    GoodsIssue,
    GoodsReceipt,
    StockCount,
    Transfer,
)
from tracesync.devtools.simulator.timing import after, quantity, scaled

if TYPE_CHECKING:
    from tracesync.devtools.simulator.plant import PlantConfig


@dataclass(frozen=True)
class LogisticsRecords:
    transfers: tuple[Transfer, ...]
    issues: tuple[GoodsIssue, ...]
    counts: tuple[StockCount, ...]
    deliveries: tuple[DeliveryLine, ...]
    complaints: tuple[Complaint, ...]


@dataclass(frozen=True)
class _PlannedIssue:
    code: str
    order_ref: str
    quantity: Decimal
    uom: str
    at: datetime


@dataclass
class _Warehouse:
    rng: random.Random
    transfers: list[Transfer] = field(default_factory=list)
    issues: list[GoodsIssue] = field(default_factory=list)
    counts: list[StockCount] = field(default_factory=list)

    def replay(
        self,
        receipts: list[GoodsReceipt],
        planned: list[_PlannedIssue],
        transfer_at: datetime | None,
        counted: bool,
    ) -> None:
        """Walk one code's movements in time order, placing issues, the transfer and a count."""
        rng = self.rng
        code, uom = receipts[0].code, receipts[0].uom
        location, balance = receipts[0].location, Decimal(0)
        moves: list[tuple[datetime, int, object]] = [(r.at, 0, r) for r in receipts]
        moves += [(p.at, 2, p) for p in planned]
        if transfer_at is not None:
            moves.append((transfer_at, 1, None))
        last = receipts[-1].at
        for at, _, move in sorted(moves, key=lambda m: (m[0], m[1])):
            if isinstance(move, GoodsReceipt):
                balance += move.quantity
            elif isinstance(move, _PlannedIssue):
                self.issues.append(
                    GoodsIssue(
                        f"GI-{len(self.issues) + 1:07d}",
                        code,
                        move.order_ref,
                        move.quantity,
                        uom,
                        location,
                        at,
                    )
                )
                balance -= move.quantity
            elif balance > 0:
                target = rng.choice([x for x in _area_of(location) if x != location])
                self.transfers.append(
                    Transfer(
                        f"ST-{len(self.transfers) + 1:06d}",
                        code,
                        location,
                        target,
                        balance,
                        uom,
                        receipts[0].handling_unit,
                        at,
                    )
                )
                location = target
            last = at
        if counted:
            self._count(code, uom, location, balance, last)

    def _count(self, code: str, uom: str, location: str, balance: Decimal, last: datetime) -> None:
        rng = self.rng
        at = after(rng, last, 3600, 24 * 3600)
        versions: tuple[Decimal, ...] = (balance,)
        updated_at = None
        if rng.random() < 0.3:
            off = scaled(balance, rng.choice((-1, 1)) * rng.uniform(0.01, 0.05), uom)
            versions = (max(balance + off, Decimal("0.000")), balance)
            updated_at = after(rng, at, 3600, 6 * 3600)
        self.counts.append(
            StockCount(
                f"SC-{len(self.counts) + 1:06d}", code, location, uom, versions, at, updated_at
            )
        )


def _area_of(location: str) -> tuple[str, ...]:
    for area in (catalog.RAW_LOCATIONS, catalog.WIP_LOCATIONS, catalog.FG_LOCATIONS):
        if location in area:
            return area
    raise ValueError(f"unknown location {location}")


def _deliveries(
    rng: random.Random, config: PlantConfig, batches: tuple[Batch, ...], ready: dict[str, datetime]
) -> list[DeliveryLine]:
    shipped = [b for b in batches if b.kind == "finished" and rng.random() < config.ship_rate]
    lines: list[DeliveryLine] = []
    number = 0
    while shipped:
        group = shipped[: rng.randint(1, 3)]
        shipped = shipped[len(group) :]
        number += 1
        customer = rng.choice(catalog.CUSTOMERS)
        ship_to = f"{customer}/DC-{rng.randint(1, 3)}"
        at = after(rng, max(ready[b.code] for b in group), 2 * 3600, 8 * 3600)
        for line_no, batch in enumerate(group, start=1):
            lines.append(
                DeliveryLine(
                    delivery_id=f"D-{number:06d}",
                    line_no=line_no,
                    code=batch.code,
                    customer_id=customer,
                    ship_to=ship_to,
                    quantity=scaled(batch.produced_quantity, rng.uniform(0.3, 0.8), batch.uom),
                    uom=batch.uom,
                    ship_date=at.date(),
                    at=at,
                )
            )
    return lines


def _complaints(
    rng: random.Random, config: PlantConfig, batches: tuple[Batch, ...], lines: list[DeliveryLine]
) -> tuple[Complaint, ...]:
    if not lines or config.complaint_rate <= 0:
        return ()
    trace_codes = {b.code: b.trace_codes for b in batches}
    count = max(1, round(config.complaint_rate * len(lines)))
    complaints = []
    for number, line in enumerate(
        sorted(rng.sample(lines, min(count, len(lines))), key=_line_key), 1
    ):
        codes = trace_codes[line.code]
        complaints.append(
            Complaint(
                complaint_id=f"CMP-{number:05d}",
                code=line.code,
                trace_code=rng.choice(codes) if codes and rng.random() < 0.9 else None,
                customer_id=line.customer_id,
                defect=rng.choice(catalog.DEFECTS),
                severity=rng.choice(catalog.SEVERITIES),
                at=after(rng, line.at, 3 * 86400, 20 * 86400),
            )
        )
    return tuple(complaints)


def _line_key(line: DeliveryLine) -> tuple[str, int]:
    return line.delivery_id, line.line_no


def move_and_ship(
    config: PlantConfig,
    rng: random.Random,
    batches: tuple[Batch, ...],
    consumptions: tuple[Consumption, ...],
    receipts: tuple[GoodsReceipt, ...],
) -> LogisticsRecords:
    """Derive the warehouse movements, deliveries and complaints from production."""
    by_code: dict[str, list[GoodsReceipt]] = defaultdict(list)
    for receipt in receipts:
        by_code[receipt.code].append(receipt)
    ready = {code: rs[-1].at for code, rs in by_code.items()}
    orders = {b.code: b.order_id for b in batches}
    lines = _deliveries(rng, config, batches, ready)
    planned: dict[str, list[_PlannedIssue]] = defaultdict(list)
    for c in consumptions:
        at = max(after(rng, c.at, -240, -10), ready[c.parent_code])
        planned[c.parent_code].append(
            _PlannedIssue(c.parent_code, orders[c.batch_code], c.quantity, c.uom, at)
        )
    for line in lines:
        at = max(after(rng, line.at, -7200, -3600), ready[line.code])
        planned[line.code].append(
            _PlannedIssue(
                line.code, line.delivery_id, quantity(line.quantity, line.uom), line.uom, at
            )
        )
    warehouse = _Warehouse(rng)
    for code, code_receipts in by_code.items():
        transfer_at = None
        if rng.random() < config.transfer_rate:
            transfer_at = after(rng, ready[code], 1800, 3 * 3600)
        counted = rng.random() < config.count_rate
        warehouse.replay(code_receipts, planned[code], transfer_at, counted)
    return LogisticsRecords(
        transfers=tuple(warehouse.transfers),
        issues=tuple(warehouse.issues),
        counts=tuple(warehouse.counts),
        deliveries=tuple(lines),
        complaints=_complaints(rng, config, batches, lines),
    )
