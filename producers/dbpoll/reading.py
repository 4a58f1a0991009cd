"""Reading a source table: reflecting it, and one batch of unread rows in a stable order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, MetaData, Table, select
from sqlalchemy.exc import SQLAlchemyError

from producers.mapping import DbSource, SourceMapping
from tracesync.errors import ConfigurationError, InfrastructureError


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
) -> list[dict[str, Any]]:
    """Up to ``limit`` unread rows: above the watermark ``mark`` (poll) or unpublished (outbox)."""
    query = select(table)
    if source.mode == "poll":
        column = table.c[str(source.watermark_column)]
        if mark is not None:
            query = query.where(column > mark)
        query = query.order_by(column)
    else:
        if source.on_published == "mark":
            query = query.where(table.c[str(source.published_column)].is_(None))
        query = query.order_by(*(table.c[k] for k in source.key_columns))
    try:
        with engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query.limit(limit))]
    except SQLAlchemyError as exc:
        raise InfrastructureError(f"cannot read {source.table}: {exc}") from exc
