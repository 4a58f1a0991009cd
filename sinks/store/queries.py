"""Trace queries on the trace store: SQLAlchemy Core, recursive CTEs for SQLite and PostgreSQL.

- :func:`resolve` finds what a code is: a batch or lot, a trace code, a delivery or a complaint,
  and the batches it stands for.
- :func:`trace` (backward): the full chain of those batches — production facts, equipment,
  out-of-limit parameters, inspections, holds, shipments — and every upstream lot down to the raw
  materials, each with its level.
- :func:`recall` (forward): every batch made from a lot at any depth, where their stock is now,
  and every delivery and customer they reached.

The genealogy walk stops at ``max_depth`` levels, which also bounds a walk through a cycle. The
statements themselves are built once, in :mod:`sinks.store.trace_sql`.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import CompoundSelect, Connection, Engine, Row, Select

from sinks.store import schema as s
from sinks.store import trace_sql as sql
from sinks.store.lot_facts import LotFacts, aware_item, lot_facts
from tracesync.plant_time import as_utc

DEFAULT_MAX_DEPTH = 64
_IN_CHUNK = 500
# per detail table: (slot label, column name) of what a trace shows of its rows
_SHOWN = tuple(
    tuple(
        (sql.slot(name, c.name), c.name)
        for c in s.metadata.tables[name].columns
        if c.name not in ("batch_code", "seq")
    )
    for name in sql.DETAIL_TABLES
)


@dataclass(frozen=True)
class Resolved:
    """What a code is (``batch``, ``lot``, ``trace_code``, ``delivery``, ``complaint``) and the
    batches it stands for."""

    code: str
    kind: str
    batch_codes: tuple[str, ...]


@dataclass(frozen=True)
class Reconciliation:
    """The cross-system verdict with each system's quantity and the deltas to MES."""

    status: str
    mes_quantity: Decimal | None
    wms_quantity: Decimal | None
    erp_quantity: Decimal | None
    wms_delta: Decimal | None
    erp_delta: Decimal | None
    missing: tuple[str, ...]


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def reconciliation_of(chain: Mapping[str, Any], status: str) -> Reconciliation:
    """The verdict kept in the stored chain (quantities as the worker compared them)."""
    rec = chain.get("reconciliation") or {}
    return Reconciliation(
        status=str(rec.get("status") or status),
        mes_quantity=_decimal(rec.get("mes_quantity")),
        wms_quantity=_decimal(rec.get("wms_quantity")),
        erp_quantity=_decimal(rec.get("erp_quantity")),
        wms_delta=_decimal(rec.get("wms_delta")),
        erp_delta=_decimal(rec.get("erp_delta")),
        missing=tuple(rec.get("missing") or ()),
    )


@dataclass(frozen=True)
class BatchDetail:
    """One stored batch with what a trace shows about it."""

    batch_code: str
    version: int
    product_code: str | None
    product_name: str | None
    material_code: str | None
    order_id: str | None
    line_id: str | None
    shift: str | None
    team: str | None
    equipment: tuple[str, ...]
    operators: tuple[str, ...]
    produced_quantity: Decimal | None
    uom: str | None
    on_hold: bool
    reconciliation_status: str
    trace_codes: tuple[str, ...]
    started_at: datetime | None
    completed_at: datetime | None
    supplier_id: str | None
    supplier_lot: str | None
    reconciliation: Reconciliation
    parameters_out_of_limit: tuple[dict[str, Any], ...]
    inspections: tuple[dict[str, Any], ...]
    holds: tuple[dict[str, Any], ...]
    shipments: tuple[dict[str, Any], ...]
    complaints: tuple[dict[str, Any], ...]


@dataclass(frozen=True)
class Link:
    """One genealogy edge met on a walk: ``code`` at ``level``, linked to ``via`` (its child on a
    backward walk, its parent on a forward walk)."""

    code: str
    level: int
    via: str
    material_code: str
    quantity: Decimal
    uom: str
    product_code: str | None = None
    lot_material: str | None = None
    on_hold: bool = False
    stored: bool = False


@dataclass(frozen=True)
class BatchTrace:
    """A batch and its whole upstream genealogy, with the facts of every upstream lot."""

    batch: BatchDetail
    upstream: tuple[Link, ...]
    raw_materials: tuple[str, ...]
    depth_limited: bool
    upstream_lots: tuple[LotFacts, ...] = ()


