"""The statements of the trace queries, built once with bound parameters (SQLAlchemy Core).

Building a Core statement costs more Python than running it on an indexed store, so each one is
made on first use (per dialect) and reused: every call only binds its codes. All of them run on
SQLite and PostgreSQL and use an index. A list of codes is one array parameter on PostgreSQL
(``= ANY(%(codes)s)``), so a statement's SQL text is the same whatever the number of codes and
psycopg prepares it on the server once per connection (:mod:`sinks.store.readonly`): no planning
of the big ``UNION ALL`` per request. SQLite gets an expanding ``IN``:

- :func:`resolve_statement`: what a code is, every kind looked up in one ``UNION ALL`` (one round
  trip; each branch on its index, at most 1000 batches per kind) with the kind's rank;
- :func:`owned_rows`: the rows of one table for a list of batch codes (``codes``);
- :func:`children_statement`: the child rows a trace shows (trace codes, out-of-limit
  parameters, inspections, holds, shipments, complaints) of ``codes`` in one ``UNION ALL``: each
  table's columns have slots of their own (typed NULL in the other tables' rows), ``tag`` says
  which table a row is from, and the rows come in each table's display order;
- :func:`lot_facts_statement`: what a trace shows of each upstream lot, supplier and supplier lot
  included (columns of their own since r0004), from ``ix_batches_lot_facts`` alone;
- :func:`walk_statement`: the genealogy walks up or down from ``starts`` at once (a recursive
  CTE bounded by ``max_depth``, each row tagged with its ``root``), joined with what the store
  knows of each lot met (``ix_batches_lot_facts``, an index-only lookup on PostgreSQL).
"""

from __future__ import annotations

import functools
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    CompoundSelect,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    cast,
    literal,
    literal_column,
    null,
    select,
    union_all,
)

from sinks.store import schema as s

RESOLVE_LIMIT = 1000
KINDS = ("batch", "trace_code", "delivery", "complaint", "lot")
"""What a code may be, in the order a match counts: a batch code first, a lot last."""

_ORDER = {
    "trace_codes": ("trace_code",),
    "parameters_out_of_limit": ("seq",),
    "inspections": ("seq",),
    "holds": ("origin_code", "hold_id"),
    "shipments": ("seq",),
    "complaints": ("seq",),
    "stock": ("batch_code", "location"),
    "batches": (),
}


def among(column: ColumnElement[Any], name: str, dialect: str) -> ColumnElement[bool]:
    """``column`` is one of the bound list ``name``: ``= ANY(array)`` on PostgreSQL (one SQL text
    for any number of codes), an expanding ``IN`` elsewhere."""
    if dialect == "postgresql":
        return column == any_(bindparam(name, type_=ARRAY(String)))
    return column.in_(bindparam(name, expanding=True))


@functools.cache
def resolve_statement() -> CompoundSelect[Any]:
    """Rows ``(code, rank)``: the batches the bound ``code`` stands for, per kind (its rank in
    :data:`KINDS`)."""
    code = bindparam("code", type_=String)
    lookups: list[Select[Any]] = [
        select(s.batches.c.batch_code).where(s.batches.c.batch_code == code),
        select(s.trace_codes.c.batch_code).where(s.trace_codes.c.trace_code == code),
        select(s.shipments.c.batch_code).where(s.shipments.c.delivery_id == code),
        select(s.complaints.c.batch_code).where(s.complaints.c.complaint_id == code),
        select(s.genealogy_edges.c.parent_lot).where(s.genealogy_edges.c.parent_lot == code),
    ]
    branches = []
    for rank, query in enumerate(lookups):
        found = query.add_columns(literal(rank, Integer).label("rank"))
        limited = found.limit(RESOLVE_LIMIT).subquery()
        branches.append(select(limited.c[0].label("code"), limited.c.rank))
    return union_all(*branches)


@functools.cache
def owned_rows(table_name: str, dialect: str) -> Select[Any]:
    """Every row of ``table_name`` owned by the bound list ``codes``, in its display order."""
    table = s.metadata.tables[table_name]
    query = select(table).where(among(table.c.batch_code, "codes", dialect))
    return query.order_by(*(table.c[o] for o in _ORDER[table_name]))


