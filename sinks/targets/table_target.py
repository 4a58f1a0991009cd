"""Database-table transport: insert the notice into an interface table a target system reads.

The table (created when missing) has the idempotency key as primary key, so the insert is
``ON CONFLICT (idempotency_key) DO NOTHING``: a notice written twice is one row. SQLite and
PostgreSQL are supported (the URL says which); without a URL the table lives in a SQLite file
under ``<home>/targets/<target>.db``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    MetaData,
    String,
    Table,
    Text,
    create_engine,
    exc,
)
from sqlalchemy.dialects import postgresql, sqlite

from sinks.targets.base import Target
from sinks.targets.routing import Notice
from tracesync.errors import ConfigurationError, InfrastructureError

_DIALECTS = ("sqlite", "postgresql")


def notice_table(name: str, metadata: MetaData) -> Table:
    """The interface table's layout: one row per notice, keyed by idempotency key."""
    return Table(
        name,
        metadata,
        Column("idempotency_key", String(64), primary_key=True),
        Column("route", String(200), nullable=False),
        Column("batch_code", String(200), nullable=False, index=True),
        Column("fact_id", String(500), nullable=False),
        Column("chain_version", BigInteger, nullable=False),
        Column("payload", Text, nullable=False, doc="the route's payload as JSON"),
        Column("created_at", DateTime(timezone=True), nullable=False),
    )


class TableTarget(Target):
    """A target system fed through a database table (ERP production receipts, ...)."""

    transport: ClassVar[str] = "table"
    options: ClassVar[frozenset[str]] = frozenset({"url", "table"})

    def __init__(self, name: str, config: Mapping[str, Any], home: Path) -> None:
        super().__init__(name, config, home)
        default_file = (home / "targets" / f"{name}.db").resolve()
        if "url" not in config:
            default_file.parent.mkdir(parents=True, exist_ok=True)
        url = self.option("url", str, f"sqlite:///{default_file}")
        self._engine = create_engine(url, pool_pre_ping=True)
        self._dialect = self._engine.dialect.name
        if self._dialect not in _DIALECTS:
            raise ConfigurationError(
                f"target {name!r}: dialect {self._dialect} is not supported (use one of "
                f"{list(_DIALECTS)})"
            )
        self.table = notice_table(self.option("table", str, f"{name}_notices"), MetaData())
        try:
            self.table.create(self._engine, checkfirst=True)
        except exc.SQLAlchemyError as error:
            raise InfrastructureError(
                f"target {name!r}: cannot create table {self.table.name}: {error}"
            ) from error

    def send(self, notice: Notice) -> None:
        row = {
            "idempotency_key": notice.key,
            "route": notice.route,
            "batch_code": notice.batch_code,
            "fact_id": notice.fact_id,
            "chain_version": notice.version,
            "payload": orjson.dumps(notice.payload).decode(),
            "created_at": datetime.now(UTC),
        }
        insert = sqlite.insert if self._dialect == "sqlite" else postgresql.insert
        statement = (
            insert(self.table)
            .values(row)
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
        )
        try:
            with self._engine.begin() as connection:
                connection.execute(statement)
        except (exc.OperationalError, exc.InterfaceError, exc.TimeoutError) as error:
            raise self.error(f"database unavailable: {error}", retriable=True) from error
        except exc.SQLAlchemyError as error:
            raise self.error(f"database refused the row: {error}", retriable=False) from error

    def close(self) -> None:
        self._engine.dispose()
