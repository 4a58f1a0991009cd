"""The trace store on SQLite and PostgreSQL: migrations, version-guarded upsert, child rows."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import func, select

from sinks.store import schema
from sinks.store.database import TraceStore, WriteMethod, create_store_engine, migrate, open_store
from sinks.store.rows import ChainRows, alert_row, chain_rows
from sinks.store.writer import StoreRejectedError
from tests.unit.store_plant import T0, chain
from tracesync.cli import main


@pytest.fixture(params=["values", "auto"])
def method(request: pytest.FixtureRequest) -> WriteMethod:
    """Both ways rows travel: multi-row VALUES, and auto (COPY on PostgreSQL, VALUES on SQLite)."""
    value: WriteMethod = request.param
    return value


def _versioned(code: str, version: int) -> dict[str, Any]:
    """A chain whose content says which version it is (parent lot, stock, product)."""
    return chain(
        code,
        version,
        product=f"P-v{version}",
        consumes=[(f"LOT-{code}-v{version}", "RM", str(version))],
        stock=[(f"WH-v{version}", str(version))],
    )


def _state(store: TraceStore, code: str) -> tuple[int, str, set[str], set[str]]:
    with store.engine.connect() as conn:
        version, product = conn.execute(
            select(schema.batches.c.version, schema.batches.c.product_code).where(
                schema.batches.c.batch_code == code
            )
        ).one()
        edges = conn.execute(
            select(schema.genealogy_edges.c.parent_lot).where(
                schema.genealogy_edges.c.child_code == code
            )
        ).scalars()
        stock = conn.execute(
            select(schema.stock.c.location).where(schema.stock.c.batch_code == code)
        ).scalars()
        return int(version), str(product), set(edges), set(stock)


def test_migration_creates_exactly_the_schema_and_runs_twice(store_url: str) -> None:
    engine = create_store_engine(store_url)
    migrate(engine)
    migrate(engine)
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), schema.metadata)
    assert differences == []


def test_an_older_version_never_overwrites_a_newer_one_across_writes(
    store_url: str, method: WriteMethod
) -> None:
    store = open_store(store_url, method)
    assert store.write([chain_rows(_versioned("B1", 5))]).written == 1
    result = store.write([chain_rows(_versioned("B1", 3))])
    assert (result.written, result.stale) == (0, 1)
    assert _state(store, "B1") == (5, "P-v5", {"LOT-B1-v5"}, {"WH-v5"})
    store.write([chain_rows(_versioned("B1", 5))])  # same version again: not newer, no change
    assert _state(store, "B1") == (5, "P-v5", {"LOT-B1-v5"}, {"WH-v5"})
    store.write([chain_rows(_versioned("B1", 6))])
    assert _state(store, "B1") == (6, "P-v6", {"LOT-B1-v6"}, {"WH-v6"})


def test_within_one_write_the_highest_version_wins(store_url: str, method: WriteMethod) -> None:
    store = open_store(store_url, method)
    store.write([chain_rows(_versioned("B2", 4))])
    batch = [chain_rows(_versioned(code, v)) for v in (9, 2, 12, 7) for code in ("B2", "B3")]
    result = store.write(batch)
    assert result.written == 2
    assert _state(store, "B2") == (12, "P-v12", {"LOT-B2-v12"}, {"WH-v12"})
    assert _state(store, "B3") == (12, "P-v12", {"LOT-B3-v12"}, {"WH-v12"})


def test_a_trace_code_claimed_again_moves_to_the_batch_written_last(
    store_url: str, method: WriteMethod
) -> None:
    store = open_store(store_url, method)
    store.write([chain_rows(chain("A", 1, product="X", trace_codes=["TC-1", "TC-2"]))])
    store.write([chain_rows(chain("B", 1, product="X", trace_codes=["TC-2"]))])
    with store.engine.connect() as conn:
        owners = {str(k): str(v) for k, v in conn.execute(select(schema.trace_codes))}
    assert owners == {"TC-1": "A", "TC-2": "B"}


def test_alerts_are_stored_once(store_url: str, method: WriteMethod) -> None:
    store = open_store(store_url, method)
    alert = {
        "alert_id": "7d1d2b0c-2f4e-4f43-9a55-6c1f1c1e0001",
        "batch_code": "B1",
        "kind": "HOLD_PLACED",
        "subject": "H-1",
        "message": "hold placed",
        "origin_code": "B1",
        "occurred_at": T0,
    }
    assert store.write([], [alert_row(alert), alert_row(alert)]).alerts == 1
    assert store.write([], [alert_row(alert)]).alerts == 0
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(schema.alerts)).scalar() == 1


def test_many_chains_in_one_write_keep_exactly_their_children(
    store_url: str, method: WriteMethod
) -> None:
    store = open_store(store_url, method)
    codes = [f"M-{i}" for i in range(1_200)]  # more rows than one statement takes
    store.write([chain_rows(_versioned(c, 2)) for c in codes])
    mixed = [chain_rows(_versioned(c, 3 if n % 2 else 1)) for n, c in enumerate(codes)]
    result = store.write(mixed)
    assert (result.written, result.stale) == (600, 600)
    for n, code in enumerate(codes[:50]):
        v = 3 if n % 2 else 2
        assert _state(store, code) == (v, f"P-v{v}", {f"LOT-{code}-v{v}"}, {f"WH-v{v}"})
    with store.engine.connect() as conn:
        edges = conn.execute(select(func.count()).select_from(schema.genealogy_edges)).scalar()
    assert edges == len(codes)


def test_a_refused_write_changes_nothing_and_the_store_stays_usable(
    store_url: str, method: WriteMethod
) -> None:
    store = open_store(store_url, method)
    store.write([chain_rows(_versioned("G1", 1))])
    good = chain_rows(_versioned("G1", 2))
    broken = ChainRows("G2", 1, chain_rows(_versioned("G2", 1)).batch | {"plant": None})
    with pytest.raises(StoreRejectedError):
        store.write([good, broken])
    assert _state(store, "G1") == (1, "P-v1", {"LOT-G1-v1"}, {"WH-v1"})
    assert store.write([good]).written == 1
    assert _state(store, "G1") == (2, "P-v2", {"LOT-G1-v2"}, {"WH-v2"})


def test_cli_store_migrate(store_url: str) -> None:
    result = CliRunner().invoke(main, ["store", "migrate", "--store-url", store_url])
    assert result.exit_code == 0, result.output
    engine = create_store_engine(store_url)
    with engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "r0004"
    engine.dispose()


def test_quantities_round_trip_exactly(store_url: str, method: WriteMethod) -> None:
    """Issue 15, finding 4: SQLite stored NUMERIC as a float (999999999999999.999 came back as
    1000000000000000.000); both databases keep every digit, in columns and in child rows."""
    big, odd, small = "999999999999999.999", "888888888888888.887", "0.001"
    record = chain("Q1", stock=[("WH-1", odd), ("WH-2", small)], consumes=[("LOT-Q", "RM", big)])
    record["production"]["produced_quantity"] = Decimal(big)
    store = open_store(store_url, method)
    store.write([chain_rows(record)])
    with store.engine.connect() as conn:
        produced = conn.execute(select(schema.batches.c.produced_quantity)).scalar_one()
        stock = dict(conn.execute(select(schema.stock.c.location, schema.stock.c.quantity)).all())
    assert produced == Decimal(big)
    assert stock == {"WH-1": Decimal(odd), "WH-2": Decimal(small)}
