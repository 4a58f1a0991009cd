"""The set-based statements of the store writers: their shape, chunking and row encoding."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import Boolean, Date, DateTime
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from sinks.store import schema
from sinks.store import statements as sql
from sinks.store.rows import chain_rows
from tests.unit.store_plant import chain


def test_multi_row_insert_has_one_marker_per_value() -> None:
    text = sql.insert_values("stock", ("batch_code", "location", "quantity"), 2, False)
    assert text == "INSERT INTO stock (batch_code, location, quantity) VALUES (?, ?, ?), (?, ?, ?)"
    numbered = sql.insert_values("stock", ("batch_code", "location"), 2, True, "RETURNING x")
    assert numbered.endswith("VALUES ($1, $2), ($3, $4) RETURNING x")


def test_the_batch_upsert_is_guarded_by_version_and_returns_the_winners() -> None:
    suffix = sql.batch_upsert_suffix()
    assert suffix.startswith("ON CONFLICT (batch_code) DO UPDATE SET version = excluded.version")
    assert "WHERE batches.version < excluded.version RETURNING batch_code" in suffix
    assert "batch_code = excluded" not in suffix  # the key itself is never updated


def test_statements_stay_within_the_parameter_limit_of_each_dialect() -> None:
    width = len(schema.batches.columns)
    for dialect, limit in ((sqlite.dialect(), 32_766), (postgresql.psycopg.dialect(), 65_535)):
        rows = sql.rows_per_statement(dialect, width)
        assert rows >= 1
        assert rows * width <= limit
    parts = list(sql.chunked(list(range(2_500)), 1_000))
    assert [len(p) for p in parts] == [1_000, 1_000, 500]
    assert sql.flat([(1, 2), (3, 4)]) == (1, 2, 3, 4)


def test_rows_are_encoded_as_the_column_types_bind_them_and_json_passes_as_text() -> None:
    row = {
        "batch_code": "B",
        "location": "WH",
        "quantity": Decimal("1.500"),
    }
    on_sqlite = sql.TableCodec.of(schema.stock, sqlite.dialect())
    assert on_sqlite.encode(row) == ("B", "WH", "1.500")  # exact: decimal text on SQLite
    on_pg = sql.TableCodec.of(schema.stock, postgresql.psycopg.dialect())
    assert on_pg.encode(row) == ("B", "WH", Decimal("1.500"))
    alert_codec = sql.TableCodec.of(schema.alerts, sqlite.dialect())
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    alert = dict.fromkeys(alert_codec.columns, "x") | {"occurred_at": moment, "stored_at": moment}
    encoded = dict(zip(alert_codec.columns, alert_codec.encode(alert), strict=True))
    assert encoded["occurred_at"] == "2026-01-02 03:04:05.000000"
    batch = chain_rows(chain("FG-1", product="P")).batch
    batch_codec = sql.TableCodec.of(schema.batches, sqlite.dialect())
    encoded = dict(zip(batch_codec.columns, batch_codec.encode(batch), strict=True))
    assert encoded["chain"] == batch["chain"]  # JSON text as it is, not encoded twice
    assert encoded["on_hold"] in (0, 1, False, True)


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.psycopg.dialect()])
def test_the_fast_binds_give_what_sqlalchemy_gives(dialect: Dialect) -> None:
    east = timezone(timedelta(hours=2))
    times = [datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(999, 1, 1, 0, 0, 0, 7, east)]
    samples: dict[type, list[object]] = {
        DateTime: [None, *times, date(2026, 3, 4)],
        schema.ExactDecimal: [None, Decimal("1.5"), Decimal("999999999999999.999"), 3, "4.25"],
        Date: [None, date(2026, 3, 4), date(999, 12, 31)],
        Boolean: [None, True, False, 1, 0],
    }
    checked = 0
    for table in schema.metadata.sorted_tables:
        for column in table.columns:
            slow = column.type.dialect_impl(dialect).bind_processor(dialect)
            fast = sql.fast_processor(column, dialect, slow) if slow else None
            if fast is None or fast is slow:
                continue
            kind = next(k for k in samples if isinstance(column.type, k))
            for value in samples[kind]:
                assert fast(value) == slow(value), (column, value)
            checked += 1
    assert checked >= (10 if dialect.name == "sqlite" else 5)  # the time, quantity, flag columns
