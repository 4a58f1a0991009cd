"""The observability pieces without a broker: metrics, lag from statistics, health, the HTTP
endpoints (stdlib server and FastAPI), request labels, the sinks' and worker's wrappers, JSON logs.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from producers.rest import RestIngest, create_app
from sinks.observe import MeteredTarget, MeteredWriter
from sinks.store.rows import ChainRows, Row
from sinks.store.writer import StoreUnavailableError, WriteResult
from sinks.targets.base import Target, TargetError
from sinks.targets.routing import Notice
from streams.engines.base import Output
from streams.observe import WorkerProbe
from streams.processor import Incoming
from tests.rest_samples import mes_event
from tests.unit.test_rest_api import RecordingPublisher
from tracesync import bootstrap
from tracesync.deadletter import build_headers
from tracesync.errors import RecordOrigin
from tracesync.observability.asgi import instrument
from tracesync.observability.health import Flag, Health
from tracesync.observability.kafka_stats import KafkaStats
from tracesync.observability.logs import JsonFormatter
from tracesync.observability.metrics import Metrics, reason_class
from tracesync.observability.runtime import Observability
from tracesync.observability.server import MetricsServer
from tracesync.settings import MetricsSettings, Settings
from tracesync.topics import TopicCatalog


def sample(metrics: Metrics, name: str, **labels: str) -> float | None:
    value = metrics.registry.get_sample_value(name, labels)
    return None if value is None else float(value)


# -- metrics -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reason", "label"),
    [
        ("cannot decode: bad magic byte 0x7f", "cannot_decode"),
        ("merge failed: KeyError: 'x'", "merge_failed"),
        ("key 'B-1' does not match batch_code 'B-2'", "key"),
        ("failed after 5 attempts: HTTP 503", "failed_after_5_attempts"),
        ("", "unknown"),
    ],
)
def test_a_reason_becomes_a_bounded_label(reason: str, label: str) -> None:
    assert reason_class(reason) == label


def test_a_batch_is_counted_per_topic_and_its_oldest_record_aged() -> None:
    metrics = Metrics("test")
    metrics.consumed("s", {"a": 3, "b": 2}, oldest_ms=1.0)
    metrics.consumed("s", {"a": 1})
    assert sample(metrics, "tracesync_events_in_total", stage="s", topic="a") == 4
    assert sample(metrics, "tracesync_end_to_end_seconds_count", stage="s") == 1
    assert (sample(metrics, "tracesync_end_to_end_seconds_sum", stage="s") or 0) > 1e9


# -- librdkafka statistics ---------------------------------------------------------------------


def _stats(lag: int, state: str = "up", fetched: str = "active") -> str:
    partitions = {"0": {"fetch_state": fetched, "consumer_lag": lag}, "-1": {"consumer_lag": -1}}
    return json.dumps(
        {
            "brokers": {"b:9092/1": {"nodeid": 1, "state": "UP"}},
            "cgrp": {"state": state, "join_state": "steady"},
            "topics": {"trace.chain": {"partitions": partitions}},
        }
    )


def test_statistics_set_the_lag_of_fetched_partitions_and_the_group_state() -> None:
    metrics = Metrics("test")
    stats = KafkaStats(metrics, group="g")
    stats(_stats(42))
    labels = {"group": "g", "topic": "trace.chain", "partition": "0"}
    assert sample(metrics, "tracesync_consumer_lag", **labels) == 42
    assert stats.joined and stats.brokers_up
    stats(_stats(7, state="wait-join", fetched="none"))  # the partition went away
    assert sample(metrics, "tracesync_consumer_lag", **labels) is None
    assert not stats.joined
    stats("not json")  # never raises into librdkafka
    assert stats.reports == 2


# -- health and the endpoints ------------------------------------------------------------------


def test_readiness_is_every_check_passing_and_a_raising_check_fails() -> None:
    metrics = Metrics("test")
    health = Health(metrics)
    assert not health.readiness().ready  # no check: not ready
    flag = Flag()
    health.add("assigned", flag)
    health.add("broken", lambda: 1 / 0 == 0)
    assert health.readiness().checks == {"assigned": False, "broken": False}
    flag.set()
    health.add("broken", lambda: True)
    assert health.readiness().ready
    assert sample(metrics, "tracesync_ready") == 1


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:  # noqa: S310 (a local URL)
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.fixture
def obs() -> Iterator[Observability]:
    observability = Observability("test", MetricsSettings(port=0))
    yield observability
    observability.close()


def test_the_metrics_server_answers_metrics_health_and_readiness(obs: Observability) -> None:
    ready = Flag()
    obs.health.add("ready", ready)
    server = MetricsServer("127.0.0.1", 0, obs.metrics, obs.health)
    base = f"http://127.0.0.1:{server.port}"
    try:
        obs.metrics.consumed("s", {"t": 5})
        status, body = _get(f"{base}/metrics")
        assert status == 200
        families = {f.name for f in text_string_to_metric_families(body.decode())}
        assert {"tracesync_events_in", "tracesync_ready"} <= families
        assert b'tracesync_events_in_total{stage="s",topic="t"} 5.0' in body
        assert _get(f"{base}/healthz")[0] == 200
        status, body = _get(f"{base}/readyz")
        assert (status, json.loads(body)["checks"]) == (503, {"ready": False})
        ready.set()
        assert _get(f"{base}/readyz")[0] == 200
        assert _get(f"{base}/nothing")[0] == 404
    finally:
        server.close()


def test_the_rest_app_counts_requests_by_route_template_and_status(obs: Observability) -> None:
    settings = Settings(registry={"enabled": False}, topic_prefix="unit.")
    serde = bootstrap.envelope_serde(settings, fastavro_validation=False)
    topics = TopicCatalog.from_settings(settings)
    app = create_app(settings, RestIngest(RecordingPublisher(), serde, topics.source_topic, "P"))
    instrument(app, obs.metrics, obs.health)
    obs.health.add("ok", lambda: True)
    key = {"X-API-Key": "dev-mes-key"}
    with TestClient(app) as client:
        assert client.post("/v1/mes/events", json=mes_event("B-1"), headers=key).status_code == 202
        assert client.post("/v1/mes/events", json={}, headers=key).status_code == 422
        assert client.get("/readyz").json()["status"] == "ready"
        assert client.get("/healthz").status_code == 200
        scraped = client.get("/metrics").text
    route = "/v1/{system}/events"
    for status in ("202", "422"):
        labels = {"route": route, "method": "POST", "status": status}
        assert sample(obs.metrics, "tracesync_http_requests_total", **labels) == 1
    assert sample(obs.metrics, "tracesync_http_request_seconds_count", route=route, method="POST")
    assert 'route="/readyz"' in scraped
    assert "/metrics" not in app.openapi()["paths"]


# -- the sinks' and the worker's wrappers ------------------------------------------------------


class FlakyWriter:
    def __init__(self) -> None:
        self.down = False

    def write(self, chains: Sequence[ChainRows], alerts: Sequence[Row] = ()) -> WriteResult:
        if self.down:
            raise StoreUnavailableError("connection refused")
        return WriteResult(len(chains), 1, len(alerts))


def test_the_metered_writer_times_writes_and_follows_reachability() -> None:
    metrics = Metrics("test")
    inner = FlakyWriter()
    writer = MeteredWriter(inner, metrics)
    writer.write([], [])
    assert sample(metrics, "tracesync_store_write_seconds_count") == 1
    assert sample(metrics, "tracesync_store_rows_total", kind="stale_chain") == 1
    inner.down = True
    with pytest.raises(StoreUnavailableError):
        writer.write([], [])
    assert sample(metrics, "tracesync_store_write_errors_total", kind="unavailable") == 1
    assert not writer.reachable()
    inner.down = False
    writer.write([], [])
    assert writer.reachable()


class RefusingTarget(Target):
    transport = "test"
    options = frozenset()

    def send(self, notice: Notice) -> None:
        if notice.key.endswith("bad"):
            raise self.error("HTTP 400", retriable=False)


def _notice(key: str) -> Notice:
    return Notice("r", "wms", "B-1", "f-1", key, 1, {})


def test_the_metered_target_counts_deliveries_and_failures(tmp_path: Path) -> None:
    metrics = Metrics("test")
    target = MeteredTarget(RefusingTarget("wms", {}, tmp_path), metrics)
    target.send(_notice("r:B-1:good"))
    with pytest.raises(TargetError, match="HTTP 400"):
        target.send(_notice("r:B-1:bad"))
    assert sample(metrics, "tracesync_target_deliveries_total", target="wms") == 1
    assert sample(metrics, "tracesync_target_failures_total", target="wms", retriable="false") == 1
    assert sample(metrics, "tracesync_target_delivery_seconds_count", target="wms") == 2


def test_the_worker_probe_counts_a_buffer_its_outputs_and_dead_letters(
    obs: Observability,
) -> None:
    probe = WorkerProbe(obs, "tracesync-worker")
    records = [Incoming(b"B-1", b"v", "mes.events", 0, n) for n in range(3)]
    letter = build_headers(
        "undecodable: ValueError: x", "streams", RecordOrigin("mes.events", 0, 2)
    )
    outputs = [Output("trace.chain", b"B-1", b"c"), Output("dlq.streams", b"B-1", b"v", letter)]
    probe.buffer("streams.merge", records, 1.0, 0.0, outputs)
    probe.lag({("mes.events", 0): (3, 10)})
    metrics = obs.metrics
    assert sample(metrics, "tracesync_events_in_total", stage="streams.merge", topic="mes.events")
    labels = {"stage": "streams.merge", "topic": "dlq.streams"}
    assert sample(metrics, "tracesync_events_out_total", **labels) == 1
    assert sample(metrics, "tracesync_dead_letters_total", stage="streams", reason="undecodable")
    lag = {"group": "tracesync-worker", "topic": "mes.events", "partition": "0"}
    assert sample(metrics, "tracesync_consumer_lag", **lag) == 7
    assert sample(metrics, "tracesync_last_progress_timestamp_seconds", stage="streams.merge")


# -- logs --------------------------------------------------------------------------------------


def test_json_logs_carry_the_extras_and_mask_secret_looking_ones() -> None:
    record = logging.LogRecord(
        "sinks.store", logging.WARNING, "f.py", 1, "dead letter %s", ("x",), None
    )
    record.batch_code = "B-1"
    record.origin = "trace.chain[0]@5"
    record.api_key = "dev-mes-key"
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "dead letter x"
    assert (line["level"], line["logger"]) == ("WARNING", "sinks.store")
    assert (line["batch_code"], line["origin"], line["api_key"]) == (
        "B-1",
        "trace.chain[0]@5",
        "***",
    )
    assert line["time"][-6] in "+-"  # the UTC offset, e.g. +00:00
