"""Trace and recall on a hand-built 4-level plant, on SQLite and PostgreSQL, and through the CLI."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from sinks.store.database import TraceStore, create_store_engine, open_store
from sinks.store.queries import recall, trace
from sinks.store.rows import chain_rows
from tests.unit.store_plant import chain, plant
from tracesync.cli import main


@pytest.fixture
def plant_store(store_url: str) -> TraceStore:
    store = open_store(store_url)
    store.write([chain_rows(r) for r in plant()])
    return store


FG_B1_UPSTREAM = {
    ("DOUGH-B1", 1, "FG-B1"),
    ("FILL-B1", 1, "FG-B1"),
    ("RM-FLOUR-L1", 2, "DOUGH-B1"),
    ("RM-YEAST-L1", 2, "DOUGH-B1"),
    ("SYRUP-B1", 2, "FILL-B1"),
    ("RM-SALT-L1", 2, "FILL-B1"),
    ("RM-SUGAR-L1", 3, "SYRUP-B1"),
}


def test_backward_trace_of_a_batch_reaches_every_raw_material(plant_store: TraceStore) -> None:
    report = trace(plant_store.engine, "FG-B1")
    assert report is not None
    assert report.query.kind == "batch"
    (one,) = report.traces
    assert {(link.code, link.level, link.via) for link in one.upstream} == FG_B1_UPSTREAM
    assert one.raw_materials == ("RM-FLOUR-L1", "RM-SALT-L1", "RM-SUGAR-L1", "RM-YEAST-L1")
    sugar = next(link for link in one.upstream if link.code == "RM-SUGAR-L1")
    assert (sugar.material_code, sugar.lot_material, sugar.stored) == ("SUGAR", "SUGAR", True)
    batch = one.batch
    assert (batch.order_id, batch.line_id, batch.shift, batch.team) == ("PO-FG-B1", "L2", "A", "T1")
    assert batch.equipment == ("MIX-1", "OVEN-1")
    assert [p["equipment_id"] for p in batch.parameters_out_of_limit] == ["OVEN-1"]
    assert [h["hold_id"] for h in batch.holds] == ["H-1"]
    assert [i["verdict"] for i in batch.inspections] == ["PASS"]
    assert not one.depth_limited


@pytest.mark.parametrize(
    ("code", "kind", "batches"),
    [
        ("TC-FG-B1-0002", "trace_code", ("FG-B1",)),
        ("CMP-1", "complaint", ("FG-B1",)),
        ("DLV-2", "delivery", ("FG-B1", "FG-B2")),
        ("DLV-3", "delivery", ("FG-B3",)),
    ],
)
def test_trace_by_trace_code_complaint_and_delivery(
    plant_store: TraceStore, code: str, kind: str, batches: tuple[str, ...]
) -> None:
    report = trace(plant_store.engine, code)
    assert report is not None
    assert (report.query.kind, report.query.batch_codes) == (kind, batches)
    assert tuple(t.batch.batch_code for t in report.traces) == batches


def test_trace_of_a_shared_delivery_gives_each_batch_its_own_genealogy(
    plant_store: TraceStore,
) -> None:
    report = trace(plant_store.engine, "DLV-2")
    assert report is not None
    by_batch = {t.batch.batch_code: t for t in report.traces}
    assert {(x.code, x.level, x.via) for x in by_batch["FG-B1"].upstream} == FG_B1_UPSTREAM
    assert {(x.code, x.level) for x in by_batch["FG-B2"].upstream} == {
        ("DOUGH-B1", 1),
        ("RM-SALT-L1", 1),
        ("RM-FLOUR-L1", 2),
        ("RM-YEAST-L1", 2),
    }


def test_recall_of_a_raw_lot_finds_every_downstream_batch_stock_and_customer(
    plant_store: TraceStore,
) -> None:
    report = recall(plant_store.engine, "RM-SUGAR-L1")
    assert {(x.code, x.level, x.via) for x in report.downstream} == {
        ("SYRUP-B1", 1, "RM-SUGAR-L1"),
        ("FILL-B1", 2, "SYRUP-B1"),
        ("FG-B1", 3, "FILL-B1"),
    }
    assert {(s["batch_code"], s["location"], str(s["quantity"])) for s in report.stock} == {
        ("RM-SUGAR-L1", "RM-STORE", "500.000"),
        ("FILL-B1", "WIP-2", "10.000"),
        ("FG-B1", "WH-A", "40.000"),
        ("FG-B1", "WH-B", "10.000"),
    }
    assert report.customers == ("CUST-A", "CUST-B")
    assert report.deliveries == ("DLV-1", "DLV-2")
    assert report.lot_detail is not None and report.lot_detail.material_code == "SUGAR"


def test_recall_of_a_shared_lot_reaches_both_finished_batches(plant_store: TraceStore) -> None:
    report = recall(plant_store.engine, "RM-SALT-L1")
    levels = {x.code: x.level for x in report.downstream}
    assert levels == {"FILL-B1": 1, "FG-B2": 1, "FG-B1": 2}
    assert {(s["delivery_id"], s["batch_code"]) for s in report.shipments} == {
        ("DLV-1", "FG-B1"),
        ("DLV-2", "FG-B1"),
        ("DLV-2", "FG-B2"),
    }
    assert "CUST-C" not in report.customers


def test_a_genealogy_cycle_stops_at_the_depth_limit(store_url: str) -> None:
    store = open_store(store_url)
    store.write(
        [
            chain_rows(chain("CY-A", product="X", consumes=[("CY-B", "X", "1")])),
            chain_rows(chain("CY-B", product="X", consumes=[("CY-A", "X", "1")])),
        ]
    )
    report = trace(store.engine, "CY-A", max_depth=10)
    assert report is not None
    (one,) = report.traces
    assert one.depth_limited
    assert {(x.code, x.level) for x in one.upstream} == {("CY-B", 1), ("CY-A", 2)}
    assert recall(store.engine, "CY-A", max_depth=10).depth_limited


def test_unknown_codes(plant_store: TraceStore) -> None:
    assert trace(plant_store.engine, "NOPE") is None
    assert not recall(plant_store.engine, "NOPE").found


def test_cli_trace_and_recall_text_and_json(plant_store: TraceStore, store_url: str) -> None:
    runner = CliRunner()
    text = runner.invoke(main, ["trace", "CMP-1", "--store-url", store_url])
    assert text.exit_code == 0, text.output
    assert "trace CMP-1 (complaint) -> FG-B1" in text.output
    assert "OUT OF LIMIT OVEN-1 temperature" in text.output
    assert "query time" in text.output
    as_json = runner.invoke(main, ["recall", "RM-FLOUR-L1", "--json", "--store-url", store_url])
    assert as_json.exit_code == 0, as_json.output
    data = json.loads(as_json.output)
    assert {d["code"] for d in data["downstream"]} == {"DOUGH-B1", "FG-B1", "FG-B2"}
    assert data["customers"] == ["CUST-A", "CUST-B"]
    missing = runner.invoke(main, ["trace", "NOPE", "--store-url", store_url])
    assert missing.exit_code != 0


CLI = Path(sys.executable).with_name("tracesync")


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed CLI in its own process, so its real stderr is seen."""
    return subprocess.run(
        [str(CLI), *args], capture_output=True, text=True, timeout=120, check=False
    )


