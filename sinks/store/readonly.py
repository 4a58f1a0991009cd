"""The trace store opened for queries only: no migration, no DDL, no Alembic import.

``tracesync trace`` / ``recall`` and other readers must not change the schema (a query role may
lack DDL rights) nor pay for loading Alembic. :func:`open_for_queries` checks instead that the
store exists and is at the schema revision these queries are written for, and says how to get
there when it is not: the store sink migrates on start, ``tracesync store migrate`` on demand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, exc, make_url, text

from sinks.store.database import create_store_engine
from sinks.store.writer import StoreUnavailableError
from tracesync.errors import ConfigurationError

SCHEMA_REVISION = "r0004"
"""The newest revision in ``sinks/store/migrations/versions`` (a unit test keeps them equal)."""

_HOW_TO_MIGRATE = "start `tracesync sink store` or run `tracesync store migrate`"

PREPARE_THRESHOLD = 0
"""psycopg prepares every query on the server at its first run on a connection (its default
waits for five): the trace statements are few and their SQL text is fixed (array parameters,
:mod:`sinks.store.trace_sql`), so each is parsed and planned once per pooled connection instead of
on every request (planning the trace's big ``UNION ALL`` cost more than running it)."""


class StoreNotReadyError(ConfigurationError):
    """The store does not exist or its schema is not at the revision the queries expect."""


def open_for_queries(url: str) -> Engine:
    """An engine on an existing store at :data:`SCHEMA_REVISION`; raises StoreNotReadyError."""
    missing_file = _missing_sqlite_file(url)
    if missing_file is not None:
        raise StoreNotReadyError(f"no trace store at {missing_file}: {_HOW_TO_MIGRATE}")
    engine = create_store_engine(url)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _prepare_on_server)
    revision = schema_revision(engine)
    if revision != SCHEMA_REVISION:
        engine.dispose()
        found = "no schema" if revision is None else f"schema revision {revision}"
        raise StoreNotReadyError(
            f"the trace store at {engine.url!r} has {found}, the queries need "
            f"{SCHEMA_REVISION}: {_HOW_TO_MIGRATE}"
        )
    return engine


def _prepare_on_server(dbapi_connection: Any, _record: Any) -> None:
    dbapi_connection.prepare_threshold = PREPARE_THRESHOLD


def _missing_sqlite_file(url: str) -> str | None:
    """The file of a SQLite URL when it does not exist (connecting would create it empty)."""
    parsed = make_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return None
    return None if Path(database).is_file() else database


def schema_revision(engine: Engine) -> str | None:
    """The Alembic revision the store is at, read from ``alembic_version``; None without one."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except exc.ProgrammingError:  # PostgreSQL: no such table
        return None
    except exc.OperationalError as error:
        if "no such table" in str(error):  # SQLite
            return None
        raise StoreUnavailableError(f"cannot read the trace store: {error}") from error
