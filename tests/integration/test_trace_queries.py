"""Trace and recall on a hand-built 4-level plant, on SQLite and PostgreSQL, and through the CLI;
and the facts a quality engineer needs (suppliers, upstream quality and holds, reconciliation
quantities and deltas, times with their offset) on a simulated run, checked against its oracle."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect

from sinks.store.database import TraceStore, create_store_engine, open_store
from sinks.store.lot_facts import LotFacts
from sinks.store.queries import recall, trace
from sinks.store.rows import chain_rows
from tests.unit.simulated_chains import (
    ancestors,
    as_stored,
    failed_characteristics,
    simulated_run,
)
from tests.unit.store_plant import chain, plant
from tracesync.cli import main
from tracesync.devtools.simulator.scenario import Simulation


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


# -- the facts a quality engineer needs, on a simulated run checked against the oracle ----------


@pytest.fixture
def simulated_store(store_url: str) -> Iterator[tuple[Simulation, TraceStore]]:
    sim, run = simulated_run()
    store = open_store(store_url)
    store.write([chain_rows(r) for r in as_stored(run.chains)])
    try:
        yield sim, store
    finally:
        store.engine.dispose()


def _active_holds(lot: LotFacts) -> tuple[set[str], set[tuple[str, str]]]:
    active = [h for h in lot.holds if h["active"]]
    own = {h["hold_id"] for h in active if not h["inherited"]}
    return own, {(h["hold_id"], h["origin_code"]) for h in active if h["inherited"]}


def test_a_backward_trace_gives_supplier_quality_and_holds_of_every_upstream_lot(
    simulated_store: tuple[Simulation, TraceStore],
) -> None:
    sim, store = simulated_store
    oracle, failed = sim.oracle, failed_characteristics(sim)
    finished = sorted(c.code for c in oracle.chains.values() if c.kind == "finished")
    seen = {"lots": 0, "suppliers": 0, "inspections": 0, "holds": 0}
    for code in finished:
        report = trace(store.engine, code)
        assert report is not None
        (one,) = report.traces
        lots = {lot.code: lot for lot in one.upstream_lots}
        assert set(lots) == ancestors(oracle, code) & set(oracle.chains), code
        for lot_code, lot in lots.items():
            expected = oracle.chains[lot_code]
            assert (lot.supplier_id, lot.supplier_lot) == (
                expected.supplier_id,
                expected.supplier_lot,
            )
            assert tuple(sorted((i["inspection_id"], i["verdict"]) for i in lot.inspections)) == (
                expected.inspections
            )
            for i in lot.inspections:
                assert i["failed_characteristics"] == failed[i["inspection_id"]]
                assert i["recorded_at"].tzinfo is not None
            own, inherited = _active_holds(lot)
            assert own == set(expected.own_active_holds), lot_code
            assert inherited == set(expected.inherited_active_holds), lot_code
            seen["lots"] += 1
            seen["suppliers"] += lot.supplier_id is not None
            seen["inspections"] += len(lot.inspections)
            seen["holds"] += len(own) + len(inherited)
    assert all(count > 0 for count in seen.values()), seen


def test_every_batch_has_its_reconciliation_quantities_and_deltas(
    simulated_store: tuple[Simulation, TraceStore],
) -> None:
    sim, store = simulated_store
    statuses = set()
    for code, expected in sim.oracle.chains.items():
        report = trace(store.engine, code)
        assert report is not None
        rec = report.traces[0].batch.reconciliation
        want = expected.reconciliation
        assert (rec.status, rec.mes_quantity, rec.wms_quantity, rec.erp_quantity) == (
            want.status,
            want.mes_quantity,
            want.wms_quantity,
            want.erp_quantity,
        ), code
        assert set(rec.missing) == set(want.missing)
        for quantity, delta in (
            (rec.wms_quantity, rec.wms_delta),
            (rec.erp_quantity, rec.erp_delta),
        ):
            mes = rec.mes_quantity
            assert delta == (None if quantity is None or mes is None else quantity - mes), code
        statuses.add(rec.status)
    assert {"MATCHED", "MISMATCH", "MISSING_SIDE"} <= statuses


def test_a_recall_of_a_raw_lot_names_its_supplier_and_supplier_lot(
    simulated_store: tuple[Simulation, TraceStore],
) -> None:
    sim, store = simulated_store
    for expected in (c for c in sim.oracle.chains.values() if c.kind == "raw"):
        report = recall(store.engine, expected.code)
        assert report.lot_detail is not None
        detail = report.lot_detail
        assert (detail.supplier_id, detail.supplier_lot) == (
            expected.supplier_id,
            expected.supplier_lot,
        )
        assert expected.supplier_lot is not None


_TIME = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?([+-]\d\d:\d\d)?")


def test_the_cli_shows_every_time_in_the_plant_zone_with_its_offset(
    simulated_store: tuple[Simulation, TraceStore], store_url: str
) -> None:
    sim, _ = simulated_store
    finished = min(c.code for c in sim.oracle.chains.values() if c.kind == "finished")
    raw = min(c.code for c in sim.oracle.chains.values() if c.kind == "raw")
    runner = CliRunner()
    zone = ["--time-zone", "Asia/Shanghai", "--store-url", store_url]
    text = runner.invoke(main, ["trace", finished, *zone])
    as_json = runner.invoke(main, ["trace", finished, "--json", *zone])
    recalled = runner.invoke(main, ["recall", raw, *zone])
    for done in (text, as_json, recalled):
        assert done.exit_code == 0, done.output
        offsets = [m.group(1) for m in _TIME.finditer(done.output)]
        assert offsets and set(offsets) == {"+08:00"}, done.output
    assert "times in Asia/Shanghai, with the UTC offset" in text.output
    assert "upstream quality, holds and suppliers:" in text.output
    assert f"received     supplier {sim.oracle.chains[raw].supplier_id}" in recalled.output
    bad = runner.invoke(main, ["trace", finished, "--time-zone", "Mars/Olympus"])
    assert bad.exit_code == 2 and "Mars/Olympus" in bad.output
