"""The JSON query API (``/v1``): batches, traces, recalls, reconciliation, holds and alerts.

Answers are the same dicts as ``tracesync trace --json`` / ``recall --json``
(:func:`sinks.store.report.report_dict`), times in the plant's zone with their offset. An unknown
code is 404 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query

from serve import reads
from serve.auth import requires
from serve.deps import Conn, Master, Paging, Zone
from sinks.exports.resolve import UnknownCodeError
from sinks.store.report import report_dict

router = APIRouter(prefix="/v1", dependencies=[Depends(requires("read"))])


def _not_found(exc: UnknownCodeError) -> HTTPException:
    return HTTPException(404, str(exc))


@router.get("/batches/{code}")
def get_batch(code: str, conn: Conn, zone: Zone) -> Any:
    """One batch's full chain: production, parameters, quality, holds, stock, shipments,
    upstream genealogy."""
    try:
        one = reads.batch_trace(conn, code)
    except UnknownCodeError as exc:
        raise _not_found(exc) from exc
    answer = report_dict(one, zone)
    answer["stock"] = reads.stock_of(conn, code)
    return answer


@router.get("/trace/{code:path}")
def get_trace(code: str, conn: Conn, master: Master, zone: Zone) -> Any:
    """Backward trace from a batch, lot, trace code, GS1 Digital Link, delivery or complaint."""
    try:
        return report_dict(reads.trace_any(conn, code, master), zone)
    except UnknownCodeError as exc:
        raise _not_found(exc) from exc


@router.get("/recall/{lot}")
def get_recall(lot: str, conn: Conn, zone: Zone) -> Any:
    """Forward trace from a lot: downstream batches, stock, deliveries and customers."""
    try:
        return report_dict(reads.recall_lot(conn, lot), zone)
    except UnknownCodeError as exc:
        raise _not_found(exc) from exc


@router.get("/reconciliation")
def get_reconciliation(conn: Conn, paging: Paging, zone: Zone, status: str | None = None) -> Any:
    """Batches with their reconciliation verdict, the MES, WMS and ERP quantities and the deltas
    to MES (``?status=MISMATCH`` for one status)."""
    return reads.reconciliation(conn, status, paging, zone)


@router.get("/holds")
def get_holds(
    conn: Conn, paging: Paging, zone: Zone, active: Annotated[bool | None, Query()] = None
) -> Any:
    """Holds, own and inherited, with their origin."""
    return reads.holds(conn, active, paging, zone)


@router.get("/alerts")
def get_alerts(conn: Conn, paging: Paging, zone: Zone, batch: str | None = None) -> Any:
    """Alerts raised by the stream worker, newest first."""
    return reads.alerts(conn, batch, paging, zone)
