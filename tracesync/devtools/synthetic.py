"""A synthetic plant of many chains for measuring the store and the trace queries.

Four levels: raw material lots (30 %), two levels of intermediates (20 % each) and finished
batches (30 %). Every made batch consumes 2-4 lots of the level below (sometimes a raw lot
directly); finished batches carry trace codes, shipments (about three batches per delivery, to
200 customers) and stock; a few have complaints, holds or out-of-limit parameters. Seeded, so
the same arguments always give the same plant.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sinks.store.rows import ChainRows, chain_rows

T0 = datetime(2026, 1, 1, tzinfo=UTC)
LEVELS = (("RM", 0.3), ("IA", 0.2), ("IB", 0.2), ("FG", 0.3))


def _qty(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(1, 5000)) / 10


def _production(code: str, product: str | None, at: datetime, codes: list[str]) -> dict[str, Any]:
    made = product is not None
    return {
        "order_id": f"PO-{code}" if made else None,
        "product_code": product,
        "product_name": product,
        "line_id": f"L{len(code) % 8}" if made else None,
        "shift": "A" if made else None,
        "team": "T1" if made else None,
        "operators": ["op1"] if made else [],
        "equipment": ["MIX-1", "OVEN-1"] if made else [],
        "trace_codes": codes,
        "planned_quantity": Decimal(100) if made else None,
        "produced_quantity": Decimal(100) if made else None,
        "scrapped_quantity": Decimal(0) if made else None,
        "uom": "KG" if made else None,
        "started_at": at if made else None,
        "completed_at": at + timedelta(hours=2) if made else None,
    }


def _parameters(rng: random.Random, at: datetime, raw: bool) -> list[dict[str, Any]]:
    """One oven temperature, out of its limits in about 3 % of the made batches."""
    oven = 180.0 + rng.random() * (60.0 if rng.random() < 0.03 else 30.0)
    if raw:
        return []
    return [
        {
            "equipment_id": "OVEN-1",
            "parameter": "temperature",
            "value": oven,
            "unit": "C",
            "lower_limit": 180.0,
            "upper_limit": 220.0,
            "out_of_limit": oven > 220.0,
            "recorded_at": at,
        }
    ]


def _consumptions(rng: random.Random, code: str, parents: list[str]) -> list[dict[str, Any]]:
    return [
        {
            "consumption_id": f"C-{code}-{i}",
            "parent_lot": parent,
            "material_code": parent.split("-")[0],
            "quantity": _qty(rng),
            "uom": "KG",
        }
        for i, parent in enumerate(parents)
    ]


def _holds(rng: random.Random, code: str, at: datetime) -> list[dict[str, Any]]:
    """A hold on about 2 % of the codes."""
    if rng.random() >= 0.02:
        return []
    return [
        {
            "hold_id": f"H-{code}",
            "origin_code": code,
            "reason": "synthetic",
            "active": True,
            "inherited": False,
            "changed_at": at,
            "disposition": None,
        }
    ]


def _warehouse(rng: random.Random) -> dict[str, Any]:
    return {
        "received_quantity": Decimal(100),
        "issued_quantity": Decimal(0),
        "stock": [{"location": f"WH-{rng.randint(1, 20)}", "quantity": _qty(rng)}],
        "last_counts": [],
    }


def _material_receipt(n: int, code: str) -> dict[str, Any]:
    return {
        "supplier_id": f"SUP-{n % 40}",
        "supplier_lot": f"S-{code}",
        "material_code": f"RM-MAT-{n % 100}",
        "quantity": Decimal(1000),
        "uom": "KG",
    }


def _shipments(rng: random.Random, n: int) -> list[dict[str, Any]]:
    """About three finished batches per delivery, to 200 customers."""
    return [
        {
            "delivery_id": f"DLV-{n // 3}",
            "customer_id": f"CUST-{(n // 3) % 200}",
            "ship_to": "DC",
            "quantity": _qty(rng),
            "ship_date": date(2026, 1, 1) + timedelta(days=n % 300),
        }
    ]


def _complaints(
    rng: random.Random, n: int, code: str, trace_code: str, at: datetime
) -> list[dict[str, Any]]:
    """A complaint on about 1 % of the finished batches."""
    if rng.random() >= 0.01:
        return []
    return [
        {
            "complaint_id": f"CMP-{code}",
            "customer_id": f"CUST-{(n // 3) % 200}",
            "trace_code": trace_code,
            "defect": "synthetic",
            "severity": "LOW",
            "received_at": at,
        }
    ]


def _reconciliation(raw: bool) -> dict[str, Any]:
    return {
        "status": "NOT_APPLICABLE" if raw else "MATCHED",
        "mes_quantity": None,
        "wms_quantity": None,
        "erp_quantity": None,
        "wms_delta": None,
        "erp_delta": None,
        "missing": [],
    }


def _record(
    rng: random.Random, n: int, code: str, prefix: str, parents: list[str]
) -> dict[str, Any]:
    """One ``TraceChain`` record; the random draws happen in field order (keeps runs equal)."""
    at = T0 + timedelta(minutes=n)
    finished = prefix == "FG"
    raw = prefix == "RM"
    codes = [f"TC-{code}-{i}" for i in range(4)] if finished else []
    return {
        "batch_code": code,
        "version": 1,
        "plant": "P1",
        "production": _production(code, None if raw else f"{prefix}-PROD-{n % 50}", at, codes),
        "parameters": _parameters(rng, at, raw),
        "consumptions": _consumptions(rng, code, parents),
        "inspections": [],
        "holds": _holds(rng, code, at),
        "warehouse": _warehouse(rng),
        "material_receipt": _material_receipt(n, code) if raw else None,
        "erp_received_quantity": None,
        "production_cost": None,
        "cost_currency": None,
        "shipments": _shipments(rng, n) if finished else [],
        "complaints": _complaints(rng, n, code, codes[0], at) if finished else [],
        "reconciliation": _reconciliation(raw),
        "sources": ["ERP", "MES", "WMS"],
        "event_count": 5,
        "first_event_at": at,
        "last_event_at": at + timedelta(hours=2),
    }


def synthetic_records(batches: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """``TraceChain`` records of the synthetic plant, lower levels first."""
    rng = random.Random(seed)
    below: list[str] = []
    raw: list[str] = []
    n = 0
    for prefix, share in LEVELS:
        count = max(1, int(batches * share))
        made: list[str] = []
        for i in range(count):
            code = f"{prefix}-{i:07d}"
            parents = rng.sample(below, min(len(below), rng.randint(2, 4))) if below else []
            if prefix != "RM" and raw and rng.random() < 0.3:
                parents.append(rng.choice(raw))
            yield _record(rng, n, code, prefix, sorted(set(parents)))
            made.append(code)
            n += 1
        if prefix == "RM":
            raw = made
        below = made


def synthetic_chains(batches: int, seed: int = 7) -> Iterator[ChainRows]:
    """The synthetic plant as store rows."""
    for record in synthetic_records(batches, seed):
        yield chain_rows(record)
