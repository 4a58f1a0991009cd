"""``POST /v1/epcis/capture`` without a broker: mapping, key rights, per-event refusals.

The producer core is the in-process recorder of test_rest_api; the app, serde and topic catalog
are real. The real broker is used in tests/integration/test_epcis_capture.py.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from producers.rest import RestIngest, create_app
from sinks.exports.epcis import EpcisBuilder, build_document
from tests.unit.epcis_plant import stored_plant
from tests.unit.test_rest_api import NOW, RecordingPublisher
from tracesync import bootstrap
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.gs1.identifiers import Identifiers
from tracesync.settings import IngestSettings, Settings
from tracesync.topics import TopicCatalog

EPCIS_KEY = {"X-API-Key": "dev-epcis-key"}
QMS_KEY = {"X-API-Key": "dev-qms-key"}


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def serde() -> EnvelopeSerde:
    return bootstrap.envelope_serde(
        Settings(registry={"enabled": False}), fastavro_validation=False
    )


@pytest.fixture
def client(publisher: RecordingPublisher, serde: EnvelopeSerde) -> Iterator[TestClient]:
    settings = Settings(plant="PLANT-T", topic_prefix="unit.", ingest=IngestSettings())
    topics = TopicCatalog.from_settings(settings)
    ingest = RestIngest(publisher, serde, topics.source_topic, settings.plant, clock=lambda: NOW)
    with TestClient(create_app(settings, ingest)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    builder = EpcisBuilder(Identifiers())
    return build_document(e for chain in stored_plant(batches=30) for e in builder.events(chain))


def test_a_document_is_captured_onto_every_systems_topic(
    client: TestClient, publisher: RecordingPublisher, serde: EnvelopeSerde, document: Any
) -> None:
    response = client.post("/v1/epcis/capture", json=document, headers=EPCIS_KEY)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["refused"] == []
    assert len(body["captured"]) == len(document["epcisBody"]["eventList"])
    topics = {r.topic for r in publisher.records}
    assert {"unit.mes.events", "unit.erp.events", "unit.qms.events"} <= topics
    decoded = [serde.decode(r.value) for r in publisher.records]
    assert all(d["source_ref"].startswith("EPCIS:") for d in decoded)
    assert sum(len(c["events"]) for c in body["captured"]) == len(publisher.records)


def test_a_system_key_captures_only_its_own_systems_events(
    client: TestClient, publisher: RecordingPublisher, document: Any
) -> None:
    response = client.post("/v1/epcis/capture", json=document, headers=QMS_KEY)
    body = response.json()
    assert response.status_code == 202, response.text
    assert body["refused"] and all(r["status"] == 403 for r in body["refused"])
    assert {r.topic for r in publisher.records} == {"unit.qms.events"}


def test_bad_events_are_refused_by_field_and_the_good_ones_captured(
    client: TestClient, publisher: RecordingPublisher, document: Any
) -> None:
    broken = copy.deepcopy(document)
    events = broken["epcisBody"]["eventList"]
    shipping = next(i for i, e in enumerate(events) if e.get("bizStep") == "shipping")
    events[shipping]["quantityList"][0]["quantity"] = "a lot"
    transformation = next(i for i, e in enumerate(events) if e["type"] == "TransformationEvent")
    events[transformation]["tracesync:scrappedQuantity"] = "minus one"
    response = client.post("/v1/epcis/capture", json=broken, headers=EPCIS_KEY)
    assert response.status_code == 202, response.text
    refused = {r["index"]: r for r in response.json()["refused"]}
    assert set(refused) == {shipping, transformation}
    assert refused[shipping]["errors"][0]["field"] == (
        f"epcisBody.eventList[{shipping}].quantityList[0].quantity"
    )
    field = refused[transformation]["errors"][0]["field"]
    assert field.startswith(f"epcisBody.eventList[{transformation}] -> BATCH_COMPLETED.payload")
    captured = response.json()["captured"]
    assert len(captured) == len(events) - 2
    assert len(publisher.records) == sum(len(c["events"]) for c in captured)


def test_no_key_no_document(client: TestClient) -> None:
    assert client.post("/v1/epcis/capture", json={}).status_code == 401
    response = client.post("/v1/epcis/capture", json={"type": "X"}, headers=EPCIS_KEY)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "type"
