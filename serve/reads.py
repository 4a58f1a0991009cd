"""The store reads behind the API's lists and pages: reconciliation, holds, alerts, stock.

Lists are paged (``limit``/``offset``) in a stable order, and return the total count beside the
page so that a client knows how far to go. Times are given in the plant's zone with their offset.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, tzinfo
from typing import Any

from sqlalchemy import Connection, Select, func, select

from sinks.exports.resolve import UnknownCodeError, store_code
from sinks.store import schema as s
from sinks.store.queries import BatchTrace, RecallReport, TraceReport, recall, trace
from sinks.store.rows import jsonable
from tracesync.gs1.identifiers import MasterData
from tracesync.plant_time import zoned


@dataclass(frozen=True)
class Page:
    """Paging of a list request."""

    limit: int
    offset: int


def _paged(
    conn: Connection,
    query: Select[Any],
    page: Page,
    zone: tzinfo = UTC,
    derive: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> dict[str, Any]:
    """One page of ``query``'s rows (``derive`` adds derived facts), times in ``zone``."""
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.limit(page.limit).offset(page.offset)).mappings()
    items = [
        jsonable(zoned(derive({k: v for k, v in row.items() if k != "seq"}), zone)) for row in rows
    ]
    return {"total": int(total), "limit": page.limit, "offset": page.offset, "items": items}


def with_deltas(row: dict[str, Any]) -> dict[str, Any]:
    """A reconciliation row with WMS and ERP minus MES (none when either side is missing)."""
    mes = row.get("mes_quantity")
    for system in ("wms", "erp"):
        quantity = row.get(f"{system}_quantity")
        row[f"{system}_delta"] = None if mes is None or quantity is None else quantity - mes
    return row


def reconciliation(
    conn: Connection, status: str | None, page: Page, zone: tzinfo = UTC
) -> dict[str, Any]:
    """Batches with their reconciliation verdict, each system's quantity and the deltas to
    MES, optionally only one status; ``counts``: batches per status in the whole store."""
    b = s.batches
    query = select(
        b.c.batch_code,
        b.c.product_code,
        b.c.material_code,
        b.c.reconciliation_status,
        b.c.on_hold,
        b.c.mes_quantity,
        b.c.wms_quantity,
        b.c.erp_quantity,
        b.c.uom,
    ).order_by(b.c.batch_code)
    if status:
        query = query.where(b.c.reconciliation_status == status.upper())
    counted = select(b.c.reconciliation_status, func.count()).group_by(b.c.reconciliation_status)
    counts = {str(k): int(n) for k, n in conn.execute(counted)}
    return _paged(conn, query, page, zone, with_deltas) | {"counts": dict(sorted(counts.items()))}


def holds(conn: Connection, active: bool | None, page: Page, zone: tzinfo = UTC) -> dict[str, Any]:
    """Holds on batches (own and inherited, with their origin)."""
    h = s.holds
    query = select(h).order_by(h.c.batch_code, h.c.origin_code, h.c.hold_id)
    if active is not None:
        query = query.where(h.c.active == active)
    return _paged(conn, query, page, zone)


def alerts(conn: Connection, batch: str | None, page: Page, zone: tzinfo = UTC) -> dict[str, Any]:
    """Alerts the worker raised, newest first."""
    a = s.alerts
    query = select(a).order_by(a.c.occurred_at.desc(), a.c.alert_id)
    if batch:
        query = query.where(a.c.batch_code == batch)
    return _paged(conn, query, page, zone)


def stock_of(conn: Connection, batch: str) -> list[dict[str, Any]]:
    """Where a batch's stock is now."""
    query = select(s.stock).where(s.stock.c.batch_code == batch).order_by(s.stock.c.location)
    return [jsonable(dict(row)) for row in conn.execute(query).mappings()]


def batch_trace(conn: Connection, code: str) -> BatchTrace:
    """The full chain of one stored batch or lot; raises :class:`UnknownCodeError`.

    A code that is no stored batch yields no trace of its own batch (the trace resolves it first):
    no lookup of its own before the trace."""
    report = trace(conn, code)
    one = next((t for t in (report.traces if report else ()) if t.batch.batch_code == code), None)
    if one is None:
        raise UnknownCodeError(f"batch {code!r} is not in the trace store")
    return one


def trace_any(conn: Connection, asked: str, master: MasterData | None) -> TraceReport:
    """Backward trace from any code (GS1 codes included); raises :class:`UnknownCodeError`."""
    code = store_code(conn, asked, master)
    report = trace(conn, code)
    if report is None:
        raise UnknownCodeError(
            f"{asked!r} is not a batch, lot, trace code, GS1 code, delivery or complaint"
        )
    return report


def recall_lot(conn: Connection, lot: str) -> RecallReport:
    """Forward trace from a lot; raises :class:`UnknownCodeError`."""
    report = recall(conn, lot)
    if not report.found:
        raise UnknownCodeError(f"lot {lot!r} is not in the trace store")
    return report
