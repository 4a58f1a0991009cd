"""``--emit-config``: the files load in the ingest and sink code paths and do what they say.

Each mapping loads with ``load_mapping`` and turns a source row with its columns into a valid
Envelope (through the file reader for CSV/XML); the routes file loads with ``load_routes``, its
targets open, and its routes make notices from real chain records without doubling any; the
API keys of ``ingest.env`` are accepted by the REST ingest (and the demo keys are not).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import stat
import tomllib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from producers.files import read_rows
from producers.mapping import (
    Converted,
    RowConverter,
    SourceMapping,
    load_mapping,
    parse_mapping,
)
from producers.rest import RestIngest, create_app
from sinks.targets.config import load_routes, open_targets
from tests.assess_rows import csv_text, row, xml_text
from tests.rest_samples import mes_event
from tests.unit import domain_factory as f
from tests.unit.targets_factory import ChainBuilder, life_of
from tests.unit.test_rest_api import RecordingPublisher
from tracesync import bootstrap
from tracesync.assess.assessment import Assessment, assess
from tracesync.assess.emit import mapping_skeletons, plan_config, write_config
from tracesync.assess.loader import load_inventory
from tracesync.assess.skeleton import outbox_ddl
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.errors import ConfigurationError
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "assess"
SERDE = EnvelopeSerde.single_object()


def keys() -> Callable[[], str]:
    counter = iter(range(1000))
    return lambda: f"test-key-{next(counter)}"


@pytest.fixture(scope="module", params=["food-plant", "pharma-group"])
def example(request: pytest.FixtureRequest) -> Assessment:
    return assess(load_inventory(EXAMPLES / f"{request.param}.toml"))


@pytest.fixture
def emitted(example: Assessment, tmp_path: Path) -> Path:
    write_config(plan_config(example, token=keys()), tmp_path / "config")
    return tmp_path / "config"


def test_a_mapping_per_event_type_of_each_db_and_file_system(example: Assessment) -> None:
    emitted = {(c.system, c.kind) for c, _ in mapping_skeletons(example)}
    for system_id, choice in example.choices.items():
        if choice.option is None or choice.option.kind == "api":
            assert not any(system == system_id for system, _ in emitted)
        else:
            kind = "db-mapping" if choice.option.kind == "db" else "file-mapping"
            assert (system_id, kind) in emitted


def test_every_mapping_loads_and_converts_a_source_row(example: Assessment, emitted: Path) -> None:
    for config, outline in mapping_skeletons(example):
        mapping = load_mapping(emitted / config.path)
        assert mapping.name == outline.name
        converter = RowConverter(mapping.events, SERDE, "PLANT-X")
        if mapping.file is not None:
            text = (
                xml_text(outline.columns, mapping, 2)
                if mapping.file.format == "xml"
                else csv_text(outline.columns, mapping, 2)
            )
            rows = read_rows(text.encode(), mapping)
        else:
            rows = [row(outline.columns, mapping, i) for i in range(2)]
        assert len(rows) == 2
        for index, source_row in enumerate(rows):
            result = converter.convert(source_row, f"00000000-0000-4000-8000-00000000000{index}")
            assert isinstance(result, Converted), (config.path, result)
            envelope = result.envelope
            system = example.inventory.system(str(config.system))
            assert envelope["event_type"] == outline.event_type
            assert envelope["plant"] == (system.plant or "PLANT-X")
            assert envelope["batch_code"] == f"BATCH-{index:03d}"


def test_a_row_without_a_column_is_rejected_naming_the_field(example: Assessment) -> None:
    for config, outline in mapping_skeletons(example)[:1]:
        mapping = load_mapping_from_text(config.text, config.path)
        source_row = row(outline.columns, mapping, 0)
        del source_row["occurred_at"]
        result = RowConverter(mapping.events, SERDE, "P").convert(source_row, "x")
        assert not isinstance(result, Converted)
        assert "occurred_at" in {field for field, _ in result.errors}


def load_mapping_from_text(text: str, name: str) -> SourceMapping:
    return parse_mapping(tomllib.loads(text), Path(name))


def test_the_outbox_ddl_creates_the_table_the_mapping_drains(tmp_path: Path) -> None:
    pharma = assess(load_inventory(EXAMPLES / "pharma-group.toml"))
    outboxes = [(c, o) for c, o in mapping_skeletons(pharma) if c.system == "qms"]
    assert [o.event_type for _, o in outboxes] == [
        "INSPECTION_RECORDED",
        "HOLD_PLACED",
        "HOLD_RELEASED",
    ]
    files = {c.path for c in plan_config(pharma, token=lambda: "k")}
    assert {f"mappings/{o.name}.outbox.sql" for _, o in outboxes} <= files
    oracle = outbox_ddl(outboxes[1][1], "oracle")
    assert "NUMBER(19) GENERATED ALWAYS AS IDENTITY PRIMARY KEY" in oracle
    with sqlite3.connect(tmp_path / "qms.db") as db:
        config, outline = outboxes[1]
        db.executescript(outbox_ddl(outline, "sqlite"))
        mapping = load_mapping_from_text(config.text, config.path)
        values = row(outline.columns, mapping, 0)
        names = ", ".join(values)
        db.execute(
            f"INSERT INTO {outline.table} ({names}) VALUES ({', '.join('?' * len(values))})",
            list(values.values()),
        )
        (count,) = db.execute(f"SELECT count(*) FROM {outline.table}").fetchone()
    assert count == 1
    source = load_mapping_from_text(config.text, config.path).db
    assert source is not None and source.table == outline.table


def test_the_routes_load_open_and_notify_each_fact_once(
    example: Assessment, emitted: Path, tmp_path: Path
) -> None:
    config = load_routes(emitted / "routes.toml")
    pairs = Counter((r.target, r.predicate.name) for r in config.routes)
    assert all(count == 1 for count in pairs.values()), pairs
    targets = open_targets(config, tmp_path / "home")
    try:
        assert set(targets) == {r.target for r in config.routes}
    finally:
        for target in targets.values():
            target.close()
    mismatched = ChainBuilder("BC-2").add(
        f.completed("BC-2", "100"), f.received("BC-2", "80"), f.erp_receipt("BC-2", "100")
    )
    assert mismatched["reconciliation"]["status"] == "MISMATCH"
    fired = set()
    for plant in example.inventory.organization.plants:
        for record in [*life_of("BC-1"), mismatched]:
            at_plant = {**record, "plant": plant}
            for route in config.routes:
                if route.source.value == "chain" and route.notices(at_plant):
                    fired.add(route.name)
    chain_routes = {r.name for r in config.routes if r.source.value == "chain"}
    assert fired == chain_routes  # every chain route finds its facts in a batch's life


def test_the_food_routes_deliver_the_way_each_target_takes_notices(emitted: Path) -> None:
    config = load_routes(emitted / "routes.toml")
    transports = {name: spec["transport"] for name, spec in config.targets.items()}
    if set(transports) == {"wms", "erp", "mes"}:  # the food plant
        assert transports == {"wms": "file", "erp": "http", "mes": "http"}
        wms_routes = [r for r in config.routes if r.target == "wms"]
        assert [r.predicate.name for r in wms_routes] == ["batch_completed"]
        assert wms_routes[0].match == {"chain.plant": ("NF-BREMEN",)}


def test_the_api_keys_are_the_ones_the_rest_ingest_accepts(
    example: Assessment, emitted: Path
) -> None:
    env = emitted / "ingest.env"
    assert stat.S_IMODE(env.stat().st_mode) == 0o600
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    pushing = {
        example.inventory.system(s).kind
        for s, c in example.choices.items()
        if c.option is not None and c.option.kind == "api"
    }
    assert {k.upper() for k in settings.ingest.api_keys} == pushing == {"MES"}
    key = next(iter(settings.ingest.api_keys.values())).get_secret_value()
    assert key.startswith("test-key-")
    publisher = RecordingPublisher()
    serde = bootstrap.envelope_serde(
        Settings(registry={"enabled": False}), fastavro_validation=False
    )
    topics = TopicCatalog.from_settings(settings)
    now = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)
    ingest = RestIngest(publisher, serde, topics.source_topic, settings.plant, clock=lambda: now)
    with TestClient(create_app(settings, ingest)) as client:
        accepted = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": key})
        demo = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": "dev-mes-key"})
    assert accepted.status_code == 202, accepted.text
    assert demo.status_code == 401
    assert len(publisher.records) == 1


def test_the_db_urls_are_named_for_each_db_mapping(example: Assessment, emitted: Path) -> None:
    text = (emitted / "ingest.env").read_text()
    for config, outline in mapping_skeletons(example):
        if config.kind == "db-mapping":
            assert f"# TRACESYNC_INGEST_DB__SOURCE_URLS__{outline.name.upper()}=" in text


def test_existing_files_are_kept_unless_forced(example: Assessment, tmp_path: Path) -> None:
    files = plan_config(example, token=lambda: "first")
    write_config(files, tmp_path)
    with pytest.raises(ConfigurationError, match="exist already"):
        write_config(plan_config(example, token=lambda: "second"), tmp_path)
    assert "first" in (tmp_path / "ingest.env").read_text()
    write_config(plan_config(example, token=lambda: "second"), tmp_path, force=True)
    assert "second" in (tmp_path / "ingest.env").read_text()


def test_the_readme_says_what_to_start(example: Assessment, emitted: Path) -> None:
    text = (emitted / "README.md").read_text()
    for choice in example.choices.values():
        if choice.option is not None:
            assert choice.option.command in text
    for plan in example.flagged:
        assert f"**{plan.flow}**" in text
