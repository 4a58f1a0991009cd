"""The console's assessment form as data: form <-> inventory document, problems -> fields."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from serve.assess_form import SECTIONS, document_from_form, field_of, form_values, rows_shown
from tracesync.assess.loader import parse_inventory

EXAMPLES = Path(__file__).parents[2] / "deploy" / "assess"


def _posted(values: dict[str, object]) -> dict[str, list[str]]:
    form: dict[str, list[str]] = {}
    for name, value in values.items():
        if isinstance(value, bool):
            form[name] = ["true"] if value else []
        elif isinstance(value, list):
            form[name] = [str(v) for v in value]
        else:
            form[name] = [str(value)]
    return form


@pytest.mark.parametrize("example", ["food-plant", "pharma-group"])
def test_an_example_survives_the_form_both_ways(example: str) -> None:
    document = tomllib.loads((EXAMPLES / f"{example}.toml").read_text())

    again = document_from_form(_posted(form_values(document)))

    assert parse_inventory(again) == parse_inventory(document)


def test_empty_fields_and_rows_are_left_out_and_sub_tables_appear_when_filled() -> None:
    form = {
        "organization.name": ["  Acme "],
        "organization.plants": ["P1, P2,"],
        "systems[0].id": ["mes"],
        "systems[0].rest_api.docs": [""],
        "systems[0].rest_api.webhooks": [],
        "systems[0].file_export.formats": ["csv", "xml"],
        "systems[1].id": [""],
        "systems[2].id": ["erp"],
        "systems[2].database.engine": ["oracle"],
        "team.developers": ["2"],
    }

    document = document_from_form(form, {"assumptions": {"pipeline": "2s"}})

    assert document["organization"] == {"name": "Acme", "plants": ["P1", "P2"]}
    assert document["systems"] == [
        {"id": "mes", "file_export": {"formats": ["csv", "xml"]}},
        {"id": "erp", "database": {"engine": "oracle"}},
    ]
    assert document["team"] == {"developers": "2"}
    assert "budget" not in document and "flows" not in document
    assert document["assumptions"] == {"pipeline": "2s"}


def test_a_problem_lands_on_its_field_or_the_nearest_one_above() -> None:
    names = {
        section.name(field, row)
        for section in SECTIONS
        for row in (range(rows_shown(section, {})) if section.rows else [None])
        for field in section.fields
    }

    assert field_of("systems[1] (erp).rest_api.docs", names) == "systems[1].rest_api.docs"
    assert field_of("flows[0] (batch-to-wms).to[1]", names) == "flows[0].to"
    assert field_of("systems[0] (mes).file_export.formats[2]", names) == (
        "systems[0].file_export.formats"
    )
    assert field_of("growth.systems[0] (qms).in_year", names) == "growth.systems[0].in_year"
    assert field_of("systems[1] (erp).database.engin", names) is None
    assert field_of("systems", names) is None


def test_array_sections_show_two_empty_rows_beyond_the_filled_ones() -> None:
    systems = next(s for s in SECTIONS if s.path == "systems")
    assert rows_shown(systems, {}) == systems.rows
    assert rows_shown(systems, {"systems": [{}] * 7}) == 9
