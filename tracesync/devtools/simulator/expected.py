"""The expected final facts per code, computed from the ground truth (never by replaying events
through a merge function).

Definitions the pipeline is checked against (per code = batch or lot):

* ``parents``: distinct codes the code consumed (MES MaterialConsumed ``parent_lot``), sorted.
* ``out_of_limit``: ``(equipment, parameter, value)`` of readings below ``lower_limit`` or above
  ``upper_limit`` (a missing limit never trips), sorted.
* ``own_active_holds``: hold ids placed on this code and not released, sorted.
* ``inherited_active_holds``: ``(hold_id, origin_code)`` of every active hold on any ancestor
  (parents, their parents, ...), each pair once even if reached on several paths, sorted.
* ``wms_received_quantity``: sum of GoodsReceived (``None`` without receipts);
  ``wms_issued_quantity``: sum of GoodsIssued (production orders and deliveries alike).
* ``stock_by_location``: per location received + transferred in - transferred out - issued,
  locations with a zero balance left out, sorted. ERP shipments are not subtracted a second time:
  WMS issues every delivered quantity (``order_ref`` = delivery id). Counts do not change stock.
* ``last_counts``: per location the latest count (by occurred_at) at its highest ``source_seq``.
* ``erp_received_quantity``: sum of ProductionReceiptPosted for batches, the MaterialReceiptPosted
  quantity for raw lots (``None`` when ERP never sent it).
* ``reconciliation`` (produced batches only, lots are ``NOT_APPLICABLE``): ``MISSING_SIDE`` when
  WMS or ERP has no quantity (``missing`` names them), else ``MISMATCH`` when WMS or ERP differs
  from the MES produced quantity (highest seq) by more than ``tolerance`` x MES, else ``MATCHED``.
  (The status names are those of ``streams.domain.reconcile``; ``MATCHED`` means "OK".)
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from tracesync.devtools.simulator.model import Plant


@dataclass(frozen=True)
class Reconciliation:
    status: str
    mes_quantity: Decimal | None = None
    wms_quantity: Decimal | None = None
    erp_quantity: Decimal | None = None
    missing: tuple[str, ...] = ()


@dataclass(frozen=True)
class ExpectedChain:
    """What the pipeline must know about one code once every event went through."""

    code: str
    kind: str
    product_code: str
    uom: str
    order_id: str | None
    line_id: str | None
    shift: str | None
    team: str | None
    operators: tuple[str, ...]
    equipment: tuple[str, ...]
    trace_codes: tuple[str, ...]
    produced_quantity: Decimal | None
    scrapped_quantity: Decimal | None
    supplier_id: str | None
    supplier_lot: str | None
    parents: tuple[str, ...]
    out_of_limit: tuple[tuple[str, str, float], ...]
    inspections: tuple[tuple[str, str], ...]
    own_active_holds: tuple[str, ...]
    inherited_active_holds: tuple[tuple[str, str], ...]
    wms_received_quantity: Decimal | None
    wms_issued_quantity: Decimal
    stock_by_location: tuple[tuple[str, Decimal], ...]
    last_counts: tuple[tuple[str, Decimal], ...]
    erp_received_quantity: Decimal | None
    shipments: tuple[tuple[str, str, Decimal], ...]
    complaints: tuple[tuple[str, str, str | None, str], ...]
    """(complaint_id, customer_id, trace_code, severity)"""
    reconciliation: Reconciliation


def ancestors(parents: Mapping[str, Sequence[str]], code: str) -> set[str]:
    """Every code reachable upward from ``code`` (not ``code`` itself)."""
    seen: set[str] = set()
    stack = list(parents.get(code, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(parents.get(current, ()))
    return seen


def _sum(values: Iterable[Decimal]) -> Decimal | None:
    items = list(values)
    return sum(items, Decimal("0.000")) if items else None


def _reconcile(
    mes: Decimal, wms: Decimal | None, erp: Decimal | None, tolerance: Decimal
) -> Reconciliation:
    if wms is None or erp is None:
        missing = tuple(name for name, q in (("WMS", wms), ("ERP", erp)) if q is None)
        return Reconciliation("MISSING_SIDE", mes, wms, erp, missing)
    limit = abs(mes) * tolerance
    agree = abs(wms - mes) <= limit and abs(erp - mes) <= limit
    return Reconciliation("MATCHED" if agree else "MISMATCH", mes, wms, erp)


def _warehouse(plant: Plant) -> dict[str, dict[str, Decimal]]:
    stock: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for r in plant.receipts:
        stock[r.code][r.location] += r.quantity
    for t in plant.transfers:
        stock[t.code][t.from_location] -= t.quantity
        stock[t.code][t.to_location] += t.quantity
    for i in plant.issues:
        stock[i.code][i.location] -= i.quantity
    return stock


def _grouped(items: Iterable[Any]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = defaultdict(list)
    for item in items:
        out[item.code].append(item)
    return out


def expected_chains(plant: Plant, tolerance: Decimal) -> dict[str, ExpectedChain]:
    """The expected chain of every lot and batch of ``plant``."""
    parents = plant.parents()
    active = [h for h in plant.holds if h.release is None]
    active_by_code = _grouped(active)
    receipts, issues = _grouped(plant.receipts), _grouped(plant.issues)
    prod_receipts, material = _grouped(plant.production_receipts), _grouped(plant.material_receipts)
    inspections, counts = _grouped(plant.inspections), _grouped(plant.counts)
    shipments, complaints = _grouped(plant.deliveries), _grouped(plant.complaints)
    stock = _warehouse(plant)
    chains = {}
    for code in plant.codes():
        inherited = {
            (h.hold_id, origin)
            for origin in ancestors(parents, code)
            for h in active_by_code.get(origin, ())
        }
        latest_counts: dict[str, Any] = {}
        for c in sorted(counts.get(code, ()), key=lambda c: c.at):
            latest_counts[c.location] = c.versions[-1]
        common: dict[str, Any] = {
            "code": code,
            "parents": parents[code],
            "inspections": tuple(sorted((i.inspection_id, i.verdict) for i in inspections[code])),
            "own_active_holds": tuple(sorted(h.hold_id for h in active_by_code.get(code, ()))),
            "inherited_active_holds": tuple(sorted(inherited)),
            "wms_received_quantity": _sum(r.quantity for r in receipts.get(code, ())),
            "wms_issued_quantity": _sum(i.quantity for i in issues.get(code, ()))
            or Decimal("0.000"),
            "stock_by_location": tuple(sorted((k, v) for k, v in stock[code].items() if v != 0)),
            "last_counts": tuple(sorted(latest_counts.items())),
            "shipments": tuple(
                sorted((d.delivery_id, d.customer_id, d.quantity) for d in shipments[code])
            ),
            "complaints": tuple(
                sorted(
                    (c.complaint_id, c.customer_id, c.trace_code, c.severity)
                    for c in complaints[code]
                )
            ),
        }
        chains[code] = _lot_chain(plant, code, common, material) or _batch_chain(
            plant, code, common, prod_receipts, tolerance
        )
    return chains


def _lot_chain(
    plant: Plant, code: str, common: dict[str, Any], material: Mapping[str, list[Any]]
) -> ExpectedChain | None:
    lot = plant.lot(code)
    if lot is None:
        return None
    return ExpectedChain(
        kind="raw",
        product_code=lot.material_code,
        uom=lot.uom,
        order_id=None,
        line_id=None,
        shift=None,
        team=None,
        operators=(),
        equipment=(),
        trace_codes=(),
        produced_quantity=None,
        scrapped_quantity=None,
        supplier_id=lot.supplier_id,
        supplier_lot=lot.supplier_lot,
        out_of_limit=(),
        erp_received_quantity=_sum(m.quantity for m in material.get(code, ())),
        reconciliation=Reconciliation("NOT_APPLICABLE"),
        **common,
    )


def _batch_chain(
    plant: Plant,
    code: str,
    common: dict[str, Any],
    prod_receipts: Mapping[str, list[Any]],
    tolerance: Decimal,
) -> ExpectedChain:
    batch = plant.batch(code)
    erp = _sum(p.quantity for p in prod_receipts.get(code, ()))
    return ExpectedChain(
        kind=batch.kind,
        product_code=batch.product_code,
        uom=batch.uom,
        order_id=batch.order_id,
        line_id=batch.line_id,
        shift=batch.shift,
        team=batch.team,
        operators=batch.operators,
        equipment=batch.equipment,
        trace_codes=tuple(sorted(batch.trace_codes)),
        produced_quantity=batch.produced_quantity,
        scrapped_quantity=batch.scrapped_quantity,
        supplier_id=None,
        supplier_lot=None,
        out_of_limit=tuple(
            sorted(
                (r.equipment_id, r.parameter, r.value) for r in batch.parameters if r.out_of_limits
            )
        ),
        erp_received_quantity=erp,
        reconciliation=_reconcile(
            batch.produced_quantity, common["wms_received_quantity"], erp, tolerance
        ),
        **common,
    )