@dataclass(frozen=True)
class TraceReport:
    """Answer of a backward trace."""

    query: Resolved
    traces: tuple[BatchTrace, ...]
    elapsed_ms: float = 0.0


@dataclass(frozen=True)
class RecallReport:
    """Answer of a forward trace (recall) from a lot."""

    lot: str
    lot_detail: BatchDetail | None
    downstream: tuple[Link, ...]
    stock: tuple[dict[str, Any], ...]
    shipments: tuple[dict[str, Any], ...]
    customers: tuple[str, ...]
    deliveries: tuple[str, ...]
    depth_limited: bool
    elapsed_ms: float = 0.0
    found: bool = field(default=True)


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def _rows_for(
    conn: Connection, query: Select[Any] | CompoundSelect[Any], codes: Sequence[str]
) -> list[Any]:
    """The rows of a statement with an expanding ``codes`` parameter, a chunk of codes at once."""
    rows: list[Any] = []
    for chunk in _chunks(codes):
        rows.extend(conn.execute(query, {"codes": list(chunk)}).mappings())
    return rows


def resolve(conn: Connection, code: str) -> Resolved | None:
    """What ``code`` is; ``None`` when the store does not know it.

    All kinds are looked up in one statement; the first kind in ``KINDS`` order that matches wins.
    """
    matches: dict[int, set[str]] = {}
    for found, rank in conn.execute(sql.resolve_statement(), {"code": code}):
        matches.setdefault(int(rank), set()).add(str(found))
    if not matches:
        return None
    first = min(matches)
    return Resolved(code, sql.KINDS[first], tuple(sorted(matches[first])))


def _details(conn: Connection, codes: Sequence[str]) -> dict[str, BatchDetail]:
    """Batch details of the stored ``codes``."""
    if not codes:
        return {}
    codes = list(codes)
    children: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c in codes}
    dialect = conn.dialect.name
    for row in _rows_for(conn, sql.children_statement(dialect), codes):
        tag = row["tag"]
        item = aware_item({name: row[label] for label, name in _SHOWN[tag]})
        children[row["owner"]].setdefault(sql.DETAIL_TABLES[tag], []).append(item)
    details: dict[str, BatchDetail] = {}
    for row in _rows_for(conn, sql.owned_rows("batches", dialect), codes):
        chain = row["chain"] or {}
        production = chain.get("production", {})
        own = children[row["batch_code"]]
        details[row["batch_code"]] = BatchDetail(
            batch_code=row["batch_code"],
            version=int(row["version"]),
            product_code=row["product_code"],
            product_name=row["product_name"],
            material_code=row["material_code"],
            order_id=row["order_id"],
            line_id=row["line_id"],
            shift=row["shift"],
            team=row["team"],
            equipment=tuple(production.get("equipment", ())),
            operators=tuple(production.get("operators", ())),
            produced_quantity=row["produced_quantity"],
            uom=row["uom"],
            on_hold=bool(row["on_hold"]),
            reconciliation_status=row["reconciliation_status"],
            trace_codes=tuple(t["trace_code"] for t in own.get("trace_codes", ())),
            started_at=_when(row["started_at"]),
            completed_at=_when(row["completed_at"]),
            supplier_id=row["supplier_id"],
            supplier_lot=row["supplier_lot"],
            reconciliation=reconciliation_of(chain, row["reconciliation_status"]),
            parameters_out_of_limit=tuple(own.get("parameters_out_of_limit", ())),
            inspections=tuple(own.get("inspections", ())),
            holds=tuple(own.get("holds", ())),
            shipments=tuple(own.get("shipments", ())),
            complaints=tuple(own.get("complaints", ())),
        )
    return details


def _when(value: datetime | None) -> datetime | None:
    return None if value is None else as_utc(value)


def _walks(
    conn: Connection, starts: Sequence[str], *, upstream: bool, max_depth: int
) -> dict[str, list[Row[Any]]]:
    """Per start code: every edge reachable from it (towards the parents or the children) with
    its level and what the store knows of the lot it reaches; all walks in one statement."""
    walks: dict[str, list[Row[Any]]] = {code: [] for code in starts}
    statement = sql.walk_statement(upstream, conn.dialect.name)
    for chunk in _chunks(starts):
        params = {"starts": list(chunk), "max_depth": max_depth}
        for row in conn.execute(statement, params):
            walks[row.root].append(row)
    return walks


