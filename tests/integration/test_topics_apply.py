"""`apply` against the real broker: creates the catalog, is idempotent, refuses a broken layout."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka.admin import AdminClient

from tests.fixtures.kafka import KafkaBroker
from tracesync.devtools.infra.kafka import ensure_topic
from tracesync.errors import TopologyError
from tracesync.topics import TopicCatalog, apply, read_state

pytestmark = pytest.mark.integration


def _catalog() -> TopicCatalog:
    return TopicCatalog.build(prefix=f"it-{uuid.uuid4().hex[:8]}.", source_partitions=3)


def test_apply_creates_every_topic_then_changes_nothing(kafka_broker: KafkaBroker) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})
    catalog = _catalog()
    first = apply(admin, catalog)
    assert sorted(first.created) == sorted(s.name for s in catalog)
    state = read_state(admin, catalog)
    for spec in catalog:
        assert state[spec.name].partitions == spec.partitions
        assert state[spec.name].cleanup_policy == spec.cleanup_policy
    second = apply(admin, catalog)
    assert second.created == ()
    assert sorted(second.verified) == sorted(s.name for s in catalog)


def test_a_source_topic_with_another_partition_count_stops_apply(kafka_broker: KafkaBroker) -> None:
    admin = AdminClient({"bootstrap.servers": kafka_broker.bootstrap_servers})
    catalog = _catalog()
    odd = catalog.source_topic("WMS")
    ensure_topic(kafka_broker.bootstrap_servers, odd, 2, 1)
    apply_partial = TopicCatalog(catalog.prefix, (catalog.topic("mes.events"),))
    apply(admin, apply_partial)  # mes.events with 3 partitions, like the catalog
    state = read_state(admin, catalog)
    assert {n: s.partitions for n, s in state.items()} == {odd: 2, catalog.source_topic("MES"): 3}
    with pytest.raises(TopologyError) as caught:
        apply(admin, catalog)
    message = str(caught.value)
    assert "not co-partitioned" in message
    assert f"{odd}=2" in message
    assert f"topic {odd} has 2 partitions, the catalog wants 3" in message
    assert "TRACESYNC_SOURCE_PARTITIONS" in message
    # nothing was created by the refused apply
    assert set(read_state(admin, catalog)) == {odd, catalog.source_topic("MES")}
