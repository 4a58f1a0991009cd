"""REST ingest against the real broker, served by the real ``tracesync ingest api`` process.

Each test gets its own topic prefix (the four source topics created with 6 partitions) and its own
server process on a free port, stopped in teardown. Checked: accepted events arrive
decodable on their system's topic, keyed by batch code, on the murmur2 partition the response
names; bad events of a batch are refused while the valid ones are stored; the MES key cannot
publish ERP events; and after SIGKILL + restart mid-load every event that got a 202 is in Kafka.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_producer_core import faust_partition, read_topic
from tests.rest_samples import mes_event
from tests.slot import free_port
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.topics import SOURCE_SYSTEMS, TopicCatalog

pytestmark = pytest.mark.integration

PARTITIONS = 6
TRACESYNC = Path(sys.executable).with_name("tracesync")
MES_KEY = {"X-API-Key": "dev-mes-key"}
ERP_KEY = {"X-API-Key": "dev-erp-key"}


class IngestServer:
    """One ``tracesync ingest api`` process; can be SIGKILLed and started again on its port."""

    def __init__(self, bootstrap: str, prefix: str, port: int, home: Path) -> None:
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.log = home / "ingest-api.log"
        self.env = {
            **os.environ,
            "TRACESYNC_HOME": str(home),
            "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "TRACESYNC_REGISTRY__ENABLED": "false",  # single-object; the registry path: e2e
            "TRACESYNC_TOPIC_PREFIX": prefix,
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 60.0) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(TRACESYNC), "ingest", "api", "--host", "127.0.0.1", "--port", str(self.port)],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"ingest api exited with {self.process.returncode}:\n{self.tail()}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        pytest.fail(f"ingest api did not answer within {timeout_s}s:\n{self.tail()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""


@pytest.fixture
def topic_prefix(kafka_broker: KafkaBroker) -> str:
    """A prefix of this test's own; its four source topics exist with 6 partitions."""
    prefix = f"rest-{uuid.uuid4().hex[:10]}."
    catalog = TopicCatalog.build(prefix, PARTITIONS)
    for system in SOURCE_SYSTEMS:
        ensure_topic(kafka_broker.bootstrap_servers, catalog.source_topic(system), PARTITIONS, 1)
    return prefix


@pytest.fixture
def server(kafka_broker: KafkaBroker, topic_prefix: str, tmp_path: Path) -> Iterator[IngestServer]:
    ingest = IngestServer(kafka_broker.bootstrap_servers, topic_prefix, free_port(), tmp_path)
    ingest.start()
    try:
        yield ingest
    finally:
        ingest.stop()


def erp_event(batch_code: str) -> dict[str, Any]:
    return {
        "event_type": "MATERIAL_RECEIPT_POSTED",
        "source_ref": f"ERP:MR:{batch_code}",
        "source_seq": 1,
        "batch_code": batch_code,
        "occurred_at": "2025-03-01T05:00:00Z",
        "payload": {
            "receipt_id": "R-1",
            "supplier_id": "S-1",
            "supplier_lot": "SL-1",
            "material_code": "M-1",
            "quantity": {"value": "120.500", "uom": "kg"},
        },
    }


def stored_events(bootstrap: str, topic: str) -> list[tuple[int, int, bytes, dict[str, Any]]]:
    serde = EnvelopeSerde.single_object()
    return [(p, o, k, serde.decode(v)) for p, o, k, v in read_topic(bootstrap, topic, PARTITIONS)]


def test_accepted_events_are_stored_decodable_keyed_by_batch_code_on_murmur2_partitions(
    kafka_broker: KafkaBroker, topic_prefix: str, server: IngestServer
) -> None:
    codes = [f"B-{i:04d}-Ü" for i in range(30)]
    answers = [
        httpx.post(f"{server.url}/v1/mes/events", json=mes_event(code), headers=MES_KEY)
        for code in codes
    ]
    assert [a.status_code for a in answers] == [202] * len(codes), answers[0].text
    erp = httpx.post(f"{server.url}/v1/erp/events", json=erp_event("LOT-1"), headers=ERP_KEY)
    assert erp.status_code == 202, erp.text

    topic = f"{topic_prefix}mes.events"
    stored = {(p, o): (k, e) for p, o, k, e in stored_events(kafka_broker.bootstrap_servers, topic)}
    assert len(stored) == len(codes)
    for code, answer in zip(codes, answers, strict=True):
        body = answer.json()
        assert body["topic"] == topic
        key, event = stored[(body["partition"], body["offset"])]
        assert key == code.encode("utf-8")
        assert body["partition"] == faust_partition(key)
        assert event["event_id"] == body["event_id"]
        assert (event["batch_code"], event["source_system"]) == (code, "MES")
    assert len({p for p, _ in stored}) > 1  # 30 keys over 6 partitions: the key spreads them

    erp_stored = stored_events(kafka_broker.bootstrap_servers, f"{topic_prefix}erp.events")
    assert [(k, e["event_type"]) for _, _, k, e in erp_stored] == [
        (b"LOT-1", "MATERIAL_RECEIPT_POSTED")
    ]


