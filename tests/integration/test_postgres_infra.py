"""The store's SQL works on SQLite and the real PostgreSQL, and PostgreSQL outages are survivable.

Covers what the sinks rely on: the version-guarded upsert (``ON CONFLICT ... DO UPDATE ... WHERE
version < excluded.version``), a recursive CTE for genealogy walks, fresh databases per test, and
stopping/starting a server with a connection pool that recovers afterwards (the session's private
server: the shared one serves other sessions too).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    literal_column,
    select,
    text,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from tests.fixtures.postgres import unique_database_name
from tracesync.devtools.infra import postgres
from tracesync.devtools.infra.private_postgres import PrivatePostgres
from tracesync.settings import PostgresSettings

pytestmark = pytest.mark.integration

metadata = MetaData()
chains = Table(
    "chains",
    metadata,
    Column("k", String(64), primary_key=True),
    Column("version", Integer, nullable=False),
    Column("body", String(200), nullable=False),
)
lot_edges = Table(
    "lot_edges",
    metadata,
    Column("child", String(64), primary_key=True),
    Column("parent", String(64), primary_key=True),
)


@pytest.fixture
def engine(store_url: str) -> Iterator[Engine]:
    eng = create_engine(store_url)
    metadata.create_all(eng)
    yield eng
    eng.dispose()


def upsert_chain(eng: Engine, key: str, version: int, body: str) -> int:
    """Write the row unless the stored version is the same or newer; returns rows changed."""
    insert = postgresql.insert if eng.dialect.name == "postgresql" else sqlite.insert
    stmt = insert(chains).values(k=key, version=version, body=body)
    stmt = stmt.on_conflict_do_update(
        index_elements=[chains.c.k],
        set_={"version": stmt.excluded.version, "body": stmt.excluded.body},
        where=chains.c.version < stmt.excluded.version,
    )
    # Without preserve_rowcount SQLAlchemy reports -1 for an INSERT on psycopg.
    stmt = stmt.execution_options(preserve_rowcount=True)
    with eng.begin() as conn:
        return conn.execute(stmt).rowcount


def stored_chain(eng: Engine, key: str) -> tuple[int, str]:
    with eng.connect() as conn:
        row = conn.execute(select(chains.c.version, chains.c.body).where(chains.c.k == key)).one()
    return row.version, row.body


def test_store_url_gives_the_dialect_it_names(store_url: str, engine: Engine) -> None:
    expected = "postgresql" if store_url.startswith("postgresql+psycopg://") else "sqlite"
    assert engine.dialect.name == expected
    with engine.connect() as conn:
        assert conn.execute(text("SELECT 1")).scalar_one() == 1


def test_older_version_never_overwrites_newer(engine: Engine) -> None:
    assert upsert_chain(engine, "B-1", 2, "v2") == 1
    assert upsert_chain(engine, "B-1", 1, "v1 arriving late") == 0
    assert stored_chain(engine, "B-1") == (2, "v2")

    assert upsert_chain(engine, "B-1", 2, "v2 replayed") == 0
    assert stored_chain(engine, "B-1") == (2, "v2")

    assert upsert_chain(engine, "B-1", 3, "v3") == 1
    assert stored_chain(engine, "B-1") == (3, "v3")


def test_recursive_cte_walks_multi_level_genealogy(engine: Engine) -> None:
    edges = [
        ("B-1", "L-1"),
        ("B-1", "L-2"),
        ("L-1", "R-1"),
        ("R-1", "S-1"),
        ("L-2", "R-2"),
        ("B-9", "L-9"),  # another batch's material must not show up
    ]
    with engine.begin() as conn:
        conn.execute(lot_edges.insert(), [{"child": c, "parent": p} for c, p in edges])

    ancestors = (
        select(lot_edges.c.parent.label("lot"), literal_column("1").label("depth"))
        .where(lot_edges.c.child == "B-1")
        .cte("ancestors", recursive=True)
    )
    ancestors = ancestors.union_all(
        select(lot_edges.c.parent, ancestors.c.depth + 1).join(
            ancestors, lot_edges.c.child == ancestors.c.lot
        )
    )
    with engine.connect() as conn:
        rows = conn.execute(select(ancestors.c.lot, ancestors.c.depth)).all()

    assert sorted((row.lot, row.depth) for row in rows) == [
        ("L-1", 1),
        ("L-2", 1),
        ("R-1", 2),
        ("R-2", 2),
        ("S-1", 3),
    ]


def test_create_and_drop_database(postgres_server: PostgresSettings) -> None:
    name = unique_database_name("create and drop")

    def exists() -> bool:
        with postgres.connect(postgres_server) as conn:
            found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
            return found.fetchone() is not None

    postgres.create_database(postgres_server, name)
    try:
        assert exists()
    finally:
        postgres.drop_database(postgres_server, name)
    assert not exists()


def test_pool_recovers_after_cluster_stop_and_start(
    private_postgres: PrivatePostgres, private_postgres_url: str
) -> None:
    """On the session's private server (Debian's initdb/pg_ctl): the shared one is not ours."""
    eng = create_engine(private_postgres_url, pool_pre_ping=True)
    try:
        metadata.create_all(eng)
        upsert_chain(eng, "B-7", 1, "before the outage")

        private_postgres.stop()
        try:
            assert not private_postgres.is_running()
            assert not postgres.is_reachable(private_postgres.settings)
            with pytest.raises(OperationalError), eng.connect() as conn:
                conn.execute(text("SELECT 1"))
        finally:
            private_postgres.start()

        assert stored_chain(eng, "B-7") == (1, "before the outage")
        assert upsert_chain(eng, "B-7", 2, "after the outage") == 1
        assert stored_chain(eng, "B-7") == (2, "after the outage")
    finally:
        eng.dispose()
