"""The console over the real broker: live alerts as server-sent events, the dead-letter list and
its re-drive, on a uvicorn server (an endless event stream needs a real one)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from serve.app import create_app
from serve.pipeline import Pipeline, pipeline_of
from sinks.store.database import open_store
from tests.console_server import demo_serve, serving
from tests.fixtures.kafka import KafkaBroker
from tests.topic_reader import TopicReader
from tracesync import bootstrap, deadletter
from tracesync.contracts.record_serde import RecordSerde
from tracesync.errors import RecordOrigin
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import Settings

VIEWER = {"X-API-Key": "dev-viewer-key"}
OPERATOR = {"X-API-Key": "dev-operator-key"}
ALERTS = RecordSerde.single_object("Alert")


@pytest.fixture
def settings(kafka_broker: KafkaBroker, tmp_path: Path) -> Settings:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"{uuid.uuid4().hex[:8]}.",
        source_partitions=2,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
    )
    bootstrap.ensure_topics(settings)
    return settings


@pytest.fixture
def pipeline(settings: Settings) -> Pipeline:
    return pipeline_of(settings)


@pytest.fixture
def console(pipeline: Pipeline, tmp_path: Path) -> Iterator[str]:
    store = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    try:
        with serving(
            create_app(store.engine, demo_serve(page_limit=2), None, pipeline=pipeline)
        ) as url:
            yield url
    finally:
        store.engine.dispose()


def publish(settings: Settings, records: list[OutboundRecord]) -> None:
    with KafkaPublisher(settings.kafka, settings.producer) as publisher:
        publisher.publish(records)


def an_alert(batch: str) -> dict[str, Any]:
    return {
        "alert_id": str(uuid.uuid4()),
        "batch_code": batch,
        "kind": "HOLD_PLACED",
        "subject": f"{batch}/H-9",
        "message": "hold H-9: supplier alert",
        "origin_code": batch,
        "occurred_at": datetime(2026, 11, 2, 6, 0, tzinfo=UTC),
    }


def events(lines: Iterator[str]) -> Iterator[tuple[str, dict[str, Any], str | None]]:
    """(event, data, id) of each server-sent event read from ``lines``."""
    event, data, ident = "message", "", None
    for line in lines:
        if line.startswith("event: "):
            event = line[7:]
        elif line.startswith("data: "):
            data = line[6:]
        elif line.startswith("id: "):
            ident = line[4:]
        elif not line and data:
            yield event, json.loads(data), ident
            event, data, ident = "message", "", None


def test_an_alert_published_after_the_page_opened_arrives_as_a_server_sent_event(
    console: str, settings: Settings, pipeline: Pipeline
) -> None:
    alert = an_alert("LIVE-B1")
    with httpx.stream("GET", f"{console}/v1/alerts/stream", headers=VIEWER, timeout=30) as answer:
        assert answer.status_code == 200
        assert answer.headers["content-type"].startswith("text/event-stream")
        stream = events(answer.iter_lines())
        states = []
        for event, data, _ in stream:
            assert event == "status"
            states.append(data["state"])
            if data["state"] == "live":
                break
        encoded = ALERTS.encode(alert)
        key = alert["batch_code"]
        publish(settings, [OutboundRecord.keyed_by_batch(pipeline.alerts_topic, key, encoded)])
        event, data, ident = next(stream)

    assert event == "alert"
    assert data["alert_id"] == alert["alert_id"]
    assert data["occurred_at"] == "2026-11-02T06:00:00+00:00"
    assert ident is not None
    # a page that reconnects with the id it saw gets nothing twice; a new page gets it replayed
    again = {"Last-Event-ID": ident, **VIEWER}
    with httpx.stream("GET", f"{console}/v1/alerts/stream", headers=again, timeout=30) as answer:
        first = next(events(answer.iter_lines()))
    with httpx.stream("GET", f"{console}/v1/alerts/stream", headers=VIEWER, timeout=30) as answer:
        stream = events(answer.iter_lines())
        replayed = [next(stream), next(stream)]
    assert first[0] == "status"
    assert [e for e, _, _ in replayed] == ["status", "alert"]
    assert replayed[1][1]["alert_id"] == alert["alert_id"]


def test_the_stream_takes_a_short_lived_token_in_place_of_the_key(console: str) -> None:
    token = httpx.post(f"{console}/v1/stream-token", headers=VIEWER).json()["token"]

    with httpx.stream("GET", f"{console}/v1/alerts/stream?token={token}", timeout=30) as answer:
        assert answer.status_code == 200
        event, _, _ = next(events(answer.iter_lines()))
    forged = httpx.get(f"{console}/v1/alerts/stream?token={token[:-3]}abc")
    missing = httpx.get(f"{console}/v1/alerts/stream")

    assert event == "status"
    assert (forged.status_code, forged.json()["detail"]) == (401, "invalid token")
    assert missing.status_code == 401


def dead_letter(settings: Settings, pipeline: Pipeline, reason: str, offset: int) -> OutboundRecord:
    origin = RecordOrigin(bootstrap.catalog(settings).source_topic("QMS"), 1, offset)
    headers = deadletter.build_headers(reason, "streams", origin)
    topic = pipeline.dead_letter_topics["streams"]
    return OutboundRecord(topic, b"BAD-1", b"not an envelope", tuple(headers))


def test_dead_letters_are_listed_with_their_reasons_and_an_operator_redrives_them(
    console: str, settings: Settings, pipeline: Pipeline
) -> None:
    publish(
        settings,
        [
            dead_letter(settings, pipeline, "cannot decode Envelope: short read", 41),
            dead_letter(settings, pipeline, "unknown event type FOO", 42),
        ],
    )

    listed = httpx.get(f"{console}/v1/dead-letters?stage=streams", headers=VIEWER).json()
    everything = httpx.get(f"{console}/v1/dead-letters?offset=1", headers=VIEWER).json()
    viewer = httpx.post(f"{console}/v1/dead-letters/streams/redrive", headers=VIEWER)
    unknown = httpx.get(f"{console}/v1/dead-letters?stage=nope", headers=VIEWER)

    assert listed["total"] == 2
    assert listed["topics"] == [
        {
            "stage": "streams",
            "topic": pipeline.dead_letter_topics["streams"],
            "count": 2,
            "pending": 2,
        },
    ]
    newest = listed["items"][0]
    assert newest["reason"] == "unknown event type FOO"
    assert newest["stage"] == "streams"
    assert newest["origin"] == f"{settings.topic_prefix}qms.events[1]@42"
    assert (newest["key"], newest["pending"], newest["redriven"]) == ("BAD-1", True, 0)
    assert [t["stage"] for t in everything["topics"]] == ["ingest", "streams", "sinks"]
    assert everything["total"] == 2
    assert [i["reason"] for i in everything["items"]] == ["cannot decode Envelope: short read"]
    assert viewer.status_code == 403
    assert "may not redrive" in viewer.json()["detail"]
    assert unknown.status_code == 422
    assert "stage" in unknown.json()["detail"]

    redriven = httpx.post(f"{console}/v1/dead-letters/streams/redrive", headers=OPERATOR)

    assert redriven.status_code == 200, redriven.text
    assert redriven.json()["redriven"] == 2
    assert redriven.json()["to_topics"] == {f"{settings.topic_prefix}qms.events": 2}
    after = httpx.get(f"{console}/v1/dead-letters?stage=streams", headers=VIEWER).json()
    assert [i["pending"] for i in after["items"]] == [False, False]
    source = TopicReader(settings, f"{settings.topic_prefix}qms.events", lambda value: value)
    try:
        for _ in range(20):
            source.poll()
            if len(source.messages) == 2:
                break
        assert [m.value() for m in source.messages] == [b"not an envelope"] * 2
        assert all(dict(m.headers())[deadletter.REDRIVEN] == b"1" for m in source.messages)
    finally:
        source.close()
