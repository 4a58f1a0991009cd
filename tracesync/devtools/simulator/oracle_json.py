"""Expected chains as JSON and back: Decimals as strings, tuples as lists (:meth:`Oracle.save`)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from tracesync.devtools.simulator.expected import ExpectedChain, Reconciliation


def _dec(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _undec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


def chain_to_json(chain: ExpectedChain) -> dict[str, Any]:
    out = asdict(chain)
    for name in (
        "produced_quantity",
        "scrapped_quantity",
        "wms_received_quantity",
        "wms_issued_quantity",
        "erp_received_quantity",
    ):
        out[name] = _dec(out[name])
    for name in ("stock_by_location", "last_counts"):
        out[name] = [[loc, str(q)] for loc, q in out[name]]
    out["shipments"] = [[d, c, str(q)] for d, c, q in chain.shipments]
    rec = chain.reconciliation
    out["reconciliation"] = {
        "status": rec.status,
        "mes_quantity": _dec(rec.mes_quantity),
        "wms_quantity": _dec(rec.wms_quantity),
        "erp_quantity": _dec(rec.erp_quantity),
        "missing": list(rec.missing),
    }
    return out


def chain_from_json(obj: dict[str, Any]) -> ExpectedChain:
    rec = obj["reconciliation"]
    fields = dict(obj)
    for name in (
        "produced_quantity",
        "scrapped_quantity",
        "wms_received_quantity",
        "erp_received_quantity",
    ):
        fields[name] = _undec(obj[name])
    fields["wms_issued_quantity"] = Decimal(obj["wms_issued_quantity"])
    for name in ("operators", "equipment", "trace_codes", "parents", "own_active_holds"):
        fields[name] = tuple(obj[name])
    for name in ("out_of_limit", "inspections", "inherited_active_holds", "complaints"):
        fields[name] = tuple(tuple(item) for item in obj[name])
    for name in ("stock_by_location", "last_counts"):
        fields[name] = tuple((loc, Decimal(q)) for loc, q in obj[name])
    fields["shipments"] = tuple((d, c, Decimal(q)) for d, c, q in obj["shipments"])
    fields["reconciliation"] = Reconciliation(
        status=rec["status"],
        mes_quantity=_undec(rec["mes_quantity"]),
        wms_quantity=_undec(rec["wms_quantity"]),
        erp_quantity=_undec(rec["erp_quantity"]),
        missing=tuple(rec["missing"]),
    )
    return ExpectedChain(**fields)
