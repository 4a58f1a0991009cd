"""The console's reconciliation dashboard, session cookie and stream tokens, and what the live
and dead-letter views answer without Kafka, through FastAPI's TestClient on both dialects."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient

from serve.app import create_app
from sinks.store.database import TraceStore, open_store
from sinks.store.rows import chain_rows
from tests.console_server import demo_serve, plant_with_a_mismatch

VIEWER = {"X-API-Key": "dev-viewer-key"}
OPERATOR = {"X-API-Key": "dev-operator-key"}


@pytest.fixture
def store(store_url: str) -> Iterator[TraceStore]:
    store = open_store(store_url)
    store.write([chain_rows(r) for r in plant_with_a_mismatch()])
    try:
        yield store
    finally:
        store.engine.dispose()


@pytest.fixture
def client(store: TraceStore) -> Iterator[TestClient]:
    with TestClient(create_app(store.engine, demo_serve(page_limit=4))) as client:
        yield client


def test_reconciliation_counts_by_status_and_lists_each_systems_quantity(
    client: TestClient,
) -> None:
    mismatches = client.get("/v1/reconciliation?status=mismatch", headers=VIEWER).json()

    assert mismatches["counts"] == {"MISMATCH": 1, "NOT_APPLICABLE": 5, "PENDING": 5}
    assert mismatches["total"] == 1
    (row,) = mismatches["items"]
    assert row["batch_code"] == "FG-B3"
    quantities = [row[k] for k in ("mes_quantity", "wms_quantity", "erp_quantity")]
    assert [Decimal(q) for q in quantities] == [Decimal(100), Decimal(90), Decimal(100)]
    assert (Decimal(row["wms_delta"]), Decimal(row["erp_delta"])) == (Decimal(-10), Decimal(0))


def test_the_dashboard_shows_counts_mismatches_and_filters_by_status(client: TestClient) -> None:
    client.post("/login", content="key=dev-viewer-key")

    default = client.get("/reconciliation")
    pending = client.get("/reconciliation?status=PENDING")
    everything = client.get("/reconciliation?status=all&offset=8")

    assert default.status_code == 200
    assert 'id="count-MISMATCH">1<' in default.text
    assert 'href="/batch/FG-B3"' in default.text and "-10.000" in default.text
    assert "MISMATCH: 1" in default.text
    assert "PENDING: 5" in pending.text and 'href="/batch/FG-B3"' not in pending.text
    assert 'id="next"' in pending.text  # 5 rows, 4 per page
    assert "all batches: 11" in everything.text and 'id="previous"' in everything.text


def test_the_session_cookie_is_a_signed_token_not_the_key(client: TestClient) -> None:
    client.post("/login", content="key=dev-operator-key", follow_redirects=False)
    cookie = client.cookies["tracesync_key"]

    assert "dev-operator-key" not in cookie
    assert client.get("/v1/holds").status_code == 200  # the cookie alone authenticates
    client.cookies.set("tracesync_key", cookie[:-2] + "xx")
    tampered = client.get("/v1/holds")
    assert tampered.status_code == 401
    assert tampered.json()["detail"] == "invalid token"
    assert "invalid token" in client.get("/reconciliation").text


def test_a_stream_token_is_short_lived_and_only_for_the_stream(client: TestClient) -> None:
    issued = client.post("/v1/stream-token", headers=VIEWER)
    assert issued.status_code == 200
    token = issued.json()["token"]
    assert issued.json()["expires_in_s"] == 60
    assert "dev-viewer-key" not in token

    # a stream token in the URL opens no other route, and is no session cookie
    assert client.get(f"/v1/holds?token={token}").status_code == 401
    client.cookies.set("tracesync_key", token)
    refused = client.get("/v1/holds")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "a stream token is not valid here"
    assert client.post("/v1/stream-token").status_code == 401


def test_without_kafka_the_live_and_dead_letter_views_say_so(client: TestClient) -> None:
    stream = client.get("/v1/alerts/stream", headers=VIEWER)
    listing = client.get("/v1/dead-letters", headers=VIEWER)
    viewer_redrive = client.post("/v1/dead-letters/streams/redrive", headers=VIEWER)
    operator_redrive = client.post("/v1/dead-letters/streams/redrive", headers=OPERATOR)

    assert (stream.status_code, listing.status_code) == (503, 503)
    assert "not connected to Kafka" in stream.json()["detail"]
    assert viewer_redrive.status_code == 403
    assert "'viewer'" in viewer_redrive.json()["detail"]
    assert operator_redrive.status_code == 503
    client.post("/login", content="key=dev-viewer-key")
    live = client.get("/live")
    assert live.status_code == 200
    assert 'data-hold="FG-B1|FG-B1/H-1"' in live.text
    assert "not connected to Kafka" in live.text
    assert "live.js" not in live.text
    assert client.get("/dead-letters").status_code == 503
    assert client.post("/dead-letters/streams/redrive").status_code == 403
