"""Hostile REST events without a broker: every bad input a 4xx naming the field, never a 500.

Issue 15, findings 5 and 8: an integer timestamp that overflows, an offset that pushes a date past
year 1 or 9999, ``1_000`` or non-ASCII digits, blank, control-character and bidi-override batch
codes, a NUL in a field, an encoded event over the event limit (413, not 503 "safe to retry").
Each probe also goes in a batch with a good event: the good one is still published. Hypothesis
then throws arbitrary JSON at both endpoints: the answer is never a 5xx.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from producers.rest import RestIngest, create_app
from producers.rest.events import Prepared, Rejected, settled
from tests.rest_samples import mes_event
from tests.unit.test_rest_api import MES_KEY, NOW, RecordingPublisher
from tracesync import bootstrap
from tracesync.publisher import DeliveryFailure, OutboundRecord
from tracesync.settings import IngestSettings, Settings, WorkerSettings
from tracesync.topics import TopicCatalog

LIMITS = WorkerSettings(max_field_bytes=2_000, max_event_bytes=8_000, max_chain_bytes=16_000)


def _payload(**fields: Any) -> dict[str, Any]:
    return {**mes_event()["payload"], **fields}


PROBES: list[tuple[str, bytes, str, int]] = [
    # (kind, body, the field named, status)
    (
        "integer timestamp over 64 bits",
        orjson.dumps(mes_event(occurred_at=2**63)),
        "occurred_at",
        422,
    ),
    (
        "integer timestamp past year 9999",
        orjson.dumps(mes_event(occurred_at=10**17)),
        "occurred_at",
        422,
    ),
    (
        "negative integer timestamp before year 1",
        orjson.dumps(mes_event(occurred_at=-(10**17))),
        "occurred_at",
        422,
    ),
    (
        "offset pushes past year 9999",
        orjson.dumps(mes_event(occurred_at="9999-12-31T23:30:00-05:00")),
        "occurred_at",
        422,
    ),
    (
        "offset pushes before year 1",
        orjson.dumps(mes_event(occurred_at="0001-01-01T00:10:00+05:00")),
        "occurred_at",
        422,
    ),
    (
        "recorded_at past year 9999",
        orjson.dumps(mes_event(recorded_at="9999-12-31T23:59:59-01:00")),
        "recorded_at",
        422,
    ),
    (
        "deeply nested object in a field",
        orjson.dumps(mes_event()).replace(b'"PO-1"', b'{"a":' * 500 + b"1" + b"}" * 500),
        "payload.order_id",
        422,
    ),
    (
        "source_seq with digit separators",
        orjson.dumps(mes_event(source_seq="1_000")),
        "source_seq",
        422,
    ),
    (
        "source_seq with Arabic-Indic digits",
        orjson.dumps(mes_event(source_seq="١٢٣")),
        "source_seq",
        422,
    ),
    ("blank batch code", orjson.dumps(mes_event(batch_code="   ")), "batch_code", 422),
    (
        "control character in batch code",
        orjson.dumps(mes_event(batch_code="B-\x07-1")),
        "batch_code",
        422,
    ),
    (
        "bidi override in batch code",
        orjson.dumps(mes_event(batch_code="B-\u202e1-A")),
        "batch_code",
        422,
    ),
    (
        "zero-width character in batch code",
        orjson.dumps(mes_event(batch_code="B-\u200b1")),
        "batch_code",
        422,
    ),
    (
        "newline in source_ref",
        orjson.dumps(mes_event(source_ref="MES:1\nforged log line")),
        "source_ref",
        422,
    ),
    (
        "NUL in a payload field",
        orjson.dumps(mes_event(payload=_payload(order_id="PO\x00-1"))),
        "payload.order_id",
        422,
    ),
    (
        "field over the field limit",
        orjson.dumps(mes_event(payload=_payload(order_id="p" * 2_001))),
        "payload.order_id",
        422,
    ),
    (
        "encoded event over the event limit",
        orjson.dumps(mes_event(payload=_payload(operators=["o" * 1_000] * 9))),
        "<event>",
        413,
    ),
]


@pytest.fixture
def publisher() -> RecordingPublisher:
    return RecordingPublisher()


@pytest.fixture
def client(publisher: RecordingPublisher) -> Iterator[TestClient]:
    settings = Settings(
        registry={"enabled": False}, ingest=IngestSettings(max_body_bytes=64 * 1024)
    )
    serde = bootstrap.envelope_serde(settings, fastavro_validation=False)
    topics = TopicCatalog.from_settings(settings)
    ingest = RestIngest(
        publisher, serde, topics.source_topic, settings.plant, clock=lambda: NOW, limits=LIMITS
    )
    with TestClient(create_app(settings, ingest), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.mark.parametrize("probe", PROBES, ids=[p[0] for p in PROBES])
def test_a_bad_event_is_a_4xx_naming_the_field(
    client: TestClient, publisher: RecordingPublisher, probe: tuple[str, bytes, str, int]
) -> None:
    _, body, field, status = probe
    response = client.post("/v1/mes/events", content=body, headers=MES_KEY)
    assert response.status_code == status, response.text
    assert field in {e["field"] for e in response.json()["errors"]}, response.text
    assert publisher.records == []


@pytest.mark.parametrize("probe", PROBES, ids=[p[0] for p in PROBES])
def test_one_bad_event_in_a_batch_never_fails_the_good_one(
    client: TestClient, publisher: RecordingPublisher, probe: tuple[str, bytes, str, int]
) -> None:
    _, body, field, status = probe
    batch = b"[" + body + b"," + orjson.dumps(mes_event("B-GOOD")) + b"]"
    response = client.post("/v1/mes/events/batch", content=batch, headers=MES_KEY)
    assert response.status_code == 202, response.text
    (rejected,) = response.json()["rejected"]
    assert rejected["index"] == 0 and rejected["status"] == status
    assert field in {e["field"] for e in rejected["errors"]}
    assert [r.key for r in publisher.records] == [b"B-GOOD"]


def test_an_event_the_broker_refuses_as_too_large_is_413_not_503() -> None:
    record = OutboundRecord("mes.events", b"B-1", b"v")
    prepared = Prepared(0, "e-1", record)
    too_large = settled(prepared, DeliveryFailure(record, "Broker: Message size too large"))
    timed_out = settled(prepared, DeliveryFailure(record, "Local: Message timed out"))
    assert isinstance(too_large, Rejected) and too_large.status == 413
    assert isinstance(timed_out, Rejected) and timed_out.status == 503


JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**64 - 1)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)


def _mutated(draw: st.DrawFn) -> Any:
    event = mes_event()
    target = draw(st.sampled_from(["top", "payload"]))
    doc = event if target == "top" else event["payload"]
    key = draw(st.sampled_from(sorted(doc)) | st.text(max_size=8))
    doc[key] = draw(JSON)
    return event


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(event=st.composite(_mutated)())
def test_fuzzed_events_are_never_answered_with_a_5xx(client: TestClient, event: Any) -> None:
    for path, body in (
        ("/v1/mes/events", event),
        ("/v1/mes/events/batch", [event, mes_event("B-OK")]),
    ):
        response = client.post(path, content=orjson.dumps(body), headers=MES_KEY)
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.json()["errors"], response.text


def test_a_negative_quantity_is_422_naming_it(
    client: TestClient, publisher: RecordingPublisher
) -> None:
    event = mes_event(
        "B-NEG",
        event_type="BATCH_COMPLETED",
        payload={
            **mes_event()["payload"],
            "trace_codes": [],
            "produced_quantity": {"value": "-5", "uom": "KG"},
            "scrapped_quantity": {"value": "0", "uom": "KG"},
        },
    )
    response = client.post("/v1/mes/events", json=event, headers=MES_KEY)
    assert response.status_code == 422, response.text
    problems = {e["field"]: e["reason"] for e in response.json()["errors"]}
    assert problems == {"payload.produced_quantity.value": "must be at least 0"}
    assert publisher.records == []
