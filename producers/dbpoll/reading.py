"""Reading a source table: reflecting it, and one batch of unread rows in a stable order.

A batch is read in one query. When a value in it cannot be handed over as its column's type
(text in a SQLite ``TIMESTAMP`` or ``NUMERIC`` column, a PostgreSQL timestamp past year 9999,
which Python's datetime cannot hold), that query fails as a whole; the batch is then read again
row by row, and a row that still fails column by column, so that only the bad row is set aside:
its unreadable cells come back as text, each named with the reason in
:attr:`SourceRow.unreadable`. The key and watermark columns must always be readable: they say
which row it is and how far the capture got.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, Select, String, Table, and_, cast, select
from sqlalchemy.exc import DataError, SQLAlchemyError
from sqlalchemy.sql.elements import ColumnElement

from producers.mapping import DbSource, SourceMapping
from tracesync.errors import ConfigurationError, InfrastructureError

log = logging.getLogger(__name__)

CONVERSION_ERRORS = (ValueError, ArithmeticError, TypeError, DataError)
"""What a value that is not of its column's type raises: SQLAlchemy's result processors raise
ValueError/ArithmeticError/TypeError (SQLite), the driver a DataError (psycopg)."""


@dataclass(frozen=True)
class SourceRow:
    """One row of the source table; ``unreadable`` names each cell that is not of its type."""

    values: dict[str, Any]
    unreadable: tuple[tuple[str, str], ...] = ()


def reflect_table(mapping: SourceMapping, engine: Engine) -> Table:
    """The mapping's table as the database describes it; its key columns must exist."""
    source = mapping.db
    if source is None:
        raise ConfigurationError(f"mapping {mapping.path} has no [db] table")
    try:
        table = Table(source.table, MetaData(), schema=source.schema, autoload_with=engine)
    except SQLAlchemyError as exc:
        raise InfrastructureError(
            f"cannot read table {source.table} for mapping {mapping.name}: {exc}"
        ) from exc
    needed = [*source.key_columns]
    needed += [c for c in (source.watermark_column, source.published_column) if c]
    missing = [c for c in needed if c not in table.c]
    if missing:
        raise ConfigurationError(
            f"mapping {mapping.path}: table {source.table} has no column(s) {', '.join(missing)}"
        )
    return table


def read_batch(
    engine: Engine, table: Table, source: DbSource, mark: Any, limit: int
) -> list[SourceRow]:
    """Up to ``limit`` unread rows: above the watermark ``mark`` (poll) or unpublished (outbox)."""
    query = _unread(select(table), table, source, mark).limit(limit)
    try:
        with engine.connect() as conn:
            return [SourceRow(dict(r._mapping)) for r in conn.execute(query)]
    except CONVERSION_ERRORS as exc:
        log.warning(
            "%s: a value is not of its column's type (%s); reading this batch row by row",
            source.table,
            exc,
        )
    except SQLAlchemyError as exc:
        raise InfrastructureError(f"cannot read {source.table}: {exc}") from exc
    return _read_row_by_row(engine, table, source, mark, limit)


def _unread(query: Select[Any], table: Table, source: DbSource, mark: Any) -> Select[Any]:
    if source.mode == "poll":
        column = table.c[str(source.watermark_column)]
        if mark is not None:
            query = query.where(column > mark)
        return query.order_by(column)
    if source.on_published == "mark":
        query = query.where(table.c[str(source.published_column)].is_(None))
    return query.order_by(*(table.c[k] for k in source.key_columns))


def identity_columns(source: DbSource) -> list[str]:
    """The columns that say which row it is and how far the capture got."""
    names = list(source.key_columns)
    if source.watermark_column and source.watermark_column not in names:
        names.append(source.watermark_column)
    return names


def _read_row_by_row(
    engine: Engine, table: Table, source: DbSource, mark: Any, limit: int
) -> list[SourceRow]:
    identity = [table.c[name] for name in identity_columns(source)]
    query = _unread(select(*identity), table, source, mark).limit(limit)
    try:
        with engine.connect() as conn:
            idents = [dict(r._mapping) for r in conn.execute(query)]
            return [_read_one(conn, table, ident) for ident in idents]
    except CONVERSION_ERRORS as exc:
        raise InfrastructureError(
            f"cannot read the key/watermark columns ({', '.join(c.name for c in identity)}) "
            f"of {source.table}: {exc}"
        ) from exc
    except SQLAlchemyError as exc:
        raise InfrastructureError(f"cannot read {source.table}: {exc}") from exc


def _read_one(conn: Connection, table: Table, ident: Mapping[str, Any]) -> SourceRow:
    match = and_(*(table.c[name] == value for name, value in ident.items()))
    try:
        return SourceRow(dict(conn.execute(select(table).where(match)).one()._mapping))
    except CONVERSION_ERRORS:
        conn.rollback()  # PostgreSQL: leave no failed statement in the transaction
    values: dict[str, Any] = {}
    unreadable: list[tuple[str, str]] = []
    for column in table.c:
        try:
            values[column.name] = conn.execute(select(column).where(match)).scalar_one()
        except CONVERSION_ERRORS as exc:
            conn.rollback()
            text = values[column.name] = _as_text(conn, column, match)
            reason = f"{text!r} is not a valid {column.type} value ({_cause(exc)})"
            unreadable.append((column.name, reason))
    return SourceRow(values, tuple(unreadable))


def _as_text(conn: Connection, column: ColumnElement[Any], match: ColumnElement[bool]) -> Any:
    """The stored value as the database spells it (for the dead letter), or None."""
    try:
        return conn.execute(select(cast(column, String)).where(match)).scalar_one()
    except (*CONVERSION_ERRORS, SQLAlchemyError):
        conn.rollback()
        return None


def _cause(exc: BaseException) -> str:
    original = exc.orig if isinstance(exc, DataError) else exc
    return str(original).splitlines()[0] if str(original) else type(original).__name__
