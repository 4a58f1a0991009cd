"""QMS ground truth: inspections per batch (some FAIL and put the batch on hold, some holds are
released after a re-inspection), incoming inspections of raw lots, and supplier holds on raw lots.

Supplier holds are placed on lots that were consumed, so the pipeline has something to propagate.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from tracesync.devtools.simulator import catalog
from tracesync.devtools.simulator.model import (
    Batch,
    Characteristic,
    Consumption,
    Hold,
    HoldRelease,
    Inspection,
    RawLot,
)
from tracesync.devtools.simulator.timing import after

if TYPE_CHECKING:
    from tracesync.devtools.simulator.plant import PlantConfig


@dataclass(frozen=True)
class QualityRecords:
    inspections: tuple[Inspection, ...]
    holds: tuple[Hold, ...]


@dataclass
class _Qms:
    rng: random.Random
    inspections: list[Inspection] = field(default_factory=list)
    holds: list[Hold] = field(default_factory=list)

    def inspect(self, code: str, plan: str, verdict: str, at: datetime) -> Inspection:
        rng = self.rng
        specs = rng.sample(catalog.INSPECTION_CHARACTERISTICS, rng.randint(2, 3))
        failing = 0 if verdict == "FAIL" else -1
        characteristics = tuple(
            _characteristic(rng, spec, fail=index == failing) for index, spec in enumerate(specs)
        )
        inspection = Inspection(
            inspection_id=f"QI-{len(self.inspections) + 1:07d}",
            code=code,
            plan=plan,
            characteristics=characteristics,
            verdict=verdict,
            inspector=rng.choice(catalog.INSPECTORS),
            at=at,
        )
        self.inspections.append(inspection)
        return inspection

    def hold(self, code: str, target: str, reason: str, at: datetime, released: bool) -> Hold:
        rng = self.rng
        release = None
        if released:
            disposition = "REWORK" if rng.random() < 0.2 else "RELEASE"
            release = HoldRelease(
                released_by=rng.choice(catalog.INSPECTORS),
                reason="re-inspection passed" if target == "BATCH" else "supplier cleared",
                disposition=disposition,
                at=after(rng, at, 86400, 3 * 86400),
            )
            if target == "BATCH":
                self.inspect(code, "RE-INSPECTION", "PASS", after(rng, release.at, -7200, -600))
        hold = Hold(
            hold_id=f"H-{len(self.holds) + 1:06d}",
            code=code,
            target_type=target,
            reason=reason,
            placed_by=rng.choice(catalog.INSPECTORS),
            placed_at=at,
            release=release,
        )
        self.holds.append(hold)
        return hold


def _characteristic(
    rng: random.Random, spec: tuple[str, str, float, float], *, fail: bool
) -> Characteristic:
    name, unit, low, high = spec
    if fail:
        value = round(high + (high - low) * rng.uniform(0.05, 0.4), 2)
    else:
        value = round(rng.uniform(low + (high - low) * 0.1, high - (high - low) * 0.1), 2)
    return Characteristic(name, value, unit, low, high, not fail)


def inspect_and_hold(
    config: PlantConfig,
    rng: random.Random,
    lots: tuple[RawLot, ...],
    batches: tuple[Batch, ...],
    consumptions: tuple[Consumption, ...],
) -> QualityRecords:
    """Inspections and holds for every lot and batch, in a deterministic order."""
    qms = _Qms(rng)
    for lot in lots:
        if rng.random() < 0.3:
            verdict = "CONDITIONAL" if rng.random() < 0.1 else "PASS"
            qms.inspect(lot.code, "INCOMING", verdict, after(rng, lot.received_at, 600, 7200))
    for batch in batches:
        roll = rng.random()
        verdict = "FAIL" if roll < config.inspection_fail_rate else "PASS"
        if verdict == "PASS" and rng.random() < 0.02:
            verdict = "CONDITIONAL"
        plan = "FINAL-RELEASE" if batch.kind == "finished" else "IN-PROCESS"
        inspection = qms.inspect(
            batch.code, plan, verdict, after(rng, batch.completed_at, 900, 3600)
        )
        if verdict == "FAIL":
            failed = inspection.characteristics[0].name
            qms.hold(
                batch.code,
                "BATCH",
                f"inspection {inspection.inspection_id} failed: {failed}",
                after(rng, inspection.at, 300, 1200),
                released=rng.random() < 0.5,
            )
    consumed = sorted({c.parent_code for c in consumptions if c.parent_code.startswith("L-")})
    by_code = {lot.code: lot for lot in lots}
    if config.lot_hold_rate > 0 and consumed:
        count = max(1, round(config.lot_hold_rate * len(lots)))
        for code in sorted(rng.sample(consumed, min(count, len(consumed)))):
            lot = by_code[code]
            qms.hold(
                code,
                "LOT",
                f"supplier {lot.supplier_id} notice on lot {lot.supplier_lot}: contamination risk",
                after(rng, lot.received_at, 3600, 48 * 3600),
                released=rng.random() < 0.3,
            )
    return QualityRecords(tuple(qms.inspections), tuple(qms.holds))
