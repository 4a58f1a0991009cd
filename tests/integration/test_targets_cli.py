"""``tracesync sink targets`` as an operator runs it: a real process, the example routes file.

The command reads the catalog's chain topic (unique prefix), delivers the example routes' notices
to a real HTTP target (URL given with ``--target wms.url=...``), an ERP table and a QMS export
under its home, and stops cleanly on SIGTERM.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import TargetServer
from tests.unit.targets_factory import life_of
from tracesync.contracts.record_serde import RecordSerde
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.devtools.supervise import Component, wait_for
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import KafkaSettings, ProducerSettings, RegistrySettings, Settings
from tracesync.topics import TopicCatalog

pytestmark = pytest.mark.integration

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "routes" / "example.toml"


def test_sink_targets_command_delivers_and_stops_on_sigterm(
    kafka_broker: KafkaBroker, target_server: Callable[..., TargetServer], tmp_path: Path
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"cli{uuid.uuid4().hex[:8]}.",
        kafka=KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers),
        registry=RegistrySettings(enabled=False),
    )
    catalog = TopicCatalog.from_settings(settings)
    for name in ("trace.chain", "trace.alerts", "dlq.sinks"):
        spec = catalog.topic(name)
        ensure_topic(kafka_broker.bootstrap_servers, spec.name, spec.partitions, 1)
    serde = RecordSerde.single_object("TraceChain")
    with KafkaPublisher(settings.kafka, ProducerSettings()) as publisher:
        publisher.publish(
            [
                OutboundRecord.keyed_by_batch(
                    catalog.topic("trace.chain").name, "BC1", serde.encode(r)
                )
                for r in life_of("BC1")
            ]
        )
    server = target_server(fail_first=1, status=503)
    args = ["sink", "targets", "--routes", str(EXAMPLE), "--target", f"wms.url={server.url}"]
    sink = Component(args, settings, tmp_path / "sink.log").start()
    try:
        delivered = wait_for(lambda: len(server.accepted) == 3, 90, alive=[sink])
        assert delivered, sink.log_tail()
        erp = settings.home / "targets" / "erp.db"
        assert wait_for(lambda: erp.exists() and _rows(erp) == 1, 30, alive=[sink])
    finally:
        code = sink.stop()
    assert code == 0, sink.log_tail()
    assert [r.route for r in server.accepted] == [
        "wms-inbound-notice",
        "wms-hold-block",
        "wms-hold-unblock",
    ]
    assert "targets sink stopped" in sink.log_tail()
    assert list((settings.home / "targets" / "qms-export").glob("qms-requests-*.csv"))


def _rows(path: Path) -> int:
    with sqlite3.connect(path) as db:
        try:
            return int(db.execute("SELECT count(*) FROM erp_production_receipts").fetchone()[0])
        except sqlite3.OperationalError:  # the sink has not created the table yet
            return 0
