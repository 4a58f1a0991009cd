"""The inventory format: the examples load, a bad file gets one error per bad field with its path,
and the committed JSON Schema is the model's and agrees with it on good and bad documents."""

from __future__ import annotations

import copy
import json
import tomllib
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from tracesync.assess.loader import InventoryError, load_inventory, parse_inventory
from tracesync.assess.model import parse_duration
from tracesync.assess.schema import json_schema

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "deploy" / "assess"
FOOD = EXAMPLES / "food-plant.toml"
PHARMA = EXAMPLES / "pharma-group.toml"


def food_document() -> dict[str, Any]:
    return tomllib.loads(FOOD.read_text(encoding="utf-8"))


def problems_of(document: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InventoryError) as caught:
        parse_inventory(document, "test.toml")
    return dict(caught.value.problems)


@pytest.mark.parametrize("path", [FOOD, PHARMA], ids=lambda p: p.stem)
def test_the_examples_load(path: Path) -> None:
    inventory = load_inventory(path)
    assert len(inventory.systems) >= 3
    assert all(flow.source in {s.id for s in inventory.systems} for flow in inventory.flows)


def test_the_food_plant_reads_as_written() -> None:
    inventory = load_inventory(FOOD)
    wms = inventory.system("wms")
    assert wms.rest_api is None and wms.database is None
    assert wms.file_export is not None and wms.file_export.every == 3600.0
    flow = inventory.flows[0]
    assert (flow.source, flow.to, flow.latency) == ("mes", ("wms",), 30.0)
    assert inventory.flows[2].latency is None  # the scenario's typical need applies


def test_each_bad_field_is_named_once_with_its_path() -> None:
    doc = food_document()
    doc["systems"][0]["rest_api"]["docs"] = "excellent"
    doc["systems"][2]["file_export"]["every"] = "hourly"
    doc["team"]["developers"] = -1
    doc["flows"][1]["scenario"] = "coffee_break"
    problems = problems_of(doc)
    assert set(problems) == {
        "systems[0] (mes).rest_api.docs",
        "systems[2] (wms).file_export.every",
        "team.developers",
        "flows[1] (batch-to-erp).scenario",
    }
    assert "'good', 'partial' or 'poor'" in problems["systems[0] (mes).rest_api.docs"]
    assert "not a duration: 'hourly'" in problems["systems[2] (wms).file_export.every"]
    assert "greater than or equal to 0" in problems["team.developers"]


def test_an_unknown_key_is_named_with_the_keys_allowed_there() -> None:
    doc = food_document()
    doc["systems"][1]["database"]["engin"] = "postgresql"
    doc["vendr"] = {}
    problems = problems_of(doc)
    assert problems["systems[1] (erp).database.engin"] == (
        "unknown key; known here: change_tracking, engine"
    )
    assert problems["vendr"].startswith("unknown key; known here: assumptions, budget")


def test_missing_tables_and_fields_are_named() -> None:
    doc = food_document()
    del doc["team"]
    del doc["systems"][0]["kind"]
    problems = problems_of(doc)
    assert problems == {"team": "missing (required)", "systems[0] (mes).kind": "missing (required)"}


def test_references_are_checked_with_the_structure() -> None:
    doc = food_document()
    doc["flows"][0]["to"] = "wsm"
    doc["flows"][1]["from"] = "mes2"
    doc["flows"][3]["id"] = "batch-to-wms"
    doc["flows"][4]["to"] = ["erp", "wms"]
    doc["flows"][4]["from"] = "erp"
    doc["systems"][0]["plant"] = "NF-HAMBURG"
    doc["growth"]["systems"][0]["replaces"] = "lims"
    doc["growth"]["systems"][0]["in_year"] = 7
    doc["team"]["skills"] = ["cobol"]  # a structural problem reported in the same run
    problems = problems_of(doc)
    assert problems["flows[0] (batch-to-wms).to"] == "no system 'wsm'"
    assert problems["flows[1] (batch-to-erp).from"].startswith("no system 'mes2' (known: erp")
    assert problems["flows[3] (batch-to-wms).id"] == (
        "flow id 'batch-to-wms' is already used by flows[0]"
    )
    assert problems["flows[4] (scans-to-erp).to[0]"] == "a flow cannot go to its source"
    assert "no plant 'NF-HAMBURG'" in problems["systems[0] (mes).plant"]
    assert "no system 'lims' today" in problems["growth.systems[0] (qms).replaces"]
    assert problems["growth.systems[0] (qms).in_year"] == "year 7 is beyond horizon_years = 5"
    assert "team.skills[0]" in problems
    assert len(problems) == 8


def test_other_scenarios_must_state_their_latency() -> None:
    doc = food_document()
    doc["flows"][0]["scenario"] = "other"
    del doc["flows"][0]["latency"]
    assert problems_of(doc) == {
        "flows[0] (batch-to-wms).latency": (
            "missing: scenario 'other' has no typical latency to assume"
        )
    }


def test_a_file_that_is_not_toml_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text("[organization\nname = 1\n")
    with pytest.raises(InventoryError) as caught:
        load_inventory(path)
    assert [p for p, _ in caught.value.problems] == ["<file>"]
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5s", 5.0),
        ("10 min", 600.0),
        ("1.5h", 5400.0),
        ("1d", 86400.0),
        (30, 30.0),
        ("250ms", 0.25),
    ],
)
def test_durations(text: object, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 parsecs", "0s", -1, True])
def test_bad_durations(text: object) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_the_committed_schema_is_the_models() -> None:
    committed = json.loads((EXAMPLES / "inventory.schema.json").read_text(encoding="utf-8"))
    assert committed == json_schema(), (
        "regenerate: tracesync assess --schema > deploy/assess/inventory.schema.json"
    )


def test_the_schema_accepts_the_examples_and_refuses_what_the_model_refuses() -> None:
    validator = Draft202012Validator(json_schema())
    for path in (FOOD, PHARMA):
        assert list(validator.iter_errors(tomllib.loads(path.read_text()))) == []
    bad = copy.deepcopy(food_document())
    bad["systems"][0]["rest_api"]["docs"] = "excellent"
    bad["flows"][0]["latency"] = "hourly"
    bad["team"]["extra"] = 1
    paths = {tuple(e.absolute_path) for e in validator.iter_errors(bad)}
    assert paths == {
        ("systems", 0, "rest_api"),  # an optional table: the schema reports its anyOf
        ("flows", 0, "latency"),
        ("team",),  # additionalProperties
    }
