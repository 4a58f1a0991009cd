"""The supplier columns of ``batches`` (migration r0004) on SQLite and PostgreSQL.

Every way rows reach the store fills them from the chain's ERP material receipt: the store sink's
write (VALUES and COPY), the rebuild's bulk load, and, for the rows stored before r0004, the
migration's backfill. A store filled at r0003 and migrated answers every trace and recall exactly
as a store written at r0004 does.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, inspect, select

from sinks.store import schema
from sinks.store.bulk_load import BulkLoader
from sinks.store.database import (
    WriteMethod,
    alembic_config,
    create_store_engine,
    migrate,
    open_store,
)
from sinks.store.queries import recall, trace
from sinks.store.readonly import SCHEMA_REVISION, schema_revision
from sinks.store.rows import ChainRows, chain_rows
from tests.unit.store_plant import plant

pytestmark = pytest.mark.integration

SUPPLIER = ("supplier_id", "supplier_lot")


def _expected(records: Sequence[dict[str, Any]]) -> dict[str, tuple[str | None, str | None]]:
    """Per batch code, the supplier and supplier lot of its chain's material receipt."""
    found = {}
    for record in records:
        receipt = record["material_receipt"] or {}
        found[record["batch_code"]] = (receipt.get("supplier_id"), receipt.get("supplier_lot"))
    return found


def _stored(engine: Engine) -> dict[str, tuple[str | None, str | None]]:
    b = schema.batches
    with engine.connect() as conn:
        rows = conn.execute(select(b.c.batch_code, b.c.supplier_id, b.c.supplier_lot))
        return {code: (supplier, lot) for code, supplier, lot in rows}


def _fill_at_r0003(engine: Engine, chains: Sequence[ChainRows]) -> None:
    """The rows the store kept before r0004: the batch rows without the supplier columns."""
    migrate(engine, "r0003")
    old = [
        {k: v for k, v in c.batch.items() if k not in SUPPLIER}
        | {"chain": json.loads(c.batch["chain"])}
        for c in chains
    ]
    with engine.begin() as conn:
        conn.execute(schema.batches.insert(), old)
        for table in schema.CHILD_TABLES:
            rows = [row for c in chains for row in c.children[table.name]]
            if rows:
                conn.execute(table.insert(), rows)


@pytest.mark.parametrize("method", ["values", "auto"])
def test_a_write_fills_the_supplier_columns(store_url: str, method: WriteMethod) -> None:
    records = plant()
    store = open_store(store_url, method)
    store.write([chain_rows(r) for r in records])
    assert _stored(store.engine) == _expected(records)
    assert ("SUP-1", "S-RM-SUGAR-L1") in _stored(store.engine).values()
    store.engine.dispose()


def test_the_rebuild_bulk_load_fills_the_supplier_columns(store_url: str) -> None:
    records = plant()
    loader = BulkLoader(open_store(store_url))
    loader.start()
    loader.write([chain_rows(r) for r in records])
    loader.finish()
    assert _stored(loader.store.engine) == _expected(records)
    loader.store.engine.dispose()


def test_the_migration_backfills_the_supplier_columns_of_stored_rows(store_url: str) -> None:
    records = plant()
    engine = create_store_engine(store_url)
    _fill_at_r0003(engine, [chain_rows(r) for r in records])
    assert "supplier_id" not in {c["name"] for c in inspect(engine).get_columns("batches")}
    migrate(engine)
    assert schema_revision(engine) == SCHEMA_REVISION
    assert _stored(engine) == _expected(records)
    engine.dispose()


def _answers(engine: Engine, codes: Sequence[str]) -> list[Any]:
    answers: list[Any] = []
    for code in codes:
        found = trace(engine, code)
        answers.append(found and dataclasses.replace(found, elapsed_ms=0.0))
        answers.append(dataclasses.replace(recall(engine, code), elapsed_ms=0.0))
    return answers


def test_a_migrated_store_answers_as_a_store_written_at_r0004(
    store_url: str, tmp_path: Path
) -> None:
    """Reference: a SQLite store written at the newest revision (same answers on both stores)."""
    records = plant()
    chains = [chain_rows(r) for r in records]
    migrated = create_store_engine(store_url)
    _fill_at_r0003(migrated, chains)
    migrate(migrated)
    fresh = open_store(f"sqlite:///{tmp_path / 'fresh.db'}")
    fresh.write(chains)
    codes = sorted({r["batch_code"] for r in records} | {"TC-FG-B1-0002", "DLV-2", "CMP-1"})
    assert _answers(migrated, codes) == _answers(fresh.engine, codes)
    migrated.dispose()
    fresh.engine.dispose()


def test_the_migration_goes_down_to_r0003_and_up_again(store_url: str) -> None:
    records = plant()
    engine = create_store_engine(store_url)
    _fill_at_r0003(engine, [chain_rows(r) for r in records])
    migrate(engine)
    with engine.begin() as conn:
        command.downgrade(alembic_config(conn), "r0003")
    columns = {c["name"] for c in inspect(engine).get_columns("batches")}
    assert columns.isdisjoint(SUPPLIER)
    migrate(engine)
    assert _stored(engine) == _expected(records)
    engine.dispose()
