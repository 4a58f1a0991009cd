"""The rebuild's build phase: the newest version of every batch wins whatever the topic's order.

:func:`ops.rebuild_store.rebuild_store` with a head decoder reads the records' heads first and
decodes only every batch's newest record; without one it decodes everything and the version guard
decides. Both must store the same rows: versions out of order on the topic (an older version
re-driven after a newer one), a batch met once, an undecodable record (reported, not fatal) and a
tombstone.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from confluent_kafka import Producer

from ops.rebuild_store import rebuild_store
from sinks.store.database import open_store
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_store_sink import CHAINS, store_state, versioned
from tracesync.kafka_clients import producer_config
from tracesync.settings import KafkaSettings, ProducerSettings

pytestmark = pytest.mark.integration

ORDER = [("A", 2), ("B", 1), ("A", 1), ("C", 1), ("B", 3), ("C", 2), ("A", 2), ("B", 2)]
"""Per batch, the newest version is not always its last record."""


@pytest.mark.parametrize("heads_first", [True, False], ids=["heads-first", "decode-all"])
def test_the_build_keeps_every_batch_newest_version(
    kafka_broker: KafkaBroker,
    unique_topic: Callable[..., str],
    store_url: str,
    heads_first: bool,
) -> None:
    topic = unique_topic("chain", partitions=2)
    # idempotent: a retried batch never lands after a later one (the versions stay in order)
    kafka = KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers)
    producer = Producer(producer_config(kafka, ProducerSettings()))
    for code, version in ORDER:
        producer.produce(topic, key=code.encode(), value=CHAINS.encode(versioned(code, version)))
    producer.produce(topic, key=b"C", value=b"not avro")
    producer.produce(topic, key=b"D", value=None)
    assert producer.flush(30) == 0
    open_store(store_url).engine.dispose()  # the live store exists, empty

    result = rebuild_store(
        KafkaSettings(bootstrap_servers=kafka_broker.bootstrap_servers),
        topic,
        CHAINS.decode,
        store_url,
        head=CHAINS.head_reader(2) if heads_first else None,
    )

    newest = {"A": 2, "B": 3, "C": 2}
    # versioned(): the parent lot of each version's one edge says which version's rows are stored
    expected = {code: (v, frozenset({f"LOT-{code}-{v % 3}"})) for code, v in newest.items()}
    assert store_state(store_url) == expected
    assert result.records_read == len(ORDER) + 2
    assert len(result.undecodable) == 1
    assert "not a TraceChain" in result.undecodable[0]
    if heads_first:  # only the newest record of each batch was decoded and written
        assert result.chains_written == len(newest)
