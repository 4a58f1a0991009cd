"""How many notices per second the HTTP transport delivers, and that none is lost or doubled.

Many batches' chain records (every version twice) go through the sink to the local HTTP target,
once with one delivery thread and once with eight. The rate (first to last acknowledgement) is
printed for the record, never asserted; what is asserted is exactly-once per key and batch order.
"""

from __future__ import annotations

import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from sinks.targets.config import parse_routes
from sinks.topics import SinkTopics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import RunningSink, TargetServer, wait_until
from tests.unit.targets_factory import life_of
from tracesync.contracts.record_serde import RecordSerde
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"
WMS_ROUTES = ["wms-inbound-notice", "wms-hold-block", "wms-hold-unblock"]
BATCHES = 300


@pytest.mark.parametrize("concurrency", [1, 8])
def test_http_notices_per_second(  # noqa: PLR0917 - one parameter per fixture
    concurrency: int,
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    unique_group: Callable[..., str],
    target_server: Callable[..., TargetServer],
    run_targets_sink: Callable[..., RunningSink],
    tmp_path: Path,
) -> None:
    data: dict[str, Any] = tomllib.loads(EXAMPLE.read_text())
    data["routes"] = [r for r in data["routes"] if r["name"] in WMS_ROUTES]  # HTTP only
    server = target_server()
    config = parse_routes(data, {"wms": {"url": server.url}})
    topics = SinkTopics(unique_topic("chain", 6), unique_topic("alerts"), unique_topic("dlq", 1))
    serde = RecordSerde.single_object("TraceChain")
    codes = [f"T{n:04d}" for n in range(BATCHES)]
    kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
    with KafkaPublisher(kafka, ProducerSettings()) as publisher:
        publisher.publish(
            [
                OutboundRecord.keyed_by_batch(topics.chain, code, serde.encode(record))
                for code in codes
                for record in life_of(code)
                for _ in range(2)
            ]
        )
    expected = 3 * BATCHES
    running = run_targets_sink(config, topics, tmp_path, unique_group(), concurrency)
    wait_until(lambda: len(server.accepted) >= expected, 300, what="all notices")
    running.stop()

    accepted = server.accepted
    assert len({r.key for r in accepted}) == len(accepted) == expected
    for code in codes:
        assert [r.route for r in accepted if r.payload["batch_code"] == code] == WMS_ROUTES
    seconds = accepted[-1].at - accepted[0].at
    print(
        f"\nHTTP notices: {expected} in {seconds:.2f}s = {(expected - 1) / seconds:.0f}/s "
        f"(concurrency {concurrency}, {len(server.requests)} requests)"
    )
