"""End to end: a simulated plant through the registry wire format and the worker, with a crash.

The simulator publishes a plant with duplicates, reordering, late, malformed and mismatching
records; ``tracesync worker`` is SIGKILLed in the middle and started again; at the end every
chain on the chain topic equals the oracle, the malformed records sit in the dead-letter topic,
and a hold on a raw-material lot reached every downstream batch.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from streams.bootstrap import worker_topics
from tests.fixtures.kafka import KafkaBroker
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.publish import (
    SimulationPublisher,
    simulator_producer_config,
    topic_names,
)
from tracesync.devtools.simulator.scenario import SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import Settings


def test_simulated_plant_survives_a_worker_crash(
    kafka_broker: KafkaBroker,
    schema_registry: Any,
    tmp_path: Path,
    unique_group: Callable[..., str],
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"e2e{uuid.uuid4().hex[:6]}.",
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry=schema_registry.settings.registry,
        worker={"app_id": unique_group("e2e-worker"), "settle_s": 3.0},
    )
    bootstrap.ensure_topics(settings)
    sim = simulate(
        SimulationConfig(
            batches=300,
            seed=5,
            rates=FaultRates(
                duplicates=0.03,
                reorder=0.05,
                late=0.02,
                malformed=0.01,
                mismatch=0.03,
                missing=0.02,
            ),
        )
    )
    publisher = SimulationPublisher(
        simulator_producer_config(settings.kafka, settings.producer),
        topic_names(settings.topic_prefix),
    )
    publisher.publish(sim.records, bootstrap.envelope_serde(settings))

    topics = worker_topics(settings)
    chains = TopicReader(
        settings, topics.chain, bootstrap.record_serde(settings, "TraceChain", topics.chain).decode
    )
    dlq = TopicReader(settings, topics.dead_letter, lambda v: v)
    worker = Component(["worker", "--loglevel", "warning"], settings, tmp_path / "w1.log").start()
    try:

        def some_progress() -> bool:
            chains.poll()
            return len(chains.latest) >= len(sim.oracle.chains) // 3

        assert wait_for(some_progress, 180, alive=[worker]), worker.log_tail()
        worker.kill()
        worker = Component(
            ["worker", "--loglevel", "warning"], settings, tmp_path / "w2.log"
        ).start()

        def all_equal() -> bool:
            chains.poll()
            return not mismatches(sim.oracle, chains.latest)

        finished = wait_for(all_equal, 300, interval_s=1.0, alive=[worker])
        wrong = mismatches(sim.oracle, chains.latest)
        assert finished, "\n".join(d for diffs in list(wrong.values())[:8] for d in diffs)

        def dead_lettered() -> bool:
            dlq.poll()
            return len(dlq.dead_letter_origins()) >= sim.oracle.expected_malformed

        # at-least-once: a record re-read after the crash may be dead-lettered twice, but every
        # malformed record is there, and nothing else is
        assert wait_for(dead_lettered, 30)
        assert len(dlq.dead_letter_origins()) == sim.oracle.expected_malformed
        inherited = [c for c in sim.oracle.chains.values() if c.inherited_active_holds]
        assert inherited, "the scenario must hold a raw lot that reaches downstream batches"
        assert worker.alive()
    finally:
        worker.stop()
        chains.close()
        dlq.close()
