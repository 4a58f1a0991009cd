"""The trace store: engine, migrations and the version-guarded write of chains and alerts.

:func:`open_store` builds the engine for a URL (SQLite file or PostgreSQL) and brings the schema
to the newest Alembic revision. :meth:`TraceStore.write` writes chains and alerts in one
transaction: a batch row is inserted, or updated only when the incoming version is newer
(``ON CONFLICT (batch_code) DO UPDATE ... WHERE batches.version < excluded.version``), and the
child rows of a batch are replaced only when its row was actually written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Engine, create_engine, delete, event, exc, make_url
from sqlalchemy.dialects import postgresql, sqlite

from sinks.store import schema
from sinks.store.rows import ChainRows, Row, latest_per_batch
from tracesync.errors import InfrastructureError, TracesyncError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
_IN_CHUNK = 500  # codes per IN (...) list


class StoreUnavailableError(InfrastructureError):
    """The database cannot be reached or is busy; the same write may succeed later."""


class StoreRejectedError(TracesyncError):
    """The database refused the data itself (constraint, type); retrying will not help."""


@dataclass(frozen=True)
class WriteResult:
    """What one write did: batch rows written, chains skipped as not newer, alerts inserted."""

    written: int
    stale: int
    alerts: int


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (trace queries) don't block the sink
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for a store URL; creates the folder of a SQLite file."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args = {"connect_timeout": 5} if parsed.get_backend_name() == "postgresql" else {}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def alembic_config(connection: Connection) -> Config:
    """An Alembic configuration that runs ``sinks/migrations`` on ``connection``."""
    # Alembic takes ~0.4 s to import: only the code that migrates pays for it (not queries)
    from alembic.config import Config  # noqa: PLC0415

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade <revision>`` on the engine's database."""
    from alembic import command  # noqa: PLC0415 - see alembic_config

    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection), revision)
    except exc.OperationalError as error:
        raise StoreUnavailableError(f"cannot migrate the trace store: {error}") from error


def open_store(url: str) -> TraceStore:
    """The store at ``url`` with its schema migrated to the newest revision."""
    engine = create_store_engine(url)
    migrate(engine)
    return TraceStore(engine)


def _chunks(items: Sequence[str], size: int = _IN_CHUNK) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class TraceStore:
    """Writes to the trace store; one :meth:`write` is one transaction."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._dialect = postgresql if engine.dialect.name == "postgresql" else sqlite

    def write(self, chains: Iterable[ChainRows], alerts: Iterable[Row] = ()) -> WriteResult:
        """Upsert chains (newer versions only) and insert new alerts, all in one transaction."""
        chosen = latest_per_batch(chains)
        unique_alerts = list({a["alert_id"]: a for a in alerts}.values())
        try:
            with self.engine.begin() as conn:
                written = self._upsert_batches(conn, chosen)
                self._replace_children(conn, [c for c in chosen if c.batch_code in written])
                inserted = self._insert_alerts(conn, unique_alerts)
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise StoreUnavailableError(f"trace store unavailable: {error}") from error
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                raise StoreUnavailableError(f"trace store connection lost: {error}") from error
            raise StoreRejectedError(f"trace store rejected the write: {error}") from error
        except exc.StatementError as error:
            raise StoreRejectedError(f"trace store rejected the write: {error}") from error
        return WriteResult(len(written), len(chosen) - len(written), inserted)

    def _upsert_batches(self, conn: Connection, chains: list[ChainRows]) -> set[str]:
        if not chains:
            return set()
        table = schema.batches
        stmt = self._dialect.insert(table)
        updates = {c.name: stmt.excluded[c.name] for c in table.columns if not c.primary_key}
        guarded = stmt.on_conflict_do_update(
            index_elements=[table.c.batch_code],
            set_=updates,
            where=table.c.version < stmt.excluded.version,
        ).returning(table.c.batch_code)
        result = conn.execute(guarded, [c.batch for c in chains])
        return {str(code) for code in result.scalars()}

    def _replace_children(self, conn: Connection, chains: list[ChainRows]) -> None:
        if not chains:
            return
        codes = [c.batch_code for c in chains]
        for table in schema.CHILD_TABLES:
            key = table.c.child_code if "child_code" in table.c else table.c.batch_code
            for chunk in _chunks(codes):
                conn.execute(delete(table).where(key.in_(chunk)))
        for table in schema.CHILD_TABLES:
            rows = [row for c in chains for row in c.children.get(table.name, ())]
            if table is schema.trace_codes:
                self._upsert_trace_codes(conn, rows)
            elif rows:
                conn.execute(table.insert(), rows)

    def _upsert_trace_codes(self, conn: Connection, rows: list[Row]) -> None:
        """A trace code names one batch; a code claimed again moves to the batch written last."""
        unique = list({r["trace_code"]: r for r in rows}.values())
        if not unique:
            return
        stmt = self._dialect.insert(schema.trace_codes)
        conn.execute(
            stmt.on_conflict_do_update(
                index_elements=[schema.trace_codes.c.trace_code],
                set_={"batch_code": stmt.excluded.batch_code},
            ),
            unique,
        )

    def _insert_alerts(self, conn: Connection, alerts: list[Row]) -> int:
        if not alerts:
            return 0
        stmt = self._dialect.insert(schema.alerts).on_conflict_do_nothing(
            index_elements=[schema.alerts.c.alert_id]
        )
        result = conn.execute(stmt.returning(schema.alerts.c.alert_id), alerts)
        return len(result.scalars().all())
