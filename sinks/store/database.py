"""The trace store: engine, migrations and the version-guarded, set-based write of a batch.

:func:`open_store` builds the engine for a URL (SQLite file or PostgreSQL) and brings the schema
to the newest Alembic revision. :class:`TraceStore` is the real :class:`StoreWriter`: one
:meth:`TraceStore.write` is one transaction of a few set-based statements (multi-row VALUES
upserts, or COPY into staging tables on PostgreSQL, see :mod:`sinks.store.bulk` and
:mod:`sinks.store.pgcopy`): a batch row is inserted, or updated only when the incoming version is
newer (``ON CONFLICT (batch_code) DO UPDATE ... WHERE batches.version < excluded.version``), and
the child rows of a batch are replaced only when its row was actually written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy import Connection, Engine, create_engine, event, exc, make_url

from sinks.store.bulk import ValuesWriter
from sinks.store.pgcopy import CopyWriter
from sinks.store.rows import ChainRows, Row, latest_per_batch
from sinks.store.writer import StoreRejectedError, StoreUnavailableError, WriteResult

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent / "migrations"

WriteMethod = Literal["auto", "values", "copy"]


SQLITE_CACHE_KIB = 65_536
"""Page cache of a store connection (SQLite's default is 2 MiB): the B-trees a write walks stay
in memory as the file grows, instead of being read again from the OS for every batch."""


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")  # readers (trace queries) don't block the sink
    # FULL: a commit is on disk before it returns, so the offsets the sink commits after it
    # never name a write a power loss could undo (NORMAL would spare one fsync per transaction,
    # a few milliseconds for a batch of thousands of chains)
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
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


def open_store(url: str, method: WriteMethod = "auto") -> TraceStore:
    """The store at ``url`` with its schema migrated to the newest revision."""
    engine = create_store_engine(url)
    migrate(engine)
    return TraceStore(engine, method)


class _StatementWriter(Protocol):
    """What both statement writers offer (see sinks.store.bulk and sinks.store.pgcopy)."""

    def write(
        self, conn: Connection, chains: Sequence[ChainRows], alerts: Sequence[Row]
    ) -> tuple[int, int]: ...


def resolve_method(engine: Engine, method: WriteMethod) -> WriteMethod:
    """``auto``: COPY on PostgreSQL (measured faster there), multi-row VALUES elsewhere."""
    if method == "auto":
        return "copy" if engine.dialect.name == "postgresql" else "values"
    return method


def _statement_writer(engine: Engine, method: WriteMethod) -> _StatementWriter:
    if method == "copy":
        if engine.dialect.name != "postgresql":
            raise ValueError("COPY is a PostgreSQL write method")
        return CopyWriter(engine.dialect)
    return ValuesWriter(engine.dialect)


class TraceStore:
    """The trace store as a :class:`~sinks.store.writer.StoreWriter`; one write, one transaction.

    ``method`` chooses how rows travel: ``values`` (multi-row INSERT ... VALUES, both dialects),
    ``copy`` (COPY into staging tables, PostgreSQL only) or ``auto`` (COPY on PostgreSQL).
    """

    def __init__(self, engine: Engine, method: WriteMethod = "auto") -> None:
        self.engine = engine
        self.method = resolve_method(engine, method)
        self._writer = _statement_writer(engine, self.method)

    def __repr__(self) -> str:
        return f"TraceStore({self.engine.url!r}, method={self.method!r})"

    def write(self, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()) -> WriteResult:
        """Upsert chains (newer versions only) and insert new alerts, all in one transaction."""
        chosen = latest_per_batch(chains)
        with self.transaction() as conn:
            written, inserted = self.write_on(conn, chosen, alerts)
        return WriteResult(written, len(chosen) - written, inserted)

    def write_on(
        self, conn: Connection, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()
    ) -> tuple[int, int]:
        """Chains written and alerts inserted on ``conn``'s open transaction (one version of a
        batch at most among ``chains``)."""
        return self._writer.write(conn, chains, alerts)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One transaction, its database errors mapped to the two :class:`StoreWriter` errors."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except (exc.OperationalError, exc.InterfaceError) as error:
            raise StoreUnavailableError(f"trace store unavailable: {error}") from error
        except exc.DBAPIError as error:
            if error.connection_invalidated:
                raise StoreUnavailableError(f"trace store connection lost: {error}") from error
            raise StoreRejectedError(f"trace store rejected the write: {error}") from error
        except exc.StatementError as error:
            raise StoreRejectedError(f"trace store rejected the write: {error}") from error
