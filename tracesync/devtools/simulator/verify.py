"""Check chains produced by the pipeline against the simulator's oracle.

A chain is a ``TraceChain`` record (as published on the chain topic and stored in the trace
store); :func:`differences` lists every fact of the oracle's :class:`ExpectedChain` the chain
gets wrong, in words, so a failing test or demo says exactly what differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

from tracesync.devtools.simulator.expected import ExpectedChain
from tracesync.devtools.simulator.oracle import Oracle

Chain = Mapping[str, Any]


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _pairs(items: Iterable[Mapping[str, Any]]) -> tuple[tuple[str, Decimal], ...]:
    return tuple(sorted((i["location"], Decimal(str(i["quantity"]))) for i in items))


def observed(chain: Chain) -> dict[str, Any]:
    """The oracle's facts as read off a chain record."""
    return {
        **_production_facts(chain),
        **_quality_facts(chain),
        **_warehouse_facts(chain),
        **_commercial_facts(chain),
    }


def _production_facts(chain: Chain) -> dict[str, Any]:
    production = chain["production"]
    receipt = chain.get("material_receipt") or {}
    return {
        "order_id": production["order_id"],
        "line_id": production["line_id"],
        "shift": production["shift"],
        "team": production["team"],
        "operators": tuple(production["operators"]),
        "equipment": tuple(production["equipment"]),
        "trace_codes": tuple(production["trace_codes"]),
        "produced_quantity": _dec(production["produced_quantity"]),
        "scrapped_quantity": _dec(production["scrapped_quantity"]),
        "supplier_id": receipt.get("supplier_id"),
        "supplier_lot": receipt.get("supplier_lot"),
        "parents": tuple(sorted({c["parent_lot"] for c in chain["consumptions"]})),
        "out_of_limit": tuple(
            sorted(
                (p["equipment_id"], p["parameter"], float(p["value"]))
                for p in chain["parameters"]
                if p["out_of_limit"]
            )
        ),
    }


def _quality_facts(chain: Chain) -> dict[str, Any]:
    holds = chain["holds"]
    return {
        "inspections": tuple(
            sorted((i["inspection_id"], i["verdict"]) for i in chain["inspections"])
        ),
        "own_active_holds": tuple(
            sorted(h["hold_id"] for h in holds if h["active"] and not h["inherited"])
        ),
        "inherited_active_holds": tuple(
            sorted(
                {(h["hold_id"], h["origin_code"]) for h in holds if h["active"] and h["inherited"]}
            )
        ),
    }


def _warehouse_facts(chain: Chain) -> dict[str, Any]:
    warehouse = chain["warehouse"]
    receipt = chain.get("material_receipt") or {}
    return {
        "wms_received_quantity": _dec(warehouse["received_quantity"]),
        "wms_issued_quantity": _dec(warehouse["issued_quantity"]),
        "stock_by_location": _pairs(warehouse["stock"]),
        "last_counts": _pairs(warehouse["last_counts"]),
        # ERP's receipt of a lot: a production receipt for our batches, a purchase for raw lots
        "erp_received_quantity": _dec(chain["erp_received_quantity"] or receipt.get("quantity")),
    }


def _commercial_facts(chain: Chain) -> dict[str, Any]:
    rec = chain["reconciliation"]
    return {
        "shipments": tuple(
            sorted(
                (s["delivery_id"], s["customer_id"], Decimal(str(s["quantity"])))
                for s in chain["shipments"]
            )
        ),
        "complaints": tuple(
            sorted(
                (c["complaint_id"], c["customer_id"], c["trace_code"], c["severity"])
                for c in chain["complaints"]
            )
        ),
        "reconciliation": (
            rec["status"],
            _dec(rec["mes_quantity"]),
            _dec(rec["wms_quantity"]),
            _dec(rec["erp_quantity"]),
            tuple(rec["missing"]),
        ),
    }


def expected_facts(expected: ExpectedChain) -> dict[str, Any]:
    """The same facts from the oracle, in the same shape as :func:`observed`."""
    rec = expected.reconciliation
    facts = {key: getattr(expected, key) for key in observed_keys()}
    facts["out_of_limit"] = tuple(sorted((e, p, float(v)) for e, p, v in expected.out_of_limit))
    facts["reconciliation"] = (
        rec.status,
        rec.mes_quantity,
        rec.wms_quantity,
        rec.erp_quantity,
        tuple(rec.missing),
    )
    return facts


def observed_keys() -> tuple[str, ...]:
    return (
        "order_id",
        "line_id",
        "shift",
        "team",
        "operators",
        "equipment",
        "trace_codes",
        "produced_quantity",
        "scrapped_quantity",
        "supplier_id",
        "supplier_lot",
        "parents",
        "out_of_limit",
        "inspections",
        "own_active_holds",
        "inherited_active_holds",
        "wms_received_quantity",
        "wms_issued_quantity",
        "stock_by_location",
        "last_counts",
        "erp_received_quantity",
        "shipments",
        "complaints",
    )


def differences(expected: ExpectedChain, chain: Chain | None) -> list[str]:
    """What ``chain`` gets wrong about ``expected.code``; empty when it matches the oracle."""
    if chain is None:
        return [f"{expected.code}: no chain"]
    want, got = expected_facts(expected), observed(chain)
    return [
        f"{expected.code}.{key}: expected {want[key]!r}, got {got[key]!r}"
        for key in want
        if want[key] != got[key]
    ]


def mismatches(oracle: Oracle, chains: Mapping[str, Chain]) -> dict[str, list[str]]:
    """Every oracle code whose chain differs, with the differences."""
    out = {}
    for code, expected in oracle.chains.items():
        diff = differences(expected, chains.get(code))
        if diff:
            out[code] = diff
    return out