def test_bad_events_are_refused_with_their_fields_and_the_valid_ones_of_the_batch_stored(
    kafka_broker: KafkaBroker, topic_prefix: str, server: IngestServer
) -> None:
    good_ids = [str(uuid.uuid4()) for _ in range(3)]
    batch = [
        mes_event("B-1", good_ids[0]),
        mes_event("B-2", occurred_at="not a time", source_seq="x"),
        mes_event("B-3", good_ids[1]),
        erp_event("LOT-2"),
        mes_event("B-5", good_ids[2]),
    ]
    answer = httpx.post(f"{server.url}/v1/mes/events/batch", json=batch, headers=MES_KEY)
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert [a["event_id"] for a in body["accepted"]] == good_ids
    rejected = {r["index"]: r for r in body["rejected"]}
    assert set(rejected) == {1, 3}
    assert {e["field"] for e in rejected[1]["errors"]} == {"occurred_at", "source_seq"}
    assert rejected[3]["status"] == 403

    single = httpx.post(
        f"{server.url}/v1/mes/events", json=mes_event("B-6", source_seq=None), headers=MES_KEY
    )
    assert single.status_code == 422
    assert [e["field"] for e in single.json()["errors"]] == ["source_seq"]

    stored = stored_events(kafka_broker.bootstrap_servers, f"{topic_prefix}mes.events")
    assert sorted(e["event_id"] for _, _, _, e in stored) == sorted(good_ids)


def test_the_mes_key_cannot_publish_erp_events(
    kafka_broker: KafkaBroker, topic_prefix: str, server: IngestServer
) -> None:
    on_erp_path = httpx.post(f"{server.url}/v1/erp/events", json=erp_event("L-1"), headers=MES_KEY)
    on_mes_path = httpx.post(f"{server.url}/v1/mes/events", json=erp_event("L-1"), headers=MES_KEY)
    unknown_key = httpx.post(
        f"{server.url}/v1/erp/events", json=erp_event("L-1"), headers={"X-API-Key": "guess"}
    )
    assert (on_erp_path.status_code, on_mes_path.status_code) == (403, 403)
    assert unknown_key.status_code == 401
    assert {e["field"] for e in on_mes_path.json()["errors"]} == {"event_type"}
    for system in SOURCE_SYSTEMS:
        topic = f"{topic_prefix}{system.lower()}.events"
        assert stored_events(kafka_broker.bootstrap_servers, topic) == []


@dataclass
class LoadClient:
    """Posts MES events (singles and batches of 10) in a loop; remembers which got a 202."""

    url: str
    acknowledged: set[str] = field(default_factory=set)
    failed_requests: int = 0
    errors: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with httpx.Client(base_url=self.url, headers=MES_KEY, timeout=10.0) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                batch = [mes_event(f"B-{n}-{i}", str(uuid.uuid4())) for i in range(1 + 9 * (n % 2))]
                self._post(client, batch)

    def _post(self, client: httpx.Client, batch: list[dict[str, Any]]) -> None:
        try:
            if len(batch) == 1:
                answer = client.post("/v1/mes/events", json=batch[0])
            else:
                answer = client.post("/v1/mes/events/batch", json=batch)
        except httpx.TransportError:
            self.failed_requests += 1
            time.sleep(0.05)
            return
        if answer.status_code != 202:
            self.failed_requests += 1
            if answer.status_code < 500:
                self.errors.append(answer.text)
            return
        body = answer.json()
        accepted = body.get("accepted", [body])
        self.acknowledged.update(a["event_id"] for a in accepted)

    def wait_for(self, count: int, timeout_s: float = 120.0) -> None:
        deadline = time.monotonic() + timeout_s
        while len(self.acknowledged) < count and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.acknowledged) >= count, f"only {len(self.acknowledged)} acknowledged"


def test_no_acknowledged_event_is_lost_when_the_server_is_killed_mid_run(
    kafka_broker: KafkaBroker, topic_prefix: str, server: IngestServer
) -> None:
    client = LoadClient(server.url)
    worker = threading.Thread(target=client.run, name="load-client")
    worker.start()
    try:
        client.wait_for(300)
        server.kill()  # SIGKILL while requests are in flight
        before_restart = len(client.acknowledged)
        server.start()
        client.wait_for(before_restart + 300)
    finally:
        client.stop.set()
        worker.join(timeout=60)

    assert client.errors == []
    stored = stored_events(kafka_broker.bootstrap_servers, f"{topic_prefix}mes.events")
    stored_ids = {e["event_id"] for _, _, _, e in stored}
    missing = client.acknowledged - stored_ids
    assert missing == set(), f"{len(missing)} acknowledged events are not in Kafka"
    assert len(stored_ids) == len(stored)  # the idempotent producer wrote no duplicates
    print(
        f"acknowledged {len(client.acknowledged)}, stored {len(stored)}, "
        f"failed requests around the kill {client.failed_requests}"
    )
