"""``tracesync serve``: the /v1 API and the console over the hand-built plant, on SQLite and
PostgreSQL, through FastAPI's TestClient (the real app, the real store)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from sinks.store.database import TraceStore, open_store
from sinks.store.queries import recall, trace
from sinks.store.report import report_dict
from sinks.store.rows import chain_rows
from tests.console_server import demo_serve
from tests.unit.simulated_chains import ancestors, as_stored, simulated_run
from tests.unit.store_plant import plant
from tracesync.devtools.simulator.scenario import Simulation
from tracesync.settings import ServeSettings, Settings

VIEWER = {"X-API-Key": "dev-viewer-key"}
COMPLIANCE = {"X-API-Key": "dev-compliance-key"}


@pytest.fixture
def store(store_url: str) -> Iterator[TraceStore]:
    store = open_store(store_url)
    store.write([chain_rows(r) for r in plant()])
    try:
        yield store
    finally:
        store.engine.dispose()


@pytest.fixture
def client(store: TraceStore) -> Iterator[TestClient]:
    with TestClient(
        create_app(store.engine, Settings(serve=ServeSettings(page_limit=3)).serve)
    ) as client:
        yield client


def test_the_api_answers_a_trace_code_with_the_same_facts_as_the_cli(
    client: TestClient, store: TraceStore
) -> None:
    answer = client.get("/v1/trace/TC-FG-B1-0002", headers=VIEWER)
    # what `tracesync trace --json` prints: report_dict of the same query
    expected = report_dict(trace(store.engine, "TC-FG-B1-0002"))

    assert answer.status_code == 200, answer.text
    got = answer.json()
    assert (
        got["query"]
        == expected["query"]
        == {
            "code": "TC-FG-B1-0002",
            "kind": "trace_code",
            "batch_codes": ["FG-B1"],
        }
    )
    assert got["traces"] == expected["traces"]


def test_a_batch_has_its_chain_stock_and_upstream(client: TestClient) -> None:
    answer = client.get("/v1/batches/FG-B1", headers=VIEWER).json()

    assert answer["batch"]["batch_code"] == "FG-B1"
    assert [p["equipment_id"] for p in answer["batch"]["parameters_out_of_limit"]] == ["OVEN-1"]
    assert [h["hold_id"] for h in answer["batch"]["holds"]] == ["H-1"]
    assert {s["location"] for s in answer["stock"]} == {"WH-A", "WH-B"}
    assert "RM-SUGAR-L1" in answer["raw_materials"]


def test_a_recall_reaches_batches_and_customers(client: TestClient, store: TraceStore) -> None:
    answer = client.get("/v1/recall/RM-SALT-L1", headers=VIEWER).json()
    expected = report_dict(recall(store.engine, "RM-SALT-L1"))

    assert {link["code"] for link in answer["downstream"]} == {"FILL-B1", "FG-B1", "FG-B2"}
    assert answer["downstream"] == expected["downstream"]
    assert answer["customers"] == expected["customers"] == ["CUST-A", "CUST-B"]


@pytest.mark.parametrize("path", ["/v1/batches/NOPE-1", "/v1/trace/NOPE-1", "/v1/recall/NOPE-1"])
def test_an_unknown_code_is_404_naming_it(client: TestClient, path: str) -> None:
    answer = client.get(path, headers=VIEWER)

    assert answer.status_code == 404
    assert "NOPE-1" in answer.json()["detail"]


def test_keys_and_roles_are_checked(client: TestClient) -> None:
    missing = client.get("/v1/holds")
    wrong = client.get("/v1/holds", headers={"X-API-Key": "guess"})
    viewer_export = client.get("/v1/exports/fsma204?format=csv", headers=VIEWER)

    assert (missing.status_code, wrong.status_code, viewer_export.status_code) == (401, 401, 403)
    assert "missing API key" in missing.json()["detail"]
    assert "unknown API key" in wrong.json()["detail"]
    assert "'viewer'" in viewer_export.json()["detail"]


def test_lists_are_paged(client: TestClient) -> None:
    first = client.get("/v1/reconciliation", headers=VIEWER).json()
    rest = client.get("/v1/reconciliation?offset=3&limit=100", headers=VIEWER).json()
    holds = client.get("/v1/holds?active=true", headers=VIEWER).json()

    assert first["total"] == rest["total"] == len(plant())
    assert len(first["items"]) == 3
    codes = [i["batch_code"] for i in first["items"] + rest["items"]]
    assert codes == sorted({r["batch_code"] for r in plant()})
    assert holds["total"] >= 1
    assert all(h["active"] for h in holds["items"])
    assert client.get("/v1/alerts", headers=VIEWER).json()["items"] == []


def test_compliance_downloads_the_exports_and_the_report(client: TestClient) -> None:
    fsma = client.get("/v1/exports/fsma204?format=csv", headers=COMPLIANCE)
    epcis = client.get("/v1/exports/epcis?code=FG-B1", headers=COMPLIANCE)
    report = client.get("/v1/reports/CMP-1.html", headers=COMPLIANCE)
    unknown = client.get("/v1/reports/NOPE-1.html", headers=COMPLIANCE)

    assert fsma.status_code == 200, fsma.text
    assert "attachment" in fsma.headers["content-disposition"]
    assert "FG-B1" in fsma.text
    assert epcis.status_code == 200, epcis.text
    assert epcis.json()["type"] == "EPCISDocument"
    assert report.status_code == 200, report.text
    assert "FG-B1" in report.text
    assert unknown.status_code == 404
    assert "NOPE-1" in unknown.json()["detail"]


def test_the_console_logs_in_searches_and_draws_a_clickable_genealogy(client: TestClient) -> None:
    refused = client.post("/login", content="key=guess")
    assert refused.status_code == 401
    assert "unknown API key" in refused.text
    assert client.get("/").status_code == 401

    logged = client.post("/login", content="key=dev-viewer-key", follow_redirects=False)
    assert logged.status_code == 303
    found = client.get("/search?q=TC-FG-B1-0002")
    assert found.url.path == "/batch/FG-B1"
    assert 'href="/batch/RM-SUGAR-L1"' in found.text
    assert "out of limit" in found.text
    recall = client.get("/recall/RM-SALT-L1")
    csv_list = client.get("/recall/RM-SALT-L1/csv")
    assert "FG-B2" in recall.text
    assert csv_list.headers["content-type"].startswith("text/csv")
    assert "shipment,FG-B1" in csv_list.text


# -- the facts a quality engineer needs, on a simulated run, in the plant's time zone ----------

_OFFSET = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?([+-]\d\d:\d\d)?")


@pytest.fixture
def simulated(store_url: str) -> Iterator[tuple[Simulation, TestClient]]:
    sim, run = simulated_run()
    store = open_store(store_url)
    store.write([chain_rows(r) for r in as_stored(run.chains)])
    app = create_app(store.engine, demo_serve(), time_zone="Asia/Shanghai")
    try:
        with TestClient(app) as client:
            yield sim, client
    finally:
        store.engine.dispose()


def _offsets(text: str) -> set[str | None]:
    return {m.group(1) for m in _OFFSET.finditer(text)}


def test_the_api_gives_upstream_facts_reconciliation_and_zoned_times(
    simulated: tuple[Simulation, TestClient],
) -> None:
    sim, client = simulated
    oracle = sim.oracle
    finished = sorted(c.code for c in oracle.chains.values() if c.kind == "finished")
    for code in finished:
        answer = client.get(f"/v1/trace/{code}", headers=VIEWER)
        assert answer.status_code == 200, answer.text
        (one,) = answer.json()["traces"]
        lots = {lot["code"]: lot for lot in one["upstream_lots"]}
        assert set(lots) == ancestors(oracle, code)
        for lot_code, lot in lots.items():
            expected = oracle.chains[lot_code]
            assert (lot["supplier_id"], lot["supplier_lot"]) == (
                expected.supplier_id,
                expected.supplier_lot,
            )
            got = tuple(sorted((i["inspection_id"], i["verdict"]) for i in lot["inspections"]))
            assert got == expected.inspections
        assert _offsets(answer.text) == {"+08:00"}
    mismatches = client.get("/v1/reconciliation?status=MISMATCH&limit=1000", headers=VIEWER)
    items = mismatches.json()["items"]
    expected_mismatches = {
        code: r for code, r in oracle.discrepancies().items() if r.status == "MISMATCH"
    }
    assert {i["batch_code"] for i in items} == set(expected_mismatches)
    for item in items:
        want = expected_mismatches[item["batch_code"]]
        mes, wms, erp = want.mes_quantity, want.wms_quantity, want.erp_quantity
        assert item["mes_quantity"] == str(mes)
        assert item["wms_delta"] == str(wms - mes) and item["erp_delta"] == str(erp - mes)
    holds = client.get("/v1/holds?limit=1000", headers=VIEWER)
    assert holds.json()["items"] and _offsets(holds.text) == {"+08:00"}


def test_the_console_batch_page_shows_upstream_suppliers_quality_and_holds(
    simulated: tuple[Simulation, TestClient],
) -> None:
    sim, client = simulated
    oracle = sim.oracle
    held = next(
        c
        for c in sorted(oracle.chains.values(), key=lambda c: c.code)
        if c.kind == "finished" and c.inherited_active_holds
    )
    raw = sorted(a for a in ancestors(oracle, held.code) if oracle.chains[a].kind == "raw")[0]
    client.post("/login", content="key=dev-viewer-key")

    page = client.get(f"/batch/{held.code}")

    assert page.status_code == 200, page.text
    upstream = page.text.split('id="upstream-lots"')[1].split("</table>")[0]
    supplier = oracle.chains[raw]
    assert f"supplier {supplier.supplier_id}, supplier lot {supplier.supplier_lot}" in upstream
    for hold_id, origin in held.inherited_active_holds:
        assert hold_id in upstream and origin in upstream
    assert held.reconciliation.status in page.text
    assert f"MES {held.reconciliation.mes_quantity}" in page.text
    assert "times in Asia/Shanghai" in page.text
    assert _offsets(page.text) == {"+08:00"}
    recalled = client.get(f"/recall/{raw}")
    assert (
        f"received from supplier {supplier.supplier_id}, supplier lot {supplier.supplier_lot}"
        in (recalled.text)
    )
