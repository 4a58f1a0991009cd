"""``POST /v1/epcis/capture`` on a real ``tracesync ingest api`` with the real broker: an exported
EPCIS document is captured, every tracesync event it maps to is on its system's topic once the
202 arrives, and the events read back from Kafka rebuild the same chain facts (round trip)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from producers.epcis import Mapped, map_document
from sinks.exports.epcis import EpcisBuilder, build_document
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_rest_ingest import PARTITIONS, IngestServer, stored_events
from tests.slot import free_port
from tests.unit.epcis_plant import chains_from_envelopes, facts, stored_plant
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.gs1.identifiers import Identifiers
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

EPCIS_KEY = {"X-API-Key": "dev-epcis-key"}


@pytest.fixture
def prefix(kafka_broker: KafkaBroker) -> str:
    name = f"epcis-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(name, PARTITIONS)
    for system in SOURCE_SYSTEMS:
        ensure_topic(kafka_broker.bootstrap_servers, catalog.source_topic(system), PARTITIONS, 1)
    return name


@pytest.fixture
def server(kafka_broker: KafkaBroker, prefix: str, tmp_path: Path) -> Iterator[IngestServer]:
    ingest = IngestServer(kafka_broker.bootstrap_servers, prefix, free_port(), tmp_path)
    ingest.start()
    try:
        yield ingest
    finally:
        ingest.stop()


def test_a_captured_document_is_on_the_topics_and_rebuilds_the_same_facts(
    kafka_broker: KafkaBroker, prefix: str, server: IngestServer
) -> None:
    stored = stored_plant(batches=30, seed=9)
    ids = Identifiers()
    builder = EpcisBuilder(ids)
    document = build_document(e for chain in stored for e in builder.events(chain))
    response = httpx.post(
        f"{server.url}/v1/epcis/capture", json=document, headers=EPCIS_KEY, timeout=60
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["refused"] == []
    acknowledged = {e["event_id"] for c in body["captured"] for e in c["events"]}
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    on_topics = [
        event
        for system in SOURCE_SYSTEMS
        for _, _, _, event in stored_events(
            kafka_broker.bootstrap_servers, catalog.source_topic(system)
        )
    ]
    assert {str(e["event_id"]) for e in on_topics} == acknowledged
    assert len(on_topics) == len(acknowledged)
    serde = EnvelopeSerde.single_object()
    captured = chains_from_envelopes(serde.to_json(e) for e in on_topics)
    original = {c.batch_code: c.chain for c in stored}
    assert captured
    for code, chain in captured.items():
        assert facts(chain) == facts(original[code]), code
    expected = [
        e
        for o in map_document(document, ids, "PLANT-01")
        if isinstance(o, Mapped)
        for e in o.envelopes
    ]
    assert {e["event_id"] for e in expected} == acknowledged
    again = httpx.post(
        f"{server.url}/v1/epcis/capture", json=document, headers=EPCIS_KEY, timeout=60
    )
    assert again.status_code == 202
    assert {e["event_id"] for c in again.json()["captured"] for e in c["events"]} == acknowledged
