"""The configuration ``tracesync assess --emit-config`` writes, put into service on the real broker.

``tracesync assess`` emits the configuration as an operator would get it; then the emitted file-drop
mapping of the food plant's legacy WMS runs in ``tracesync ingest files --once`` on a CSV export
with the columns the README lists, and the emitted outbox (DDL and mapping) of a QMS whose
database tracks no changes runs in ``tracesync ingest db --once`` on SQLite and PostgreSQL. The
events arrive on the source topics, decodable, keyed by batch code, with the system's plant.
"""

from __future__ import annotations

import os
import subprocess
import tomllib
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from producers.mapping import load_mapping
from tests.assess_rows import csv_text, row
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_producer_core import read_topic
from tests.unit.assess_factory import database, flow, system
from tracesync.assess.assessment import assess
from tracesync.assess.emit import mapping_skeletons, plan_config, write_config
from tracesync.assess.loader import parse_inventory
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import TRACESYNC, settings_env
from tracesync.settings import IngestFilesSettings, KafkaSettings, RegistrySettings, Settings
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 6
EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "assess"
FOOD = EXAMPLES / "food-plant.toml"


@pytest.fixture
def settings(kafka_broker: KafkaBroker, tmp_path: Path) -> Settings:
    prefix = f"assess-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    for name in SOURCE_SYSTEMS:
        ensure_topic(kafka_broker.bootstrap_servers, catalog.source_topic(name), PARTITIONS, 1)
    ensure_topic(kafka_broker.bootstrap_servers, catalog.topic("ingest.receipts").name, 1, 1)
    ensure_topic(kafka_broker.bootstrap_servers, catalog.dlq("ingest"), 1, 1)
    return Settings(
        home=tmp_path / "home",
        topic_prefix=prefix,
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers),
        registry=RegistrySettings(enabled=False),
        ingest_files=IngestFilesSettings(settle_s=0.2, poll_interval_s=0.1),
    )


def tracesync(settings: Settings, *args: str) -> str:
    """Run a tracesync command to its end, as an operator would; its output."""
    done = subprocess.run(
        [TRACESYNC, *args],
        env=os.environ | settings_env(settings),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def events(settings: Settings, source_system: str) -> list[tuple[bytes, dict[str, Any]]]:
    topic = TopicCatalog.from_settings(settings).source_topic(source_system)
    serde = EnvelopeSerde.single_object()
    records = read_topic(settings.kafka.bootstrap_servers, topic, PARTITIONS)
    return [(key, serde.decode(value)) for _, _, key, value in records]


def test_the_emitted_file_mapping_publishes_a_wms_export(
    settings: Settings, tmp_path: Path
) -> None:
    config = tmp_path / "config"
    out = tracesync(settings, "assess", str(FOOD), "--emit-config", str(config))
    assert "mappings/wms_goods_received.csv.toml: loads in tracesync ingest files" in out
    mapping_path = config / "mappings" / "wms_goods_received.csv.toml"
    mapping = load_mapping(mapping_path)
    outline = next(
        o
        for c, o in mapping_skeletons(assess(parse_inventory(tomllib.loads(FOOD.read_text()))))
        if c.path == "mappings/wms_goods_received.csv.toml"
    )
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "wms_goods_received_20250301.csv").write_text(csv_text(outline.columns, mapping, 3))
    (drop / "wms_goods_received_20250301.csv.done").touch()  # the default completion protocol

    tracesync(
        settings, "ingest", "files", "--mapping", str(mapping_path), "--watch", str(drop), "--once"
    )

    published = events(settings, "WMS")
    assert sorted(e["batch_code"] for _, e in published) == ["BATCH-000", "BATCH-001", "BATCH-002"]
    assert all(key == e["batch_code"].encode() for key, e in published)
    assert {(e["event_type"], e["plant"]) for _, e in published} == {
        ("GOODS_RECEIVED", "NF-BREMEN")
    }
    assert published[0][1]["payload"]["quantity"]["uom"].startswith("quantity_uom-")
    assert (drop / "processed" / "wms_goods_received_20250301.csv").exists()


def qms_inventory(engine: str) -> dict[str, Any]:
    """The food plant with its QMS in service already, on a database that marks no changes (an
    outbox is to be added)."""
    doc = tomllib.loads(FOOD.read_text(encoding="utf-8"))
    doc["growth"]["systems"] = []
    doc["systems"].append(
        system("qms", "QMS", database=database("none", engine), plant="NF-BREMEN")
    )
    doc["flows"].append(flow("holds", "qms", ["wms", "mes"], "quality_alert", "5s"))
    return doc


def test_the_emitted_outbox_is_drained_by_ingest_db(
    settings: Settings, store_url: str, tmp_path: Path
) -> None:
    engine_name = "sqlite" if store_url.startswith("sqlite") else "postgresql"
    result = assess(parse_inventory(qms_inventory(engine_name)))
    assert result.choices["qms"].option is not None and result.choices["qms"].option.rule == "E5"
    config_dir = tmp_path / "config"
    write_config(plan_config(result), config_dir)
    config, outline = next(
        (c, o) for c, o in mapping_skeletons(result) if o.event_type == "HOLD_PLACED"
    )
    mapping_path = config_dir / config.path
    mapping = load_mapping(mapping_path)
    ddl = (config_dir / f"mappings/{outline.name}.outbox.sql").read_text()
    engine = create_engine(store_url)
    with engine.begin() as db:
        db.execute(text("\n".join(x for x in ddl.splitlines() if not x.startswith("--"))))
        for index in range(3):
            values = row(outline.columns, mapping, index)
            names = ", ".join(values)
            params = ", ".join(f":{name}" for name in values)
            db.execute(text(f"INSERT INTO {outline.table} ({names}) VALUES ({params})"), values)

    tracesync(
        settings, "ingest", "db", "--mapping", str(mapping_path), "--url", store_url, "--once"
    )

    published = events(settings, "QMS")
    assert sorted(e["batch_code"] for _, e in published) == ["BATCH-000", "BATCH-001", "BATCH-002"]
    assert {(e["event_type"], e["plant"]) for _, e in published} == {("HOLD_PLACED", "NF-BREMEN")}
    assert {e["payload"]["target_type"] for _, e in published} == {"BATCH"}
    with engine.connect() as db:
        assert db.execute(text(f"SELECT count(*) FROM {outline.table}")).scalar_one() == 0
    engine.dispose()