DETAIL_TABLES = (
    "trace_codes",
    "parameters_out_of_limit",
    "inspections",
    "holds",
    "shipments",
    "complaints",
)
"""The child tables a trace shows, in the order of ``tag`` in :func:`children_statement`."""


def slot(table_name: str, column: str) -> str:
    """The label of a child table's column in :func:`children_statement`."""
    return f"{table_name}__{column}"


LOT_TABLES = ("inspections", "holds")
"""The child tables a trace shows of each upstream lot (its quality records and holds)."""


def _slots(tables: tuple[str, ...]) -> list[tuple[str, Any]]:
    return [
        (name, column)
        for name in tables
        for column in s.metadata.tables[name].columns
        if column.name != "batch_code"
    ]


@functools.cache
def children_statement(
    dialect: str, tables: tuple[str, ...] = DETAIL_TABLES
) -> CompoundSelect[Any]:
    """Rows ``(tag, owner, <slot>...)`` of each of ``tables`` for the bound list ``codes``;
    ``tag`` is the table's index in ``tables``."""
    slots = _slots(tables)
    branches = []
    for tag, name in enumerate(tables):
        table = s.metadata.tables[name]
        columns = [literal(tag, Integer).label("tag"), table.c.batch_code.label("owner")]
        for other, column in slots:
            value = table.c[column.name] if other == name else cast(null(), column.type)
            columns.append(value.label(slot(other, column.name)))
        branches.append(select(*columns).where(among(table.c.batch_code, "codes", dialect)))
    order = ["tag"] + [slot(name, o) for name in tables for o in _ORDER[name]]
    return union_all(*branches).order_by(*(literal_column(label) for label in order))


@functools.cache
def lot_facts_statement(dialect: str) -> Select[Any]:
    """What a trace shows of each upstream lot in the bound list ``codes``: its product or
    material, hold state, reconciliation status and, from its ERP material receipt, the supplier
    and the supplier's own lot number (the columns of ``ix_batches_lot_facts``)."""
    b = s.batches
    return (
        select(*(b.c[name] for name in s.LOT_FACT_COLUMNS))
        .where(among(b.c.batch_code, "codes", dialect))
        .order_by(b.c.batch_code)
    )


@functools.cache
def shipments_of(dialect: str) -> Select[Any]:
    """The shipments of the bound list ``codes``, by delivery."""
    table = s.shipments
    query = select(table).where(among(table.c.batch_code, "codes", dialect))
    return query.order_by(table.c.delivery_id)


@functools.cache
def walk_statement(upstream: bool, dialect: str) -> Select[Any]:
    """Every edge reachable from each of the bound ``starts`` (its ``root``) with its level
    (below ``max_depth``), with ``product_code``, ``lot_material``, ``on_hold`` and
    ``stored_code`` of the lot it reaches; the walks of several roots never mix."""
    edges = s.genealogy_edges
    near, far = (
        (edges.c.child_code, edges.c.parent_lot)
        if upstream
        else (edges.c.parent_lot, edges.c.child_code)
    )
    base = select(
        near.label("root"),
        far.label("code"),
        near.label("via"),
        edges.c.material_code,
        edges.c.quantity,
        edges.c.uom,
        literal(1, Integer).label("level"),
    ).where(among(near, "starts", dialect))
    walk = base.cte("walk", recursive=True)
    step_edges = edges.alias("step")
    step_near, step_far = (
        (step_edges.c.child_code, step_edges.c.parent_lot)
        if upstream
        else (step_edges.c.parent_lot, step_edges.c.child_code)
    )
    step = (
        select(
            walk.c.root,
            step_far,
            step_near,
            step_edges.c.material_code,
            step_edges.c.quantity,
            step_edges.c.uom,
            walk.c.level + 1,
        )
        .join(walk, step_near == walk.c.code)
        .where(walk.c.level < bindparam("max_depth", type_=Integer))
    )
    walk = walk.union(step)
    lot = s.batches
    return (
        select(
            walk,
            lot.c.product_code,
            lot.c.material_code.label("lot_material"),
            lot.c.on_hold,
            lot.c.batch_code.label("stored_code"),
        )
        .select_from(walk.outerjoin(lot, lot.c.batch_code == walk.c.code))
        .order_by(walk.c.root, walk.c.level, walk.c.code, walk.c.via)
    )
