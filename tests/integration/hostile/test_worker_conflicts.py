"""Two versions of one source record under one ``source_seq``, through a real worker, on both
engines (issue 15, finding 8).

Before, both were taken and the one with the higher event id silently won. Now the chain keeps
the first to arrive, the other is in ``dlq.streams`` with the reason (listed by ``tracesync dlq
list`` like every worker dead letter), the same version posted again with a new event id changes
nothing, and the good chains sent around them reach the chain topic.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from click.testing import CliRunner

from streams.bootstrap import worker_topics
from tests.integration.hostile.conftest import reasons_by_key, worker_readers
from tests.integration.test_worker_pipeline import Plant, publish
from tracesync import bootstrap
from tracesync.cli import main
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import Settings


def _version(plant: Plant, template: dict[str, Any], **payload: Any) -> dict[str, Any]:
    """Another event for the record of ``template``, under its ``source_seq``."""
    event = {**template, "event_id": str(uuid.uuid4())}
    event["payload"] = {**template["payload"], **payload}
    plant.events.append(event)
    return event


def test_a_second_version_under_one_source_seq_is_dead_lettered_and_the_first_kept(
    engine_worker: tuple[Settings, Component],
) -> None:
    settings, worker = engine_worker
    plant = Plant()
    plant.batch("GOOD-1", "10", [])
    plant.batch("CONF-1", "50", [])
    first = next(e for e in plant.events if e["source_ref"] == "MES:BC:CONF-1")
    again = _version(plant, first)  # the same version with a new event id: a duplicate
    second = _version(plant, first, produced_quantity={"value": Decimal("60"), "uom": "KG"})
    plant.batch("GOOD-2", "20", [])
    publish(settings, plant.events)  # one produce call: in this order on one partition
    chains, dlq = worker_readers(settings)

    def settled() -> bool:
        chains.poll()
        dlq.poll()
        codes = {"GOOD-1", "CONF-1", "GOOD-2"}
        return codes <= set(chains.latest) and b"CONF-1" in reasons_by_key(dlq)

    assert wait_for(settled, 120, alive=[worker]), worker.log_tail()
    later = Plant()
    third = _version(later, first, order_id="PO-OTHER")  # later, against the stored chain
    later.batch("GOOD-3", "30", [])
    publish(settings, later.events)

    def refused_twice() -> bool:
        chains.poll()
        dlq.poll()
        return "GOOD-3" in chains.latest and len(reasons_by_key(dlq).get(b"CONF-1", [])) == 2

    assert wait_for(refused_twice, 120, alive=[worker]), worker.log_tail()
    chain = chains.latest["CONF-1"]
    assert chain["production"]["produced_quantity"] == Decimal("50")
    assert chain["production"]["order_id"] == "PO-CONF-1"
    assert chain["reconciliation"]["status"] == "MATCHED"
    assert all(
        chains.latest[c]["reconciliation"]["status"] == "MATCHED"
        for c in ("GOOD-1", "GOOD-2", "GOOD-3")
    )
    letters = [m for m in dlq.messages if m.key() == b"CONF-1"]
    refused = [bootstrap.envelope_serde(settings).decode(m.value()) for m in letters]
    assert [str(e["event_id"]) for e in refused] == [second["event_id"], third["event_id"]]
    assert again["event_id"] not in {str(e["event_id"]) for e in refused}
    reasons = reasons_by_key(dlq)[b"CONF-1"]
    held = "record 'MES|MES:BC:CONF-1' of batch 'CONF-1' already holds source_seq 1"
    assert all(r.startswith(f"conflicting source_seq: {held}") for r in reasons)
    assert all(f"(event id {first['event_id']})" in r for r in reasons)
    assert "differs in payload.produced_quantity.value" in reasons[0]
    assert "differs in payload.order_id" in reasons[1]
    headers = dict(letters[0].headers())
    assert headers["dlq.stage"] == b"streams"
    assert headers["dlq.topic"] == bootstrap.catalog(settings).source_topic("MES").encode()
    assert worker.alive()
    chains.close()
    dlq.close()
    listed = _dlq_list(settings)
    assert "conflicting source_seq: record 'MES|MES:BC:CONF-1'" in listed


def _dlq_list(settings: Settings) -> str:
    env = {
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
        "TRACESYNC_REGISTRY__ENABLED": "false",
    }
    topic = worker_topics(settings).dead_letter
    result = CliRunner().invoke(main, ["dlq", "list", "--topic", topic], env=env)
    assert result.exit_code == 0, result.output
    return result.output
