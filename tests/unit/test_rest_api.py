"""The REST ingest API without a broker: validation, key/system authorization, error bodies.

The producer core is replaced by an in-process recorder that acknowledges (or, for chosen batch
codes, fails) each record; everything else (FastAPI app, serde, topic catalog) is the real code.
The real broker is used in tests/integration/test_rest_ingest.py.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from producers.rest import RestIngest, create_app
from tests.rest_samples import mes_event
from tracesync import bootstrap
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.publisher import Acknowledgement, DeliveryFailure, DeliveryOutcome, OutboundRecord
from tracesync.settings import IngestSettings, Settings
from tracesync.topics import TopicCatalog

MES_KEY = {"X-API-Key": "dev-mes-key"}
ERP_KEY = {"X-API-Key": "dev-erp-key"}
NOW = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)


class RecordingPublisher:
    """Acknowledges every record in memory, except those whose key is in ``fail_keys``."""

    def __init__(self) -> None:
        self.records: list[OutboundRecord] = []
        self.fail_keys: set[bytes] = set()

    def publish(self, records: Sequence[OutboundRecord]) -> list[Acknowledgement]:
        raise AssertionError("the REST server must use publish_async")

    async def publish_async(self, records: Sequence[OutboundRecord]) -> list[DeliveryOutcome]:
        outcomes: list[DeliveryOutcome] = []
        for record in records:
            if record.key in self.fail_keys:
                outcomes.append(DeliveryFailure(record, "Local: Message timed out"))
                continue
            self.records.append(record)
            outcomes.append(Acknowledgement(record.topic, 0, len(self.records) - 1, record.key))
        return outcomes


def erp_event(batch_code: str = "LOT-9") -> dict[str, Any]:
    return {
        "event_type": "MATERIAL_RECEIPT_POSTED",
        "source_ref": f"ERP:MR:{batch_code}",
        "source_seq": 3,
        "batch_code": batch_code,
        "occurred_at": 1_740_000_000_000,
        "payload": {
            "receipt_id": "R-1",
            "supplier_id": "S-1",
            "supplier_lot": "SL-1",
            "material_code": "M-1",
            "quantity": {"value": "120.500", "uom": "kg"},
        },
    }


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
    settings = Settings(
        plant="PLANT-T",
        topic_prefix="unit.",
        ingest=IngestSettings(max_body_bytes=64 * 1024, max_batch_events=20),
    )
    topics = TopicCatalog.from_settings(settings)
    ingest = RestIngest(publisher, serde, topics.source_topic, settings.plant, clock=lambda: NOW)
    with TestClient(create_app(settings, ingest)) as test_client:
        yield test_client


def fields_of(body: dict[str, Any]) -> set[str]:
    return {e["field"] for e in body["errors"]}


# -- accepted events ---------------------------------------------------------------------------


def test_one_event_is_published_to_its_system_topic_keyed_by_batch_code(
    client: TestClient, publisher: RecordingPublisher, serde: EnvelopeSerde
) -> None:
    response = client.post("/v1/mes/events", json=mes_event("B-Ü7"), headers=MES_KEY)
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["topic"] == "unit.mes.events"
    (record,) = publisher.records
    assert record.topic == "unit.mes.events"
    assert record.key == "B-Ü7".encode()
    decoded = serde.decode(record.value)
    assert decoded["event_id"] == body["event_id"]
    assert decoded["batch_code"] == "B-Ü7"


def test_server_fills_event_id_recorded_at_plant_and_source_system(
    client: TestClient, publisher: RecordingPublisher, serde: EnvelopeSerde
) -> None:
    response = client.post("/v1/mes/events", json=mes_event(), headers=MES_KEY)
    assert response.status_code == 202, response.text
    decoded = serde.decode(publisher.records[0].value)
    assert uuid.UUID(decoded["event_id"]).version == 4
    assert decoded["recorded_at"] == NOW
    assert decoded["plant"] == "PLANT-T"
    assert decoded["source_system"] == "MES"


def test_given_event_id_and_plant_are_kept(
    client: TestClient, publisher: RecordingPublisher, serde: EnvelopeSerde
) -> None:
    event_id = str(uuid.uuid4())
    event = mes_event(event_id=event_id, plant="PLANT-X", recorded_at="2025-03-01T07:00:00+01:00")
    response = client.post("/v1/mes/events", json=event, headers=MES_KEY)
    assert response.status_code == 202, response.text
    decoded = serde.decode(publisher.records[0].value)
    assert (decoded["event_id"], decoded["plant"]) == (event_id, "PLANT-X")
    assert decoded["recorded_at"] == dt.datetime(2025, 3, 1, 6, 0, tzinfo=dt.UTC)


def test_erp_key_publishes_erp_event_with_decimal_quantity(
    client: TestClient, publisher: RecordingPublisher, serde: EnvelopeSerde
) -> None:
    response = client.post("/v1/erp/events", json=erp_event(), headers=ERP_KEY)
    assert response.status_code == 202, response.text
    decoded = serde.decode(publisher.records[0].value)
    assert str(decoded["payload"]["quantity"]["value"]) == "120.500"
    assert publisher.records[0].topic == "unit.erp.events"


# -- validation --------------------------------------------------------------------------------


def test_bad_event_gets_422_naming_every_bad_field(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    event = mes_event(source_seq="seven", occurred_at="yesterday")
    del event["payload"]["line_id"]
    event["payload"]["operators"] = "op-1"
    response = client.post("/v1/mes/events", json=event, headers=MES_KEY)
    assert response.status_code == 422
    body = response.json()
    assert fields_of(body) >= {"source_seq", "occurred_at", "payload.line_id", "payload.operators"}
    assert all(e["reason"] for e in body["errors"])
    assert publisher.records == []


def test_decimal_with_too_many_places_is_named_by_path(client: TestClient) -> None:
    event = erp_event()
    event["payload"]["quantity"]["value"] = "1.23456"
    response = client.post("/v1/erp/events", json=event, headers=ERP_KEY)
    assert response.status_code == 422
    assert "payload.quantity.value" in fields_of(response.json())


def test_body_that_is_not_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/v1/mes/events",
        content=b"{not json",
        headers={**MES_KEY, "content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "<body>"


def test_json_that_is_not_an_object_is_422(client: TestClient) -> None:
    response = client.post("/v1/mes/events", json=[1, 2], headers=MES_KEY)
    assert response.status_code == 422
    assert fields_of(response.json()) == {"<root>"}


def test_unknown_source_system_in_path_is_404(client: TestClient) -> None:
    response = client.post("/v1/crm/events", json=mes_event(), headers=MES_KEY)
    assert response.status_code == 404


# -- keys and systems ------------------------------------------------------------------------


def test_missing_or_unknown_key_is_401(client: TestClient, publisher: RecordingPublisher) -> None:
    assert client.post("/v1/mes/events", json=mes_event()).status_code == 401
    response = client.post("/v1/mes/events", json=mes_event(), headers={"X-API-Key": "nope"})
    assert response.status_code == 401
    assert "API key" in response.json()["detail"]
    assert publisher.records == []


def test_mes_key_on_the_erp_path_is_403(client: TestClient, publisher: RecordingPublisher) -> None:
    response = client.post("/v1/erp/events", json=erp_event(), headers=MES_KEY)
    assert response.status_code == 403
    body = response.json()
    assert fields_of(body) == {"source_system"}
    assert "MES" in body["detail"] and "ERP" in body["detail"]
    assert publisher.records == []


def test_mes_key_posting_an_erp_event_is_403_naming_event_type(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    response = client.post("/v1/mes/events", json=erp_event(), headers=MES_KEY)
    assert response.status_code == 403
    body = response.json()
    assert "event_type" in fields_of(body)
    assert any("MATERIAL_RECEIPT_POSTED" in e["reason"] for e in body["errors"])
    assert publisher.records == []


def test_mes_key_claiming_source_system_erp_is_403(client: TestClient) -> None:
    response = client.post("/v1/mes/events", json=mes_event(source_system="ERP"), headers=MES_KEY)
    assert response.status_code == 403
    assert "source_system" in fields_of(response.json())


# -- batches -----------------------------------------------------------------------------------


def test_batch_publishes_valid_events_and_lists_the_rejected(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    bad = mes_event("B-2", source_seq=-0.5)
    batch = [mes_event("B-1"), bad, erp_event(), mes_event("B-4")]
    response = client.post("/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert response.status_code == 202, response.text
    body = response.json()
    assert [a["index"] for a in body["accepted"]] == [0, 3]
    assert [(r["index"], r["status"]) for r in body["rejected"]] == [(1, 422), (2, 403)]
    assert body["rejected"][0]["errors"] == [
        {"field": "source_seq", "reason": body["rejected"][0]["errors"][0]["reason"]}
    ]
    assert [r.key for r in publisher.records] == [b"B-1", b"B-4"]


def test_batch_may_be_wrapped_in_an_events_object(client: TestClient) -> None:
    batch = {"events": [mes_event("B-1"), mes_event("B-2")]}
    response = client.post("/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert response.status_code == 202
    assert len(response.json()["accepted"]) == 2


def test_batch_without_valid_events_is_422_with_every_item(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    batch = [mes_event(batch_code=""), {"event_type": "BATCH_STARTED"}]
    response = client.post("/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert response.status_code == 422
    body = response.json()
    assert body["accepted"] == []
    assert [r["index"] for r in body["rejected"]] == [0, 1]
    assert {e["field"] for e in body["rejected"][0]["errors"]} == {"batch_code"}
    assert publisher.records == []


def test_batch_of_only_foreign_events_is_403(client: TestClient) -> None:
    response = client.post("/v1/mes/events/batch", json=[erp_event()], headers=MES_KEY)
    assert response.status_code == 403


def test_broker_failure_is_503_for_one_and_a_rejection_in_a_batch(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    publisher.fail_keys.add(b"B-down")
    single = client.post("/v1/mes/events", json=mes_event("B-down"), headers=MES_KEY)
    assert single.status_code == 503
    assert "not acknowledged" in single.json()["errors"][0]["reason"]
    batch = [mes_event("B-down"), mes_event("B-up")]
    response = client.post("/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert response.status_code == 202
    assert [(r["index"], r["status"]) for r in response.json()["rejected"]] == [(0, 503)]


def test_empty_batch_and_non_array_are_422(client: TestClient) -> None:
    assert client.post("/v1/mes/events/batch", json=[], headers=MES_KEY).status_code == 422
    response = client.post("/v1/mes/events/batch", json={"x": 1}, headers=MES_KEY)
    assert response.status_code == 422


# -- limits ------------------------------------------------------------------------------------


def test_body_over_the_limit_is_413(client: TestClient, publisher: RecordingPublisher) -> None:
    event = mes_event()
    event["payload"]["operators"] = ["x" * 1000] * 70  # ~70 KiB > 64 KiB
    response = client.post("/v1/mes/events", content=orjson.dumps(event), headers=MES_KEY)
    assert response.status_code == 413
    assert publisher.records == []


def test_body_over_the_limit_without_content_length_is_413(client: TestClient) -> None:
    chunks = (b"[" + b" " * 1024 for _ in range(100))  # streamed: no Content-Length header
    response = client.post("/v1/mes/events/batch", content=chunks, headers=MES_KEY)
    assert response.status_code == 413


def test_batch_longer_than_the_limit_is_413(client: TestClient) -> None:
    batch = [mes_event(f"B-{i}") for i in range(21)]
    response = client.post("/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert response.status_code == 413
    assert "21" in response.json()["detail"]


# -- ops ---------------------------------------------------------------------------------------


def test_healthz(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}


def test_openapi_documents_endpoints_key_header_and_errors(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    one = doc["paths"]["/v1/{system}/events"]["post"]
    batch = doc["paths"]["/v1/{system}/events/batch"]["post"]
    assert {"202", "401", "403", "408", "413", "422", "431", "503"} <= set(one["responses"])
    assert "connection limit" in one["responses"]["503"]["description"]
    assert "at least one" in batch["responses"]["202"]["description"].lower()
    assert "recorded_at" in one["requestBody"]["description"]
    schemes = doc["components"]["securitySchemes"]
    assert any(s.get("name") == "X-API-Key" for s in schemes.values())


def test_shutdown_hook_runs_when_the_server_stops(publisher: RecordingPublisher) -> None:
    closed: list[bool] = []
    settings = Settings()
    ingest = RestIngest(publisher, EnvelopeSerde.single_object(), lambda s: "t", "P")
    app = create_app(settings, ingest, on_shutdown=lambda: closed.append(True))
    with TestClient(app) as test_client:
        assert test_client.get("/healthz").status_code == 200
        assert closed == []
    assert closed == [True]


def test_openapi_request_body_is_the_envelope_from_avro(client: TestClient) -> None:
    doc = client.get("/openapi.json").json()
    body = doc["paths"]["/v1/{system}/events"]["post"]["requestBody"]["content"]["application/json"]
    schema = body["schema"]
    assert "batch_code" in schema["required"] and "event_id" not in schema["required"]
    assert schema["properties"]["batch_code"]["description"]  # the Avro field's doc
    titles = {branch["title"] for branch in schema["properties"]["payload"]["anyOf"]}
    assert len(titles) == 16 and {"BatchStarted", "ShipmentDispatched"} <= titles


def test_the_documented_example_is_accepted(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    doc = client.get("/openapi.json").json()
    one = doc["paths"]["/v1/{system}/events"]["post"]["requestBody"]["content"]["application/json"]
    batch = doc["paths"]["/v1/{system}/events/batch"]["post"]["requestBody"]["content"]
    assert client.post("/v1/mes/events", json=one["example"], headers=MES_KEY).status_code == 202
    example = batch["application/json"]["example"]
    assert client.post("/v1/mes/events/batch", json=example, headers=MES_KEY).status_code == 202
    assert len(publisher.records) == 2


def test_the_lean_single_event_path_answers_as_the_documented_route_does(
    serde: EnvelopeSerde,
) -> None:
    """Single-event posts are served by plain ASGI in front of FastAPI; without it, the FastAPI
    route answers every request the same (status and body)."""
    settings = Settings(
        plant="PLANT-T", topic_prefix="unit.", ingest=IngestSettings(max_body_bytes=2048)
    )
    requests: list[tuple[str, dict[str, str], bytes]] = [
        ("/v1/mes/events", MES_KEY, orjson.dumps(mes_event("B-1", event_id=str(uuid.UUID(int=1))))),
        ("/v1/mes/events", MES_KEY, orjson.dumps(mes_event(batch_code=""))),
        ("/v1/mes/events", MES_KEY, b"{not json"),
        ("/v1/mes/events", MES_KEY, orjson.dumps([1])),
        ("/v1/mes/events", {}, orjson.dumps(mes_event())),
        ("/v1/erp/events", MES_KEY, orjson.dumps(erp_event())),
        ("/v1/mes/events", MES_KEY, orjson.dumps(erp_event())),
        ("/v1/mes/events", MES_KEY, b" " * 4096),
        (
            "/v1/mes/events",
            MES_KEY,
            orjson.dumps(mes_event("B-down", event_id=str(uuid.UUID(int=2)))),
        ),
    ]

    def answers(lean: bool) -> list[tuple[int, Any]]:
        publisher = RecordingPublisher()
        publisher.fail_keys.add(b"B-down")
        topics = TopicCatalog.from_settings(settings)
        ingest = RestIngest(
            publisher, serde, topics.source_topic, settings.plant, clock=lambda: NOW
        )
        app = create_app(settings, ingest)
        if not lean:
            app.user_middleware.clear()
        with TestClient(app) as test_client:
            out = []
            for path, headers, body in requests:
                response = test_client.post(path, content=body, headers=headers)
                out.append((response.status_code, response.json()))
            return out

    lean = answers(lean=True)
    assert [status for status, _ in lean] == [202, 422, 400, 422, 401, 403, 403, 413, 503]
    assert lean == answers(lean=False)
