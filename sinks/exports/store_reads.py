"""What the exports read from the trace store (SQLAlchemy Core, SQLite and PostgreSQL alike).

Read-only queries that :mod:`sinks.store.queries` does not have: stored chains by code, the codes
active in a time window, and the ordered row streams the FSMA 204 spreadsheet is built from
(batches, genealogy edges and shipments, each sorted by batch code so they merge in one pass).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import Connection, Select, and_, or_, select

from sinks.store import schema as s
from sinks.store.queries import DEFAULT_MAX_DEPTH, recall, resolve, trace

_IN_CHUNK = 500
_STREAM_ROWS = 5_000


@dataclass(frozen=True)
class StoredChain:
    """One batch as stored: its chain (JSON form: decimals as text, ISO times) and write time."""

    batch_code: str
    chain: dict[str, Any]
    stored_at: datetime


@dataclass(frozen=True)
class Window:
    """What an export covers: a date range (inclusive days, UTC), a product, a lot."""

    date_from: date | None = None
    date_to: date | None = None
    product: str | None = None
    lot: str | None = None

    @property
    def start(self) -> datetime | None:
        return datetime.combine(self.date_from, time.min, UTC) if self.date_from else None

    @property
    def end(self) -> datetime | None:
        return datetime.combine(self.date_to, time.max, UTC) if self.date_to else None

    def covers(self, moment: datetime | date | None) -> bool:
        """Whether a CTE at ``moment`` falls in the date range (undated events always do)."""
        if moment is None:
            return True
        day = _aware(moment).astimezone(UTC).date() if isinstance(moment, datetime) else moment
        after = self.date_from is None or day >= self.date_from
        return after and (self.date_to is None or day <= self.date_to)


def _chunks(codes: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(codes), _IN_CHUNK):
        yield codes[start : start + _IN_CHUNK]


def stored_chains(conn: Connection, codes: Iterable[str]) -> Iterator[StoredChain]:
    """The stored chains of ``codes`` (unknown codes are left out), in code order."""
    wanted = sorted(set(codes))
    b = s.batches
    for chunk in _chunks(wanted):
        query = select(b.c.batch_code, b.c.chain, b.c.stored_at).where(b.c.batch_code.in_(chunk))
        for row in conn.execute(query.order_by(b.c.batch_code)):
            yield StoredChain(row.batch_code, dict(row.chain), _aware(row.stored_at))


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def window_filter(window: Window) -> Any:
    """A WHERE clause on ``batches``: active in the date range, of the product, the lot itself or
    a batch that consumed it (directly)."""
    b = s.batches
    clauses = []
    if window.start is not None:
        clauses.append(or_(b.c.last_event_at >= window.start, b.c.last_event_at.is_(None)))
    if window.end is not None:
        clauses.append(or_(b.c.first_event_at <= window.end, b.c.first_event_at.is_(None)))
    if window.product:
        clauses.append(or_(b.c.product_code == window.product, b.c.material_code == window.product))
    if window.lot:
        e = s.genealogy_edges
        consumers = select(e.c.child_code).where(e.c.parent_lot == window.lot)
        clauses.append(or_(b.c.batch_code == window.lot, b.c.batch_code.in_(consumers)))
    return and_(*clauses) if clauses else None


def window_codes(conn: Connection, window: Window) -> list[str]:
    """Batch codes the window covers, sorted."""
    query: Select[Any] = select(s.batches.c.batch_code).order_by(s.batches.c.batch_code)
    where = window_filter(window)
    if where is not None:
        query = query.where(where)
    return [str(code) for code in conn.execute(query).scalars()]


def genealogy_codes(conn: Connection, code: str, max_depth: int = DEFAULT_MAX_DEPTH) -> list[str]:
    """What ``code`` (batch, trace code, delivery, complaint) stands for, with every lot upstream
    and every batch downstream of it: the batches a one-batch export covers."""
    resolved = resolve(conn, code)
    if resolved is None:
        return []
    found = set(resolved.batch_codes)
    report = trace(conn, code, max_depth)
    for one in report.traces if report is not None else ():
        found.update(link.code for link in one.upstream)
    for batch_code in resolved.batch_codes:
        found.update(link.code for link in recall(conn, batch_code, max_depth).downstream)
    return sorted(found)


# -- streams for the FSMA 204 spreadsheet ---------------------------------------------------------


def fsma_batches(conn: Connection, window: Window) -> Iterator[Any]:
    """Batch rows with the KDE columns (and the material receipt of purchased lots), by code."""
    b = s.batches
    receipt = b.c.chain["material_receipt"]
    query = select(
        b.c.batch_code,
        b.c.plant,
        b.c.product_code,
        b.c.product_name,
        b.c.material_code,
        b.c.order_id,
        b.c.line_id,
        b.c.produced_quantity,
        b.c.uom,
        b.c.completed_at,
        b.c.started_at,
        b.c.first_event_at,
        receipt["supplier_id"].as_string().label("supplier_id"),
        receipt["supplier_lot"].as_string().label("supplier_lot"),
        receipt["quantity"].as_string().label("receipt_quantity"),
        receipt["uom"].as_string().label("receipt_uom"),
    ).order_by(b.c.batch_code)
    where = window_filter(window)
    if where is not None:
        query = query.where(where)
    yield from _stream(conn, query)


def fsma_edges(conn: Connection, window: Window) -> Iterator[Any]:
    """Genealogy edges of the window's batches (as children), by child code then sequence."""
    e = s.genealogy_edges
    query = select(e).order_by(e.c.child_code, e.c.seq)
    where = window_filter(window)
    if where is not None:
        inside = select(s.batches.c.batch_code).where(where)
        query = query.where(e.c.child_code.in_(inside))
    yield from _stream(conn, query)


def fsma_shipments(conn: Connection, window: Window) -> Iterator[Any]:
    """Shipment lines of the window's batches, by batch code then sequence."""
    sh = s.shipments
    query = select(sh).order_by(sh.c.batch_code, sh.c.seq)
    where = window_filter(window)
    if where is not None:
        inside = select(s.batches.c.batch_code).where(where)
        query = query.where(sh.c.batch_code.in_(inside))
    yield from _stream(conn, query)


def _stream(conn: Connection, query: Select[Any]) -> Iterator[Any]:
    result = conn.execution_options(stream_results=True, yield_per=_STREAM_ROWS).execute(query)
    yield from result
