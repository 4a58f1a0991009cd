"""The worker's size limits on the real broker, on both engines (issue 15, finding 1).

Two valid MES events of ~600 KB for one batch would make a chain of ~1.2 MB, more than the broker
takes; a single ~950 KB envelope produced straight to a source topic is more than one event may
be. Before the limits either stopped the worker (``MessageSizeTooLarge``). Now the second big
event and the huge envelope are in ``dlq.streams`` with their reasons, the worker stays up and
the good chains sent around them reach the chain topic.
"""

from __future__ import annotations

from typing import Any

from tests.integration.hostile.conftest import reasons_by_key, worker_readers
from tests.integration.test_worker_pipeline import Plant, publish
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import Settings


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


def test_a_chain_beyond_the_broker_limit_is_dead_lettered_and_the_worker_goes_on(
    engine_worker: tuple[Settings, Component],
) -> None:
    settings, worker = engine_worker
    before, after, big = Plant(), Plant(), Plant()
    before.batch("GOOD-A", "10", [])
    _big_started(big, "BIG-1", "MES:BS:BIG-1:a", 600)
    _big_started(big, "BIG-1", "MES:BS:BIG-1:b", 600)
    after.batch("GOOD-B", "20", [])
    publish(settings, before.events + big.events + after.events)  # one produce call: one batch
    chains, dlq = worker_readers(settings)

    def settled() -> bool:
        chains.poll()
        dlq.poll()
        codes = {"GOOD-A", "GOOD-B", "BIG-1"}
        return codes <= set(chains.latest) and b"BIG-1" in reasons_by_key(dlq)

    assert wait_for(settled, 120, alive=[worker]), worker.log_tail()
    (reason,) = reasons_by_key(dlq)[b"BIG-1"]
    assert "worker.max_chain_bytes" in reason and "'BIG-1'" in reason
    assert len(chains.latest["BIG-1"]["production"]["operators"]) == 6000  # the first one only
    assert chains.latest["GOOD-B"]["reconciliation"]["status"] == "MATCHED"
    assert worker.alive()
    chains.close()
    dlq.close()


def test_a_huge_envelope_on_a_source_topic_is_dead_lettered_without_its_value(
    engine_worker: tuple[Settings, Component],
) -> None:
    settings, worker = engine_worker
    plant, good = Plant(), Plant()
    _big_started(plant, "HUGE-1", "MES:BS:HUGE-1", 950)
    wide = plant.add("BATCH_STARTED", "MES", "WIDE-1", {}, ref="MES:BS:WIDE-1")
    wide["payload"] = dict(plant.events[0]["payload"], operators=["o" * 2000])
    good.batch("GOOD-C", "5", [])
    publish(settings, plant.events + good.events)
    chains, dlq = worker_readers(settings)

    def settled() -> bool:
        chains.poll()
        dlq.poll()
        reasons = reasons_by_key(dlq)
        return "GOOD-C" in chains.latest and b"HUGE-1" in reasons and b"WIDE-1" in reasons

    assert wait_for(settled, 120, alive=[worker]), worker.log_tail()
    huge = next(m for m in dlq.messages if m.key() == b"HUGE-1")
    reason = dict(huge.headers())["dlq.reason"].decode()
    assert "worker.max_event_bytes" in reason and "not kept" in reason
    assert huge.value() is None
    (wide_reason,) = reasons_by_key(dlq)[b"WIDE-1"]
    assert "field payload.operators[0] of 2000 bytes" in wide_reason
    assert "HUGE-1" not in chains.latest and "WIDE-1" not in chains.latest
    assert worker.alive()
    chains.close()
    dlq.close()