def test_cli_prints_only_the_answer(plant_store: TraceStore, store_url: str) -> None:
    traced = run_cli("trace", "CMP-1", "--store-url", store_url)
    recalled = run_cli("recall", "RM-FLOUR-L1", "--store-url", store_url)

    assert traced.returncode == 0, traced.stderr
    assert traced.stdout.startswith("trace CMP-1 (complaint) -> FG-B1")
    assert traced.stderr == ""
    assert recalled.returncode == 0, recalled.stderr
    assert "RM-FLOUR-L1" in recalled.stdout
    assert recalled.stderr == ""


def test_cli_query_loads_no_alembic(plant_store: TraceStore, store_url: str) -> None:
    body = (
        "import json, sys\n"
        "from tracesync.cli import main\n"
        "try:\n"
        f"    main(['trace', 'FG-B1', '--store-url', {store_url!r}])\n"
        "except SystemExit as done:\n"
        "    assert done.code == 0, done.code\n"
        "print(json.dumps(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", body], capture_output=True, text=True, timeout=120, check=False
    )

    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.splitlines()[-1])
    assert [name for name in loaded if name.split(".")[0] == "alembic"] == []


def test_cli_query_refuses_a_store_without_schema_and_creates_none(store_url: str) -> None:
    done = run_cli("trace", "FG-B1", "--store-url", store_url)

    assert done.returncode == 1
    assert "no schema" in done.stderr or "no trace store" in done.stderr
    assert "tracesync store migrate" in done.stderr
    engine = create_store_engine(store_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()


def test_cli_query_names_a_missing_sqlite_file_without_creating_it(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "trace.db"

    done = run_cli("recall", "RM-1", "--store-url", f"sqlite:///{missing}")

    assert done.returncode == 1
    assert f"no trace store at {missing}" in done.stderr
    assert not missing.exists()
