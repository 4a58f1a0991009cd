"""Table and file transports on real databases and real files: a notice written twice is one row.

The table target runs on SQLite and PostgreSQL (``store_url``: a fresh database each); the file
target writes JSON lines and CSV, survives a restart, and recovers from a crash between writing a
line and remembering it (the line is not written again) and from a torn last line.
"""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa

from sinks.targets.file_target import FileTarget
from sinks.targets.routing import Notice
from sinks.targets.table_target import TableTarget

pytestmark = pytest.mark.integration


def notice(key: str, batch: str = "B1", **payload: object) -> Notice:
    body = {"batch_code": batch, "quantity": "100.000", "failed": ["ph"]} | payload
    return Notice("route-a", "t", batch, f"fact-{key}", key, 4, body)


def test_table_target_inserts_once_per_idempotency_key(store_url: str, tmp_path: Path) -> None:
    target = TableTarget(
        "erp", {"transport": "table", "url": store_url, "table": "receipts"}, tmp_path
    )
    target.send(notice("k1"))
    target.send(notice("k1", quantity="999"))  # same key: nothing happens
    target.send(notice("k2", batch="B2"))
    target.close()
    engine = sa.create_engine(store_url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT idempotency_key, batch_code, payload FROM receipts ORDER BY 1")
        ).all()
    engine.dispose()
    assert [(r[0], r[1]) for r in rows] == [("k1", "B1"), ("k2", "B2")]
    assert orjson.loads(rows[0][2])["quantity"] == "100.000"
    reopened = TableTarget("erp", {"url": store_url, "table": "receipts"}, tmp_path)  # exists
    reopened.send(notice("k1"))
    reopened.close()


def test_table_target_default_is_a_sqlite_file_under_home(tmp_path: Path) -> None:
    target = TableTarget("erp", {}, tmp_path)
    target.send(notice("k1"))
    target.close()
    with sqlite3.connect(tmp_path / "targets" / "erp.db") as db:
        assert db.execute("SELECT count(*) FROM erp_notices").fetchone() == (1,)


def test_file_target_jsonl_dedupes_across_restarts_and_recovers_a_crash(tmp_path: Path) -> None:
    config = {"directory": "export", "format": "jsonl", "prefix": "qms"}
    target = FileTarget("qms", config, tmp_path)
    target.send(notice("k1"))
    target.send(notice("k1"))
    target.close()
    (path,) = (tmp_path / "export").glob("qms-*.jsonl")
    # A crash after the line was written but before the ledger knew it, then a torn line.
    with sqlite3.connect(tmp_path / "export" / ".qms-ledger.sqlite") as ledger:
        ledger.execute("DELETE FROM written")
    with path.open("a") as out:
        out.write('{"idempotency_key": "k9", "rou')
    again = FileTarget("qms", config, tmp_path)
    again.send(notice("k1"))
    again.send(notice("k9"))
    again.close()
    lines = [orjson.loads(line) for line in path.read_text().splitlines()]
    assert [line["idempotency_key"] for line in lines] == ["k1", "k9"]
    assert lines[0]["payload"]["failed"] == ["ph"] and lines[0]["chain_version"] == 4


def test_file_target_csv_has_a_header_and_one_row_per_key(tmp_path: Path) -> None:
    target = FileTarget("qms", {"format": "csv"}, tmp_path)
    for key in ("k1", "k2", "k1"):
        target.send(notice(key))
    target.close()
    (path,) = (tmp_path / "targets" / "qms").glob("qms-*.csv")
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [row["idempotency_key"] for row in rows] == ["k1", "k2"]
    assert rows[0]["failed"] == '["ph"]' and rows[0]["quantity"] == "100.000"
    reopened = FileTarget("qms", {"format": "csv"}, tmp_path)
    reopened.send(notice("k2"))
    reopened.close()
    assert len(path.read_text().splitlines()) == 3  # header + two rows
