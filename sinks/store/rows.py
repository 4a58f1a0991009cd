"""Turn a decoded ``TraceChain`` record into the rows of the trace store (pure, no I/O).

:func:`chain_rows` gives the ``batches`` row and the rows of every child table; :func:`alert_row`
the ``alerts`` row. :func:`latest_per_batch` keeps only the highest version of each batch among
the records of one write, so a batch is written at most once per transaction. The whole chain goes
into the ``chain`` column as JSON text (:func:`chain_json`: decimals as strings, times as ISO-8601),
serialized here once so the writers can pass it to the database as it is.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import orjson

Row = dict[str, Any]
Record = Mapping[str, Any]


@dataclass(frozen=True)
class ChainRows:
    """The store's rows for one chain: the batch row and child rows by table name."""

    batch_code: str
    version: int
    batch: Row
    children: dict[str, list[Row]] = field(default_factory=dict)


def jsonable(value: Any) -> Any:
    """``value`` with decimals as strings and times as ISO-8601 text, ready for a JSON column."""
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"not JSON serializable: {type(value).__name__}")


def chain_json(record: Record) -> str:
    """``record`` as JSON text, the same data as ``json.dumps(jsonable(record))``."""
    return orjson.dumps(record, default=_json_default).decode()


def _own(code: str, items: Iterable[Record], **extra: Any) -> list[Row]:
    return [{"batch_code": code, "seq": n, **item, **extra} for n, item in enumerate(items)]


def _batch_row(record: Record, stored_at: datetime) -> Row:
    production = record["production"]
    rec = record["reconciliation"]
    receipt = record.get("material_receipt")
    return {
        "batch_code": record["batch_code"],
        "version": record["version"],
        "plant": record["plant"],
        "order_id": production["order_id"],
        "product_code": production["product_code"],
        "product_name": production["product_name"],
        "material_code": receipt["material_code"] if receipt else None,
        "line_id": production["line_id"],
        "shift": production["shift"],
        "team": production["team"],
        "produced_quantity": production["produced_quantity"],
        "uom": production["uom"] or (receipt["uom"] if receipt else None),
        "on_hold": any(h["active"] for h in record["holds"]),
        "reconciliation_status": rec["status"],
        "mes_quantity": rec["mes_quantity"],
        "wms_quantity": rec["wms_quantity"],
        "erp_quantity": rec["erp_quantity"],
        "event_count": record["event_count"],
        "started_at": production["started_at"],
        "completed_at": production["completed_at"],
        "first_event_at": record["first_event_at"],
        "last_event_at": record["last_event_at"],
        "stored_at": stored_at,
        "chain": chain_json(record),
        "supplier_id": receipt.get("supplier_id") if receipt else None,
        "supplier_lot": receipt.get("supplier_lot") if receipt else None,
    }


def _edges(code: str, record: Record) -> list[Row]:
    return [
        {
            "child_code": code,
            "seq": n,
            "consumption_id": c["consumption_id"],
            "parent_lot": c["parent_lot"],
            "material_code": c["material_code"],
            "quantity": c["quantity"],
            "uom": c["uom"],
        }
        for n, c in enumerate(record["consumptions"])
    ]


def _parameters(code: str, record: Record) -> list[Row]:
    keep = ("equipment_id", "parameter", "recorded_at", "value", "unit")
    limits = ("lower_limit", "upper_limit")
    out = [p for p in record["parameters"] if p["out_of_limit"]]
    return _own(code, ({k: p[k] for k in (*keep, *limits)} for p in out))


def _inspections(code: str, record: Record) -> list[Row]:
    return _own(
        code,
        (
            {k: v for k, v in i.items() if k != "failed_characteristics"}
            | {"failed_characteristics": ",".join(i["failed_characteristics"])}
            for i in record["inspections"]
        ),
    )


def _holds(code: str, record: Record) -> list[Row]:
    unique = {(h["origin_code"], h["hold_id"]): h for h in record["holds"]}
    return [{"batch_code": code, **h} for h in unique.values()]


def _stock(code: str, record: Record) -> list[Row]:
    totals: dict[str, Decimal] = {}
    for item in record["warehouse"]["stock"]:
        totals[item["location"]] = totals.get(item["location"], Decimal(0)) + item["quantity"]
    return [{"batch_code": code, "location": loc, "quantity": q} for loc, q in totals.items()]


def chain_rows(record: Record, stored_at: datetime | None = None) -> ChainRows:
    """All rows the store keeps for one ``TraceChain`` record."""
    code = str(record["batch_code"])
    stored_at = stored_at or datetime.now(UTC)
    codes = sorted(set(record["production"]["trace_codes"]))
    children = {
        "genealogy_edges": _edges(code, record),
        "trace_codes": [{"trace_code": t, "batch_code": code} for t in codes],
        "shipments": _own(code, record["shipments"]),
        "holds": _holds(code, record),
        "parameters_out_of_limit": _parameters(code, record),
        "inspections": _inspections(code, record),
        "complaints": _own(code, record["complaints"]),
        "stock": _stock(code, record),
    }
    return ChainRows(code, int(record["version"]), _batch_row(record, stored_at), children)


def alert_row(record: Record, stored_at: datetime | None = None) -> Row:
    """The ``alerts`` row of a decoded ``Alert`` record."""
    return {
        "alert_id": str(record["alert_id"]),
        "batch_code": record["batch_code"],
        "kind": record["kind"],
        "subject": record["subject"],
        "message": record["message"],
        "origin_code": record["origin_code"],
        "occurred_at": record["occurred_at"],
        "stored_at": stored_at or datetime.now(UTC),
    }


def latest_per_batch(chains: Iterable[ChainRows]) -> list[ChainRows]:
    """One entry per batch code: the highest version (the first seen among equal versions)."""
    best: dict[str, ChainRows] = {}
    for rows in chains:
        current = best.get(rows.batch_code)
        if current is None or rows.version > current.version:
            best[rows.batch_code] = rows
    return list(best.values())