def _links(rows: list[Row[Any]]) -> tuple[Link, ...]:
    """Each (code, via) pair at its lowest level, with what the store knows of the lot."""
    lowest: dict[tuple[str, str], Row[Any]] = {}
    for row in rows:
        key = (row.code, row.via)
        if key not in lowest or row.level < lowest[key].level:
            lowest[key] = row
    return tuple(
        Link(
            code=row.code,
            level=row.level,
            via=row.via,
            material_code=row.material_code,
            quantity=row.quantity,
            uom=row.uom,
            product_code=row.product_code,
            lot_material=row.lot_material,
            on_hold=bool(row.on_hold) if row.stored_code is not None else False,
            stored=row.stored_code is not None,
        )
        for row in sorted(lowest.values(), key=lambda r: (r.level, r.code, r.via))
    )


def _batch_trace(detail: BatchDetail, rows: list[Row[Any]], max_depth: int) -> BatchTrace:
    links = _links(rows)
    parents = {link.via for link in links}
    raw = tuple(sorted({link.code for link in links if link.code not in parents}))
    limited = any(row.level >= max_depth for row in rows)
    return BatchTrace(detail, links, raw, limited)


def _with_lot_facts(conn: Connection, traces: list[BatchTrace]) -> list[BatchTrace]:
    """Each trace with the supplier, inspections and holds of every stored upstream lot."""
    codes = sorted({link.code for t in traces for link in t.upstream if link.stored})
    facts = lot_facts(conn, codes)
    return [
        replace(
            t,
            # nearest lots first: the links come by level
            upstream_lots=tuple(
                facts[code]
                for code in dict.fromkeys(link.code for link in t.upstream)
                if code in facts
            ),
        )
        for t in traces
    ]


def trace(
    engine: Engine | Connection, code: str, max_depth: int = DEFAULT_MAX_DEPTH
) -> TraceReport | None:
    """Backward trace from a batch code, a trace code, a delivery id or a complaint id."""
    started = time.perf_counter()
    with _connection(engine) as conn:
        resolved = resolve(conn, code)
        if resolved is None:
            return None
        details = _details(conn, resolved.batch_codes)
        stored = [code for code in resolved.batch_codes if code in details]
        walks = _walks(conn, stored, upstream=True, max_depth=max_depth)
        traces = [_batch_trace(details[code], walks[code], max_depth) for code in stored]
        traces = _with_lot_facts(conn, traces)
    elapsed = (time.perf_counter() - started) * 1000
    return TraceReport(resolved, tuple(traces), elapsed)


def recall(
    engine: Engine | Connection, lot: str, max_depth: int = DEFAULT_MAX_DEPTH
) -> RecallReport:
    """Forward trace from ``lot``: downstream batches, their stock, deliveries and customers."""
    started = time.perf_counter()
    with _connection(engine) as conn:
        rows = _walks(conn, [lot], upstream=False, max_depth=max_depth)[lot]
        downstream = _links(rows)
        affected = sorted({lot} | {link.code for link in downstream})
        dialect = conn.dialect.name
        stock = _rows_for(conn, sql.owned_rows("stock", dialect), affected)
        shipments = _rows_for(conn, sql.shipments_of(dialect), affected)
        detail = _details(conn, [lot]).get(lot)
    elapsed = (time.perf_counter() - started) * 1000
    ship_items = tuple(
        sorted(
            ({k: v for k, v in r.items() if k != "seq"} for r in shipments),
            key=lambda r: (r["delivery_id"], r["batch_code"], r["customer_id"]),
        )
    )
    return RecallReport(
        lot=lot,
        lot_detail=detail,
        downstream=downstream,
        stock=tuple(dict(r) for r in sorted(stock, key=lambda r: (r["batch_code"], r["location"]))),
        shipments=ship_items,
        customers=tuple(sorted({r["customer_id"] for r in ship_items})),
        deliveries=tuple(sorted({r["delivery_id"] for r in ship_items})),
        depth_limited=any(row.level >= max_depth for row in rows),
        elapsed_ms=elapsed,
        found=detail is not None or bool(downstream),
    )


@contextlib.contextmanager
def _connection(source: Engine | Connection) -> Iterator[Connection]:
    """Use a given connection, or open one on an engine for the duration of a query."""
    if isinstance(source, Connection):
        yield source
        return
    with source.connect() as conn:
        yield conn
