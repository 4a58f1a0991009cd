"""Trace queries on the trace store: SQLAlchemy Core, recursive CTEs for SQLite and PostgreSQL.

- :func:`resolve` finds what a code is: a batch or lot, a trace code, a delivery or a complaint,
  and the batches it stands for.
- :func:`trace` (backward): the full chain of those batches — production facts, equipment,
  out-of-limit parameters, inspections, holds, shipments — and every upstream lot down to the raw
  materials, each with its level.
- :func:`recall` (forward): every batch made from a lot at any depth, where their stock is now,
  and every delivery and customer they reached.

The genealogy walk stops at ``max_depth`` levels, which also bounds a walk through a cycle.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, Integer, Row, Select, literal, select

from sinks.store import schema as s

DEFAULT_MAX_DEPTH = 64
_IN_CHUNK = 500


@dataclass(frozen=True)
class Resolved:
    """What a code is (``batch``, ``lot``, ``trace_code``, ``delivery``, ``complaint``) and the
    batches it stands for."""

    code: str
    kind: str
    batch_codes: tuple[str, ...]


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
    """A batch and its whole upstream genealogy."""

    batch: BatchDetail
    upstream: tuple[Link, ...]
    raw_materials: tuple[str, ...]
    depth_limited: bool


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


def _rows_for(conn: Connection, query: Select[Any], key: Any, codes: Sequence[str]) -> list[Any]:
    rows: list[Any] = []
    for chunk in _chunks(codes):
        rows.extend(conn.execute(query.where(key.in_(chunk))).mappings())
    return rows


def _first_codes(conn: Connection, query: Select[Any]) -> tuple[str, ...]:
    return tuple(sorted({str(code) for code in conn.execute(query).scalars()}))


def resolve(conn: Connection, code: str) -> Resolved | None:
    """What ``code`` is; ``None`` when the store does not know it."""
    lookups: list[tuple[str, Select[Any]]] = [
        ("batch", select(s.batches.c.batch_code).where(s.batches.c.batch_code == code)),
        (
            "trace_code",
            select(s.trace_codes.c.batch_code).where(s.trace_codes.c.trace_code == code),
        ),
        ("delivery", select(s.shipments.c.batch_code).where(s.shipments.c.delivery_id == code)),
        ("complaint", select(s.complaints.c.batch_code).where(s.complaints.c.complaint_id == code)),
        (
            "lot",
            select(s.genealogy_edges.c.parent_lot).where(s.genealogy_edges.c.parent_lot == code),
        ),
    ]
    for kind, query in lookups:
        codes = _first_codes(conn, query.limit(1000))
        if codes:
            return Resolved(code, kind, codes)
    return None


def _details(conn: Connection, codes: Sequence[str]) -> dict[str, BatchDetail]:
    """Batch details of the stored ``codes``."""
    if not codes:
        return {}
    codes = list(codes)
    children: dict[str, dict[str, list[dict[str, Any]]]] = {c: {} for c in codes}
    child_tables = (
        (s.trace_codes, ("trace_code",)),
        (s.parameters_out_of_limit, ("seq",)),
        (s.inspections, ("seq",)),
        (s.holds, ("origin_code", "hold_id")),
        (s.shipments, ("seq",)),
        (s.complaints, ("seq",)),
    )
    for table, order in child_tables:
        query = select(table).order_by(*(table.c[o] for o in order))
        for row in _rows_for(conn, query, table.c.batch_code, codes):
            item = {k: v for k, v in row.items() if k not in ("batch_code", "seq")}
            children[row["batch_code"]].setdefault(table.name, []).append(item)
    details: dict[str, BatchDetail] = {}
    for row in _rows_for(conn, select(s.batches), s.batches.c.batch_code, codes):
        production = (row["chain"] or {}).get("production", {})
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
            parameters_out_of_limit=tuple(own.get("parameters_out_of_limit", ())),
            inspections=tuple(own.get("inspections", ())),
            holds=tuple(own.get("holds", ())),
            shipments=tuple(own.get("shipments", ())),
            complaints=tuple(own.get("complaints", ())),
        )
    return details


def _walk(conn: Connection, start: str, *, upstream: bool, max_depth: int) -> list[Row[Any]]:
    """Every edge reachable from ``start`` (towards the parents or the children) with its level."""
    edges = s.genealogy_edges
    near, far = (
        (edges.c.child_code, edges.c.parent_lot)
        if upstream
        else (edges.c.parent_lot, edges.c.child_code)
    )
    base = select(
        far.label("code"),
        near.label("via"),
        edges.c.material_code,
        edges.c.quantity,
        edges.c.uom,
        literal(1, Integer).label("level"),
    ).where(near == start)
    walk = base.cte("walk", recursive=True)
    step_edges = edges.alias("step")
    step_near, step_far = (
        (step_edges.c.child_code, step_edges.c.parent_lot)
        if upstream
        else (step_edges.c.parent_lot, step_edges.c.child_code)
    )
    step = (
        select(
            step_far,
            step_near,
            step_edges.c.material_code,
            step_edges.c.quantity,
            step_edges.c.uom,
            walk.c.level + 1,
        )
        .join(walk, step_near == walk.c.code)
        .where(walk.c.level < max_depth)
    )
    walk = walk.union(step)
    query = select(walk).order_by(walk.c.level, walk.c.code, walk.c.via)
    return list(conn.execute(query))


def _links(conn: Connection, rows: list[Row[Any]]) -> tuple[Link, ...]:
    """Each (code, via) pair at its lowest level, with what the store knows of the lot."""
    lowest: dict[tuple[str, str], Row[Any]] = {}
    for row in rows:
        key = (row.code, row.via)
        if key not in lowest or row.level < lowest[key].level:
            lowest[key] = row
    codes = sorted({row.code for row in lowest.values()})
    known_query = select(
        s.batches.c.batch_code,
        s.batches.c.product_code,
        s.batches.c.material_code,
        s.batches.c.on_hold,
    )
    known = {
        r["batch_code"]: r for r in _rows_for(conn, known_query, s.batches.c.batch_code, codes)
    }
    links = []
    for row in sorted(lowest.values(), key=lambda r: (r.level, r.code, r.via)):
        lot = known.get(row.code)
        links.append(
            Link(
                code=row.code,
                level=row.level,
                via=row.via,
                material_code=row.material_code,
                quantity=row.quantity,
                uom=row.uom,
                product_code=lot["product_code"] if lot else None,
                lot_material=lot["material_code"] if lot else None,
                on_hold=bool(lot["on_hold"]) if lot else False,
                stored=lot is not None,
            )
        )
    return tuple(links)


def _batch_trace(
    conn: Connection, detail: BatchDetail | None, code: str, max_depth: int
) -> BatchTrace | None:
    if detail is None:
        return None
    rows = _walk(conn, code, upstream=True, max_depth=max_depth)
    links = _links(conn, rows)
    parents = {link.via for link in links}
    raw = tuple(sorted({link.code for link in links if link.code not in parents}))
    limited = any(row.level >= max_depth for row in rows)
    return BatchTrace(detail, links, raw, limited)


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
        traces = []
        for batch_code in resolved.batch_codes:
            one = _batch_trace(conn, details.get(batch_code), batch_code, max_depth)
            if one is not None:
                traces.append(one)
    elapsed = (time.perf_counter() - started) * 1000
    return TraceReport(resolved, tuple(traces), elapsed)


def recall(
    engine: Engine | Connection, lot: str, max_depth: int = DEFAULT_MAX_DEPTH
) -> RecallReport:
    """Forward trace from ``lot``: downstream batches, their stock, deliveries and customers."""
    started = time.perf_counter()
    with _connection(engine) as conn:
        rows = _walk(conn, lot, upstream=False, max_depth=max_depth)
        downstream = _links(conn, rows)
        affected = sorted({lot} | {link.code for link in downstream})
        stock_query = select(s.stock).order_by(s.stock.c.batch_code, s.stock.c.location)
        stock = _rows_for(conn, stock_query, s.stock.c.batch_code, affected)
        ship_query = select(s.shipments).order_by(s.shipments.c.delivery_id)
        shipments = _rows_for(conn, ship_query, s.shipments.c.batch_code, affected)
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
