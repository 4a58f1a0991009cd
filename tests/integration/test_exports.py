"""Compliance exports on a real trace store (SQLite and PostgreSQL): FSMA 204 spreadsheet, EPCIS
2.0 against GS1's schema, the trace report as HTML and PDF (read back with poppler-utils), and
GS1 Digital Link codes resolving to their batch.

GS1's schema and examples are read from ``<repo>/../shared/standards/epcis-2.0`` (CI clones the
repository with ``shared/`` beside it; ``TRACESYNC_SHARED_DIR`` points elsewhere for a worktree).
A missing file fails the test.
"""

from __future__ import annotations

import csv
import json
import os
import subprocess
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select

from sinks.exports.epcis_export import write_epcis
from sinks.exports.epcis_schema import load_validator, problems
from sinks.exports.fsma204 import CTE_HEADER, GENEALOGY_HEADER, write_fsma204
from sinks.exports.report import write_report
from sinks.exports.resolve import UnknownCodeError, store_code
from sinks.exports.store_reads import Window
from sinks.store import schema as s
from sinks.store.database import open_store
from sinks.store.rows import chain_rows
from tracesync.devtools.synthetic import synthetic_records
from tracesync.gs1.digital_link import Gs1SyntaxError
from tracesync.gs1.identifiers import Identifiers, MasterData

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("TRACESYNC_SHARED_DIR", REPO.parent / "shared"))
EPCIS_DIR = SHARED / "standards" / "epcis-2.0"
GTIN = "09506000134352"
MASTER = MasterData.from_file(None, gtins={"FG-PROD-17": GTIN}, glns={"P1": "9506000000015"})


FEATURED = "FG-0000007"


def _featured(record: dict[str, Any]) -> dict[str, Any]:
    """The featured batch gets an out-of-limit oven reading and an active hold of its own."""
    if record["batch_code"] != FEATURED:
        return record
    reading = record["parameters"][0] | {"value": 251.5, "out_of_limit": True}
    hold = {
        "hold_id": "H-OVEN",
        "origin_code": FEATURED,
        "reason": "oven over temperature",
        "active": True,
        "inherited": False,
        "changed_at": reading["recorded_at"],
        "disposition": None,
    }
    return record | {"parameters": [reading], "holds": [hold]}


@pytest.fixture
def engine(store_url: str) -> Engine:
    store = open_store(store_url)
    store.write([chain_rows(_featured(r)) for r in synthetic_records(300, seed=3)])
    return store.engine


def _count(engine: Engine, query: object) -> int:
    with engine.connect() as conn:
        return int(conn.execute(query).scalar_one())  # type: ignore[call-overload]


def test_fsma204_has_one_row_per_cte_typed_and_the_genealogy(
    engine: Engine, tmp_path: Path
) -> None:
    out = tmp_path / "fsma.xlsx"
    result = write_fsma204(engine, Window(), out)
    b = s.batches
    receiving = _count(engine, select(func.count()).where(b.c.material_code.is_not(None)))
    made = _count(engine, select(func.count()).where(b.c.order_id.is_not(None)))
    shipped = _count(engine, select(func.count()).select_from(s.shipments))
    edges = _count(engine, select(func.count()).select_from(s.genealogy_edges))
    assert result.events == receiving + made + shipped
    assert result.genealogy_rows == edges
    book = load_workbook(out, read_only=False)
    ctes, tree = book["Critical tracking events"], book["Lot genealogy"]
    assert [c.value for c in ctes[1]] == list(CTE_HEADER)
    assert [c.value for c in tree[1]] == list(GENEALOGY_HEADER)
    assert ctes.freeze_panes == "A2" and ctes.auto_filter.ref
    rows = list(ctes.iter_rows(min_row=2, values_only=True))
    assert len(rows) == result.events
    kinds = {r[0] for r in rows}
    assert kinds == {"Receiving", "Transformation", "Shipping"}
    assert all(isinstance(r[1], datetime) and isinstance(r[5], float | int) for r in rows)
    made_row = next(r for r in rows if r[0] == "Transformation")
    assert made_row[12] and made_row[13]  # production order, input lots with quantities
    ship_row = next(r for r in rows if r[0] == "Shipping")
    assert ship_row[12].startswith("DLV-") and ship_row[9]
    assert len(list(tree.iter_rows(min_row=2))) == edges


