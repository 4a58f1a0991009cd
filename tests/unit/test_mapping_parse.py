"""Mapping files: the example mappings load; a bad mapping names the file and the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from producers.mapping import Column, Const, RecordSpec, Template, load_mapping, parse_mapping
from tracesync.errors import ConfigurationError

MAPPINGS = Path(__file__).resolve().parents[2] / "deploy" / "mappings"

BASE = """
[source]
name = "t"
system = "MES"
[db]
table = "log"
mode = "poll"
key_columns = ["id"]
watermark_column = "id"
[envelope]
event_type = "BATCH_STARTED"
batch_code = "code"
source_ref = { template = "MES:BS:{code}" }
source_seq = "seq"
occurred_at = "at"
[payload]
order_id = "order"
operators = { column = "ops", split = "," }
qty = { value = "q", uom = { const = "KG" } }
"""


def parsed(text: str) -> Any:
    return parse_mapping(tomllib.loads(text), Path("m.toml"))


@pytest.mark.parametrize("path", sorted(MAPPINGS.glob("*.toml")), ids=lambda p: p.name)
def test_every_example_mapping_loads(path: Path) -> None:
    mapping = load_mapping(path)
    assert (mapping.db is None) != (mapping.file is None)


def test_field_specs_are_columns_constants_templates_and_records() -> None:
    mapping = parsed(BASE)
    envelope, payload = mapping.events.envelope, mapping.events.payload
    assert envelope["event_type"] == Const("BATCH_STARTED")
    assert envelope["source_ref"] == Template("MES:BS:{code}", ("code",))
    assert envelope["batch_code"] == Column("code")
    assert isinstance(payload, RecordSpec)
    assert payload.fields["operators"] == Column("ops", split=",")
    assert payload.fields["qty"] == RecordSpec({"value": Column("q"), "uom": Const("KG")})
    assert mapping.events.columns() == {"code", "seq", "at", "order", "ops", "q"}


@pytest.mark.parametrize(
    ("change", "key"),
    [
        (('system = "MES"', 'system = "SAP"'), "source.system"),
        (('mode = "poll"', 'mode = "cdc"'), "db.mode"),
        (('watermark_column = "id"', ""), "db.watermark_column"),
        (('occurred_at = "at"', ""), "envelope.occurred_at"),
        (('event_type = "BATCH_STARTED"', 'event_type = "GOODS_RECEIVED"'), "envelope.event_type"),
        (
            ('event_type = "BATCH_STARTED"', 'event_type = { const = "NOPE" }'),
            "envelope.event_type",
        ),
        (('"MES:BS:{code}"', '"MES:BS:{}"'), "envelope.source_ref.template"),
        (('split = ","', 'split = ",", bogus = 1'), "payload.operators.bogus"),
        (('order_id = "order"', "order_id = [1]"), "payload.order_id"),
        (("[source]", '[source]\ntimezone = "Mars/Base"'), "source.timezone"),
        (("[db]", "[file]\nformat = 'csv'\npatterns = ['*.csv']\n[x]"), "<top>.x"),
    ],
)
def test_a_bad_mapping_names_the_key(change: tuple[str, str], key: str) -> None:
    old, new = change
    assert old in BASE
    with pytest.raises(ConfigurationError, match=rf"m\.toml: \[{key}\]"):
        parsed(BASE.replace(old, new))


def test_a_mapping_needs_exactly_one_source_table() -> None:
    both = BASE + "[file]\nformat = 'csv'\npatterns = ['*.csv']\n"
    with pytest.raises(ConfigurationError, match="exactly one of the tables"):
        parsed(both)


def test_outbox_mark_mode_needs_the_column_it_stamps() -> None:
    text = BASE.replace('mode = "poll"', 'mode = "outbox"\non_published = "mark"')
    with pytest.raises(ConfigurationError, match=r"\[db.published_column\]"):
        parsed(text)


def test_a_field_path_names_the_source_columns_behind_it_and_back() -> None:
    erp = load_mapping(MAPPINGS / "erp_receipts.db.toml").events
    assert erp.columns_for("payload.quantity.value") == ["qty"]
    assert erp.columns_for("source_ref") == ["receipt_id"]  # a template
    assert erp.columns_for("<row>") == []
    assert erp.fields_reading("qty") == ["payload.quantity.value"]
    assert erp.fields_reading("posted_at") == ["occurred_at"]
    assert erp.fields_reading("not_mapped") == []
    qms = load_mapping(MAPPINGS / "qms_inspections.xml.toml").events
    assert qms.columns_for("payload.characteristics[0].value") == ["Characteristics"]
