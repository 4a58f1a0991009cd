"""The worker's size limits on the real broker, on both engines (issue 15, finding 1).

Two valid MES events of ~600 KB for one batch would make a chain of ~1.2 MB, more than the broker
takes; a single ~950 KB envelope produced straight to a source topic is more than one event may
be. Before the limits either stopped the worker (``MessageSizeTooLarge``). Now the second big
event and the huge envelope are in ``dlq.streams`` with their reasons, the worker stays up and
the good chains sent around them reach the chain topic.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from streams.bootstrap import worker_topics
from tests.fixtures.kafka import KafkaBroker
from tests.integration.test_worker_pipeline import Plant, publish
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import Settings


@pytest.fixture(scope="module", params=("quix", "faust"))
def pipeline(
    request: pytest.FixtureRequest,
    kafka_broker: KafkaBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, Component]]:
    """One worker per engine for the module (the tests share it)."""
    home = tmp_path_factory.mktemp(f"limits-{request.param}")
    settings = Settings(
        home=home / "home",
        topic_prefix=f"{uuid.uuid4().hex[:8]}.",
        source_partitions=2,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        worker={
            "engine": request.param,
            "app_id": f"limits-{request.param}-{uuid.uuid4().hex[:6]}",
            "take_within_s": 0.02,
            "max_field_bytes": 1024,
        },
    )
    bootstrap.ensure_topics(settings)
    worker = Component(["worker", "--loglevel", "warning"], settings, home / "worker.log").start()
    yield settings, worker
    worker.stop()


def _big_started(plant: Plant, batch: str, ref: str, kilobytes: int) -> dict[str, Any]:
    operators = [f"op-{i:06d}-" + "x" * 90 for i in range(kilobytes * 10)]  # ~100 bytes each
    return plant.add(
        "BATCH_STARTED",
        "MES",
        batch,
        {
            "order_id": f"PO-{batch}",
            "product_code": "FG",
            "line_id": "L1",
            "shift": "A",
            "team": "T1",
            "operators": operators,
            "equipment": ["MIX-1"],
        },
        ref=ref,
    )


def _readers(settings: Settings) -> tuple[TopicReader, TopicReader]:
    topics = worker_topics(settings)
    chains = TopicReader(
        settings, topics.chain, bootstrap.record_serde(settings, "TraceChain", topics.chain).decode
    )
    return chains, TopicReader(settings, topics.dead_letter, lambda v: v)


def _reasons(dlq: TopicReader) -> dict[bytes, list[str]]:
    out: dict[bytes, list[str]] = {}
    for m in dlq.messages:
        out.setdefault(m.key(), []).append(dict(m.headers())["dlq.reason"].decode())
    return out


def test_a_chain_beyond_the_broker_limit_is_dead_lettered_and_the_worker_goes_on(
    pipeline: tuple[Settings, Component],
) -> None:
    settings, worker = pipeline
    before, after, big = Plant(), Plant(), Plant()
    before.batch("GOOD-A", "10", [])
    _big_started(big, "BIG-1", "MES:BS:BIG-1:a", 600)
    _big_started(big, "BIG-1", "MES:BS:BIG-1:b", 600)
    after.batch("GOOD-B", "20", [])
    publish(settings, before.events + big.events + after.events)  # one produce call: one batch
    chains, dlq = _readers(settings)

    def settled() -> bool:
        chains.poll()
        dlq.poll()
        return {"GOOD-A", "GOOD-B", "BIG-1"} <= set(chains.latest) and b"BIG-1" in _reasons(dlq)

    assert wait_for(settled, 120, alive=[worker]), worker.log_tail()
    (reason,) = _reasons(dlq)[b"BIG-1"]
    assert "worker.max_chain_bytes" in reason and "'BIG-1'" in reason
    assert len(chains.latest["BIG-1"]["production"]["operators"]) == 6000  # the first one only
    assert chains.latest["GOOD-B"]["reconciliation"]["status"] == "MATCHED"
    assert worker.alive()
    chains.close()
    dlq.close()


def test_a_huge_envelope_on_a_source_topic_is_dead_lettered_without_its_value(
    pipeline: tuple[Settings, Component],
) -> None:
    settings, worker = pipeline
    plant, good = Plant(), Plant()
    _big_started(plant, "HUGE-1", "MES:BS:HUGE-1", 950)
    wide = plant.add("BATCH_STARTED", "MES", "WIDE-1", {}, ref="MES:BS:WIDE-1")
    wide["payload"] = dict(plant.events[0]["payload"], operators=["o" * 2000])
    good.batch("GOOD-C", "5", [])
    publish(settings, plant.events + good.events)
    chains, dlq = _readers(settings)

    def settled() -> bool:
        chains.poll()
        dlq.poll()
        reasons = _reasons(dlq)
        return "GOOD-C" in chains.latest and b"HUGE-1" in reasons and b"WIDE-1" in reasons

    assert wait_for(settled, 120, alive=[worker]), worker.log_tail()
    huge = next(m for m in dlq.messages if m.key() == b"HUGE-1")
    reason = dict(huge.headers())["dlq.reason"].decode()
    assert "worker.max_event_bytes" in reason and "not kept" in reason
    assert huge.value() is None
    (wide_reason,) = _reasons(dlq)[b"WIDE-1"]
    assert "field payload.operators[0] of 2000 bytes" in wide_reason
    assert "HUGE-1" not in chains.latest and "WIDE-1" not in chains.latest
    assert worker.alive()
    chains.close()
    dlq.close()