def test_fsma204_window_product_and_lot_filters(engine: Engine, tmp_path: Path) -> None:
    everything = write_fsma204(engine, Window(), tmp_path / "all.csv", "csv")
    day = write_fsma204(
        engine, Window(date(2026, 1, 1), date(2026, 1, 1)), tmp_path / "day.csv", "csv"
    )
    assert 0 < day.events < everything.events
    with (tmp_path / "day.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert all(r["Event date (UTC)"].startswith("2026-01-01") for r in rows)
    assert (tmp_path / "day.genealogy.csv").exists()
    write_fsma204(engine, Window(lot="RM-0000001"), tmp_path / "lot.csv", "csv")
    with (tmp_path / "lot.csv").open() as handle:
        lot_rows = list(csv.DictReader(handle))
    assert any(r["Internal lot code"] == "RM-0000001" for r in lot_rows)
    consumers = {r["Internal lot code"] for r in lot_rows} - {"RM-0000001"}
    assert consumers and all(
        "RM-0000001" in r["Input lots used (internal code: quantity unit)"]
        for r in lot_rows
        if r["Critical tracking event"] == "Transformation"
    )
    product = write_fsma204(engine, Window(product="FG-PROD-7"), tmp_path / "p.csv", "csv")
    assert 0 < product.events < everything.events


def test_the_gs1_examples_validate_and_a_broken_document_does_not() -> None:
    validator = load_validator(EPCIS_DIR / "EPCIS-JSON-Schema.json")
    for name in ("Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.4-TransformationEvent.jsonld"):
        example = json.loads((EPCIS_DIR / name).read_text())
        assert problems(validator, example) == [], name
    example = json.loads((EPCIS_DIR / "Example_9.6.1-ObjectEvent.jsonld").read_text())
    example["epcisBody"]["eventList"][0]["readPoint"]["id"] = "not a uri"
    example["epcisBody"]["eventList"][1]["eventTime"] = "yesterday"
    found = problems(validator, example)
    assert any("readPoint" in p for p in found) and any("eventTime" in p for p in found)


@pytest.mark.parametrize("master", [None, MASTER], ids=["private-urns", "digital-link"])
def test_every_epcis_document_validates(
    engine: Engine, tmp_path: Path, master: MasterData | None
) -> None:
    validator = load_validator(EPCIS_DIR / "EPCIS-JSON-Schema.json")
    ids = Identifiers(master)
    whole, one = tmp_path / "all.jsonld", tmp_path / "one.jsonld"
    count = write_epcis(engine, whole, ids, Window())
    document = json.loads(whole.read_bytes())
    assert problems(validator, document) == []
    events = document["epcisBody"]["eventList"]
    assert len(events) == count
    assert {e["type"] for e in events} == {"ObjectEvent", "TransformationEvent"}
    assert {e.get("bizStep") for e in events} >= {"receiving", "commissioning", "shipping"}
    assert all(e["eventID"].startswith("ni:///sha-256;") for e in events)
    assert len({e["eventID"] for e in events}) == len(events)
    write_epcis(engine, one, ids, Window(), ["TC-FG-0000007-1"])
    single = json.loads(one.read_bytes())
    assert problems(validator, single) == []
    classes = json.dumps(single)
    assert "FG-0000007" in classes and 0 < len(single["epcisBody"]["eventList"]) < count
    if master is not None:
        assert f"https://id.gs1.org/01/{GTIN}/10/FG-0000007" in classes


def test_the_trace_report_as_html_and_pdf(engine: Engine, tmp_path: Path) -> None:
    code = FEATURED
    html = tmp_path / "report.html"
    write_report(engine, code, html, "html")
    page = html.read_text()
    for section in (
        "Production",
        "Quality",
        "Genealogy",
        "Stock and shipments",
        "Reconciliation",
        "Data currency",
        "<svg",
        "OUT OF LIMIT",
    ):
        assert section in page, section
    pdf = tmp_path / "report.pdf"
    data = write_report(
        engine, f"https://id.gs1.org/01/{GTIN}/21/TC-{code}-0", pdf, "pdf", master=MASTER
    )
    assert [b.code for b in data.batches] == [code]
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert f"Batch {code}" in text and "OUT OF LIMIT" in text and "Reconciliation" in text
    assert "ON HOLD" in text and "oven over temperature" in text
    upstream = data.batches[0].upstream
    assert upstream and upstream[0].code in text
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(pdf), str(tmp_path / "page")],
        check=True,
    )
    png = next(tmp_path.glob("page*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000


def test_gs1_codes_resolve_to_their_batch_and_bad_ones_say_why(engine: Engine) -> None:
    with engine.connect() as conn:
        unit = f"https://id.gs1.org/01/{GTIN}/10/FG-0000007/21/TC-FG-0000007-2"
        assert store_code(conn, unit, MASTER) == "TC-FG-0000007-2"
        assert store_code(conn, f"(01){GTIN}(10)FG-0000007", MASTER) == "FG-0000007"
        assert store_code(conn, "FG-0000007", MASTER) == "FG-0000007"
        with pytest.raises(UnknownCodeError, match="belongs to batch 'FG-0000007'"):
            store_code(conn, f"(01){GTIN}(10)FG-0000008(21)TC-FG-0000007-2", MASTER)
        with pytest.raises(UnknownCodeError, match="is not the GTIN"):
            store_code(conn, "(01)09506000134369(10)FG-0000007", MASTER)
        with pytest.raises(UnknownCodeError, match="not in the trace store"):
            store_code(conn, f"(01){GTIN}(10)NOPE", MASTER)
        with pytest.raises(Gs1SyntaxError, match="check digit"):
            store_code(conn, "https://id.gs1.org/01/09506000134353/10/FG-0000007", MASTER)
