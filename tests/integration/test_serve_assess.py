"""The console's assessment page and ``POST /v1/assess`` through the real app (FastAPI's
TestClient): a filled form gives the same assessment as ``tracesync assess``, bad fields are named
inline with their paths, and the sheet and the emitted configuration download and load."""

from __future__ import annotations

import html
import io
import re
import tomllib
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook

from producers.mapping import load_mapping
from serve.app import create_app
from serve.assess_form import form_values
from sinks.store.database import open_store
from sinks.targets.config import load_routes
from tests.console_server import demo_serve
from tracesync.assess.assessment import assess
from tracesync.assess.edges import EdgeTimings
from tracesync.assess.loader import load_inventory
from tracesync.assess.report import assessment_dict, assessment_text

EXAMPLES = Path(__file__).parents[2] / "deploy" / "assess"
FORM = {"content-type": "application/x-www-form-urlencoded"}
VIEWER = {"X-API-Key": "dev-viewer-key"}
TIMINGS = EdgeTimings(db_poll_s=2.0, files_poll_s=3.0, files_settle_s=4.0)


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    app = create_app(store.engine, demo_serve(), assess_timings=TIMINGS)
    try:
        with TestClient(app) as client:
            yield client
    finally:
        store.engine.dispose()


def _pairs(values: dict[str, Any]) -> list[tuple[str, str]]:
    """Form values as a browser posts them (checked boxes only, one pair per chosen option)."""
    pairs: list[tuple[str, str]] = []
    for name, value in values.items():
        if isinstance(value, bool):
            pairs += [(name, "true")] if value else []
        elif isinstance(value, list):
            pairs += [(name, v) for v in value]
        else:
            pairs.append((name, value))
    return pairs


def _shown_text(page: str) -> str:
    found = re.search(r'<pre id="text">(.*?)</pre>', page, re.S)
    assert found is not None, page[:2000]
    return html.unescape(found.group(1))


def _inventory_field(page: str) -> str:
    found = re.search(r'name="inventory" value="([^"]*)"', page)
    assert found is not None
    return html.unescape(found.group(1))


@pytest.mark.parametrize("example", ["food-plant", "pharma-group"])
def test_the_filled_form_gives_the_same_assessment_as_the_cli(
    client: TestClient, example: str
) -> None:
    path = EXAMPLES / f"{example}.toml"
    expected = assess(load_inventory(path), TIMINGS)
    client.post("/login", content="key=dev-viewer-key")
    assert client.get("/assess").status_code == 200

    filled = client.post(
        "/assess",
        content=urlencode(_pairs(form_values(tomllib.loads(path.read_text())))),
        headers=FORM,
    )
    pasted = client.post("/assess", content=urlencode({"toml": path.read_text()}), headers=FORM)

    for page in (filled, pasted):
        assert page.status_code == 200, page.text[:2000]
        assert _shown_text(page.text) == assessment_text(expected)
        shown = html.unescape(page.text)
        for step in expected.steps:
            assert f"Step {step.number}: {step.title}" in shown
        assert 'id="comparison"' in shown and "weighted total" in shown
        for plan in expected.plans:
            assert f"{plan.flow}: {plan.source} → {', '.join(plan.targets)}" in shown


def test_bad_fields_are_named_inline_with_their_paths(client: TestClient) -> None:
    values = form_values(tomllib.loads((EXAMPLES / "food-plant.toml").read_text()))
    values["systems[0].kind"] = "PLC"
    values["systems[1].rest_api.docs"] = "great"
    values["flows[0].to"] = "wsm"
    values["team.developers"] = "many"
    values["budget.model"] = ""
    client.post("/login", content="key=dev-viewer-key")

    page = client.post("/assess", content=urlencode(_pairs(values)), headers=FORM)

    assert page.status_code == 422
    inline = {
        name: html.unescape(text)
        for name, text in re.findall(r'data-field="([^"]+)">([^<]+)<', page.text)
    }
    assert set(inline) >= {
        "systems[0].kind",
        "systems[1].rest_api.docs",
        "flows[0].to",
        "team.developers",
        "budget.model",
    }
    assert inline["systems[1].rest_api.docs"].startswith(
        "systems[1] (erp).rest_api.docs: Input should be 'good', 'partial' or 'poor'"
    )
    assert "no system 'wsm'" in inline["flows[0].to"]
    assert "budget.model: missing (required)" in inline["budget.model"]
    listed = re.search(r'<div id="problems".*?</div>', page.text, re.S)
    assert listed is not None and "5 problems" in listed.group(0)
    bad_toml = client.post("/assess", content=urlencode({"toml": "[team"}), headers=FORM)
    assert bad_toml.status_code == 422 and "not valid TOML" in bad_toml.text


def test_the_sheet_and_the_configuration_download_and_load(
    client: TestClient, tmp_path: Path
) -> None:
    path = EXAMPLES / "food-plant.toml"
    client.post("/login", content="key=dev-viewer-key")
    page = client.post("/assess", content=urlencode({"toml": path.read_text()}), headers=FORM)
    carried = {"inventory": _inventory_field(page.text)}

    xlsx = client.post("/assess/sheet.xlsx", content=urlencode(carried), headers=FORM)
    markdown = client.post("/assess/sheet.md", content=urlencode(carried), headers=FORM)
    config = client.post("/assess/config.zip", content=urlencode(carried), headers=FORM)

    assert xlsx.status_code == 200 and "attachment" in xlsx.headers["content-disposition"]
    assert len(load_workbook(io.BytesIO(xlsx.content)).sheetnames) >= 2
    assert markdown.text.startswith("# Evaluation sheet: Nordfrisch Molkerei GmbH")
    with zipfile.ZipFile(io.BytesIO(config.content)) as archive:
        archive.extractall(tmp_path)
    root = tmp_path / "tracesync-config"
    assert load_routes(root / "routes.toml").routes
    mappings = sorted((root / "mappings").glob("*.toml"))
    assert mappings and all(load_mapping(m) is not None for m in mappings)
    broken = client.post("/assess/sheet.md", content=urlencode({"inventory": "{"}), headers=FORM)
    assert broken.status_code == 422 and "inventory" in broken.json()["detail"]


def test_the_json_api_answers_like_assess_json_and_names_bad_fields(client: TestClient) -> None:
    path = EXAMPLES / "pharma-group.toml"
    document = tomllib.loads(path.read_text())

    answer = client.post("/v1/assess", json=document, headers=VIEWER)
    document["systems"][0]["kind"] = "PLC"
    document["flows"][0]["from"] = "nowhere"
    bad = client.post("/v1/assess", json=document, headers=VIEWER)
    refused = client.post("/v1/assess", json=document)

    assert answer.status_code == 200, answer.text
    assert answer.json() == assessment_dict(assess(load_inventory(path), TIMINGS))
    assert bad.status_code == 422
    paths = [p["path"] for p in bad.json()["detail"]]
    assert any(p.endswith(".kind") and p.startswith("systems[0]") for p in paths), paths
    assert any(p.endswith(".from") and p.startswith("flows[0]") for p in paths), paths
    assert refused.status_code == 401
