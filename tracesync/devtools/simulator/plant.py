"""The seeded ground-truth plant: raw lots, intermediate and finished batches, and their genealogy.

:func:`build_plant` is deterministic: one ``random.Random`` per stage seeded from the config's seed,
no global random state and no wall clock (all times derive from ``PlantConfig.base_time``).

Genealogy: raw lots (``L-R-000001``) are consumed by intermediate batches; some intermediates also
consume earlier intermediates; finished batches consume intermediates and raw lots. A parent is used
only after WMS received it and never beyond 85 % of its quantity, so stock never goes negative.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from tracesync.devtools.simulator import catalog, logistics, quality
from tracesync.devtools.simulator.model import (
    Batch,
    Consumption,
    GoodsReceipt,
    Kind,
    MaterialReceipt,
    ParameterReading,
    Plant,
    ProductionReceipt,
    RawLot,
    Supplier,
)
from tracesync.devtools.simulator.timing import CENT, DEFAULT_BASE_TIME, after, quantity, scaled

USABLE_SHARE = Decimal("0.85")
BATCH_SPACING = timedelta(minutes=6)


@dataclass(frozen=True)
class PlantConfig:
    """What to simulate; rates are per batch (or per lot) probabilities."""

    batches: int
    seed: int
    base_time: datetime = DEFAULT_BASE_TIME
    plant_id: str = "PLANT-01"
    inspection_fail_rate: float = 0.06
    parameter_drift_rate: float = 0.02
    lot_hold_rate: float = 0.03
    correction_rate: float = 0.03
    transfer_rate: float = 0.25
    count_rate: float = 0.15
    ship_rate: float = 0.8
    complaint_rate: float = 0.01


@dataclass
class _Stock:
    """A parent that can be consumed: when it is available and how much is left to use."""

    code: str
    material_code: str
    uom: str
    ready_at: datetime
    left: Decimal
    full: Decimal


@dataclass
class _Production:
    config: PlantConfig
    rng: random.Random
    lots: list[RawLot] = field(default_factory=list)
    batches: list[Batch] = field(default_factory=list)
    consumptions: list[Consumption] = field(default_factory=list)
    receipts: list[GoodsReceipt] = field(default_factory=list)
    material_receipts: list[MaterialReceipt] = field(default_factory=list)
    production_receipts: list[ProductionReceipt] = field(default_factory=list)
    raw_stock: list[_Stock] = field(default_factory=list)
    int_stock: list[_Stock] = field(default_factory=list)

    def receive_lots(self, count: int, spacing: timedelta) -> None:
        rng, base = self.rng, self.config.base_time
        for i in range(1, count + 1):
            material = rng.choice(catalog.RAW_MATERIALS)
            supplier_id, _ = rng.choice(catalog.SUPPLIERS)
            received = after(rng, base + spacing * (i - 1), 0, 60)
            lot = RawLot(
                code=f"L-R-{i:06d}",
                material_code=material.code,
                supplier_id=supplier_id,
                supplier_lot=f"SL-{rng.randint(100000, 999999)}",
                quantity=quantity(rng.randint(3000, 9000), "kg"),
                uom="kg",
                received_at=received,
            )
            self.lots.append(lot)
            self.material_receipts.append(
                MaterialReceipt(
                    receipt_id=f"MR-{i:06d}",
                    code=lot.code,
                    supplier_id=supplier_id,
                    supplier_lot=lot.supplier_lot,
                    material_code=material.code,
                    quantity=lot.quantity,
                    uom="kg",
                    at=after(rng, received, 300, 1800),
                )
            )
            location = rng.choice(catalog.RAW_LOCATIONS)
            self._receive(lot.code, lot.quantity, "kg", location, received)
            self.raw_stock.append(
                _Stock(
                    lot.code,
                    material.code,
                    "kg",
                    received,
                    lot.quantity * USABLE_SHARE,
                    lot.quantity,
                )
            )

    def _receive(self, code: str, qty: Decimal, uom: str, location: str, at: datetime) -> None:
        number = len(self.receipts) + 1
        self.receipts.append(
            GoodsReceipt(f"GR-{number:06d}", code, qty, uom, location, f"HU-{number:07d}", at)
        )

    def run_batch(self, index: int) -> None:
        rng, config = self.rng, self.config
        started = config.base_time + timedelta(hours=2) + BATCH_SPACING * index
        ready_ints = _candidates(self.int_stock, started)
        finished = index >= 3 and bool(ready_ints) and rng.random() >= 0.45
        kind: Kind = "finished" if finished else "intermediate"
        code = f"B-{index + 1:06d}"
        order_id = f"PO-{index + 1:06d}"
        parents = self._pick_parents(kind, started, ready_ints)
        for position, stock in enumerate(parents):
            self._consume(code, stock, after(rng, started, 60 * position, 60 * position + 50))
        self.batches.append(self._make_batch(code, kind, order_id, index, started))

    def _pick_parents(
        self, kind: Kind, started: datetime, ready_ints: list[_Stock]
    ) -> list[_Stock]:
        rng = self.rng
        ready_raw = _candidates(self.raw_stock, started)
        if kind == "intermediate":
            raw_count, int_count = rng.randint(1, 3), 1 if rng.random() < 0.3 else 0
        else:
            raw_count, int_count = rng.randint(0, 2), rng.randint(1, 2)
        chosen = rng.sample(ready_raw, min(raw_count, len(ready_raw)))
        chosen += rng.sample(ready_ints, min(int_count, len(ready_ints)))
        if not chosen:  # nothing ready: take the fullest received stock so genealogy never breaks
            pool = [s for s in self.raw_stock if s.ready_at <= started] or self.raw_stock[:1]
            chosen = [max(pool, key=lambda s: s.left)]
        return chosen

    def _consume(self, code: str, stock: _Stock, at: datetime) -> None:
        wanted = scaled(stock.full, self.rng.uniform(0.04, 0.18), stock.uom)
        taken = min(wanted, quantity(stock.left, stock.uom))
        if taken <= 0:
            taken = Decimal("1.000") if stock.uom == "EA" else Decimal("0.001")
        stock.left -= taken
        number = len(self.consumptions) + 1
        self.consumptions.append(
            Consumption(
                f"C-{number:07d}", code, stock.code, stock.material_code, taken, stock.uom, at
            )
        )

    def _make_batch(
        self, code: str, kind: Kind, order_id: str, index: int, started: datetime
    ) -> Batch:
        rng, config = self.rng, self.config
        product = rng.choice(catalog.FINISHED if kind == "finished" else catalog.INTERMEDIATES)
        line_id = catalog.LINE_IDS[index % len(catalog.LINE_IDS)]
        shift = catalog.shift_at(started.hour)
        team = catalog.team_of(line_id, shift)
        operators = tuple(sorted(rng.sample(catalog.operators_of(team), rng.randint(2, 3))))
        equipment = tuple(sorted(rng.sample(catalog.equipment_of(line_id), rng.randint(2, 3))))
        planned = quantity(
            rng.randint(1000, 6000) if kind == "finished" else rng.randint(500, 2000), product.uom
        )
        produced = scaled(planned, rng.uniform(0.92, 1.02), product.uom)
        completed = after(rng, started, 1200, 1440)
        first_reported, corrected_at = None, None
        if rng.random() < config.correction_rate:
            first_reported = scaled(produced, rng.uniform(1.02, 1.10), product.uom)
            corrected_at = after(rng, completed, 2 * 3600, 8 * 3600)
        batch = Batch(
            code=code,
            kind=kind,
            product_code=product.code,
            product_name=product.name,
            order_id=order_id,
            line_id=line_id,
            planned_quantity=planned,
            uom=product.uom,
            shift=shift,
            team=team,
            operators=operators,
            equipment=equipment,
            released_at=after(rng, started, -3600, -1200),
            started_at=started,
            completed_at=completed,
            produced_quantity=produced,
            scrapped_quantity=scaled(planned, rng.uniform(0.0, 0.03), product.uom),
            trace_codes=tuple(f"TC-{code}-{n:04d}" for n in range(1, rng.randint(3, 6) + 1))
            if kind == "finished"
            else (),
            parameters=self._readings(equipment, started),
            first_reported_quantity=first_reported,
            corrected_at=corrected_at,
        )
        self._book_output(batch)
        return batch

    def _readings(
        self, equipment: tuple[str, ...], started: datetime
    ) -> tuple[ParameterReading, ...]:
        rng, drift = self.rng, self.config.parameter_drift_rate
        readings = []
        for equipment_id in equipment:
            for spec in catalog.parameters_of(equipment_id):
                readings.append(
                    ParameterReading(
                        equipment_id,
                        spec.name,
                        _reading_value(rng, spec, rng.random() < drift),
                        spec.unit,
                        spec.lower,
                        spec.upper,
                        after(rng, started, 120, 1100),
                    )
                )
        return tuple(readings)

    def _book_output(self, batch: Batch) -> None:
        """WMS receipt(s) and the ERP production receipt of a finished run."""
        rng = self.rng
        locations = catalog.FG_LOCATIONS if batch.kind == "finished" else catalog.WIP_LOCATIONS
        location = rng.choice(locations)
        received = after(rng, batch.completed_at, 600, 2400)
        if rng.random() < 0.3:  # received on two handling units
            first = scaled(batch.produced_quantity, 0.6, batch.uom)
            self._receive(batch.code, first, batch.uom, location, received)
            received = after(rng, received, 60, 600)
            self._receive(
                batch.code, batch.produced_quantity - first, batch.uom, location, received
            )
        else:
            self._receive(batch.code, batch.produced_quantity, batch.uom, location, received)
        unit_cost = Decimal(str(round(rng.uniform(0.4, 6.0), 2)))
        self.production_receipts.append(
            ProductionReceipt(
                receipt_id=f"PR-{len(self.production_receipts) + 1:06d}",
                code=batch.code,
                order_id=batch.order_id,
                quantity=batch.produced_quantity,
                uom=batch.uom,
                cost=(batch.produced_quantity * unit_cost).quantize(CENT),
                currency="EUR",
                at=after(rng, batch.completed_at, 1800, 7200),
            )
        )
        if batch.kind == "intermediate":
            self.int_stock.append(
                _Stock(
                    batch.code,
                    batch.product_code,
                    batch.uom,
                    received,
                    batch.produced_quantity * USABLE_SHARE,
                    batch.produced_quantity,
                )
            )


def _candidates(pool: list[_Stock], started: datetime, wanted: int = 12) -> list[_Stock]:
    """First-in first-out: the oldest ``wanted`` usable stocks; drops used-up ones from the pool."""
    while pool and pool[0].left < 1:
        pool.pop(0)
    found = []
    for stock in pool[: wanted * 4]:
        if stock.ready_at <= started and stock.left >= 1:
            found.append(stock)
            if len(found) == wanted:
                break
    return found


def _reading_value(rng: random.Random, spec: catalog.ParameterSpec, drifted: bool) -> float:
    if drifted and spec.upper is not None:
        span = spec.upper - (spec.lower if spec.lower is not None else spec.nominal)
        if spec.lower is not None and rng.random() < 0.5:
            return round(spec.lower - span * rng.uniform(0.05, 0.3), 2)
        return round(spec.upper + span * rng.uniform(0.05, 0.3), 2)
    low = spec.lower if spec.lower is not None else spec.nominal * 0.8
    high = spec.upper if spec.upper is not None else spec.nominal * 1.2
    value = round(rng.gauss(spec.nominal, (high - low) / 8), 2)
    return min(max(value, low), high)


def build_plant(config: PlantConfig) -> Plant:
    """Simulate ``config.batches`` production batches (and the raw lots they need) end to end."""
    production = _Production(config, random.Random(f"plant:{config.seed}"))
    lot_count = config.batches // 2 + 4
    spacing = timedelta(
        milliseconds=BATCH_SPACING
        // timedelta(milliseconds=1)
        * max(config.batches, 1)
        // lot_count
    )
    production.receive_lots(lot_count, spacing)
    for index in range(config.batches):
        production.run_batch(index)
    lots, batches = tuple(production.lots), tuple(production.batches)
    consumptions = tuple(production.consumptions)
    qms = quality.inspect_and_hold(
        config, random.Random(f"quality:{config.seed}"), lots, batches, consumptions
    )
    warehouse = logistics.move_and_ship(
        config,
        random.Random(f"logistics:{config.seed}"),
        batches,
        consumptions,
        tuple(production.receipts),
    )
    return Plant(
        plant_id=config.plant_id,
        base_time=config.base_time,
        suppliers=tuple(Supplier(sid, name) for sid, name in catalog.SUPPLIERS),
        lots=lots,
        batches=batches,
        consumptions=consumptions,
        inspections=qms.inspections,
        holds=qms.holds,
        complaints=warehouse.complaints,
        receipts=tuple(production.receipts),
        transfers=warehouse.transfers,
        issues=warehouse.issues,
        counts=warehouse.counts,
        material_receipts=tuple(production.material_receipts),
        production_receipts=tuple(production.production_receipts),
        deliveries=warehouse.deliveries,
    )
