"""End to end: a simulated plant through the registry wire format and the worker, with a crash.

The simulator publishes a plant with duplicates, reordering, late, malformed and mismatching
records; ``tracesync worker`` is SIGKILLed in the middle and started again; at the end every
chain on the chain topic equals the oracle, the malformed records sit in the dead-letter topic,
and a hold on a raw-material lot reached every downstream batch. It runs on each engine (the
contract suite), and once more with two quix workers in one group splitting the partitions, one
of them SIGKILLed: the other takes its partitions over, state and all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import KafkaError, KafkaException

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
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.devtools.supervise import Component, wait_for
from tracesync.kafka_clients import admin_client
from tracesync.settings import Settings

RATES = FaultRates(
    duplicates=0.03, reorder=0.05, late=0.02, malformed=0.01, mismatch=0.03, missing=0.02
)


class Plant:
    """A simulated plant published to fresh topics, and readers of the worker's outputs."""

    def __init__(self, settings: Settings, batches: int, share_first: float = 1.0) -> None:
        self.settings = settings
        bootstrap.ensure_topics(settings)
        self.sim: Simulation = simulate(SimulationConfig(batches=batches, seed=5, rates=RATES))
        self._publisher = SimulationPublisher(
            simulator_producer_config(settings.kafka, settings.producer),
            topic_names(settings.topic_prefix),
        )
        self._rest = round(len(self.sim.records) * share_first)
        self._publish(self.sim.records[: self._rest])
        topics = worker_topics(settings)
        chain_serde = bootstrap.record_serde(settings, "TraceChain", topics.chain)
        self.chains = TopicReader(settings, topics.chain, chain_serde.decode)
        self.dlq = TopicReader(settings, topics.dead_letter, lambda v: v)

    def _publish(self, records: list[Any]) -> None:
        self._publisher.publish(records, bootstrap.envelope_serde(self.settings))

    def publish_the_rest(self) -> None:
        self._publish(self.sim.records[self._rest :])

    def worker(self, log: Path, instance: str = "main") -> Component:
        args = ["worker", "--loglevel", "warning", "--instance", instance]
        return Component(args, self.settings, log).start()

    def progressed(self, share: float) -> Callable[[], bool]:
        def done() -> bool:
            self.chains.poll()
            return len(self.chains.latest) >= len(self.sim.oracle.chains) * share

        return done

    def assert_all_chains_equal_the_oracle(self, alive: list[Component]) -> None:
        def all_equal() -> bool:
            self.chains.poll()
            return not mismatches(self.sim.oracle, self.chains.latest)

        finished = wait_for(all_equal, 300, interval_s=1.0, alive=alive)
        wrong = mismatches(self.sim.oracle, self.chains.latest)
        assert finished, "\n".join(d for diffs in list(wrong.values())[:8] for d in diffs)

    def assert_every_malformed_record_dead_lettered(self) -> None:
        expected = self.sim.oracle.expected_malformed

        def dead_lettered() -> bool:
            self.dlq.poll()
            return len(self.dlq.dead_letter_origins()) >= expected

        # at-least-once: a record re-read after the crash may be dead-lettered twice, but every
        # malformed record is there, and nothing else is
        assert wait_for(dead_lettered, 30)
        assert len(self.dlq.dead_letter_origins()) == expected
        inherited = [c for c in self.sim.oracle.chains.values() if c.inherited_active_holds]
        assert inherited, "the scenario must hold a raw lot that reaches downstream batches"

    def close(self) -> None:
        self.chains.close()
        self.dlq.close()


def _settings(
    kafka_broker: KafkaBroker, registry: Any, home: Path, group: str, **worker: Any
) -> Settings:
    return Settings(
        home=home,
        topic_prefix=f"e2e{uuid.uuid4().hex[:6]}.",
        source_partitions=worker.pop("partitions", 3),
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry=registry.settings.registry,
        # a killed worker leaves the group after the session timeout: keep it short
        worker={"app_id": group, "settle_s": 3.0, "session_timeout_ms": 6000, **worker},
    )


@pytest.mark.parametrize(
    "mode",
    [("quix", "at-least-once"), ("quix", "exactly-once"), ("faust", "at-least-once")],
    ids=["quix", "quix-exactly-once", "faust"],
)
def test_simulated_plant_survives_a_worker_crash(
    mode: tuple[str, str],
    kafka_broker: KafkaBroker,
    schema_registry: Any,
    tmp_path: Path,
    unique_group: Callable[..., str],
) -> None:
    engine, guarantee = mode
    settings = _settings(
        kafka_broker,
        schema_registry,
        tmp_path / "home",
        unique_group("e2e-worker"),
        engine=engine,
        processing_guarantee=guarantee,
    )
    plant = Plant(settings, batches=300)
    worker = plant.worker(tmp_path / "w1.log")
    try:
        assert wait_for(plant.progressed(1 / 3), 180, alive=[worker]), worker.log_tail()
        worker.kill()
        worker = plant.worker(tmp_path / "w2.log")
        plant.assert_all_chains_equal_the_oracle(alive=[worker])
        plant.assert_every_malformed_record_dead_lettered()
        if guarantee == "exactly-once":  # what the killed worker sent uncommitted is not seen
            assert len(plant.dlq.messages) == plant.sim.oracle.expected_malformed
        assert worker.alive()
    finally:
        worker.stop()
        plant.close()


_COORDINATOR_MOVING = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    }
)


def _assignments(settings: Settings) -> list[set[tuple[str, int]]]:
    """The partitions each member of the worker's group holds now (none while the group's
    coordinator is still being found: NOT_COORDINATOR and the like are retriable)."""
    admin = admin_client(settings.kafka)
    group = settings.worker.app_id
    try:
        described = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except KafkaException as exc:
        error = exc.args[0] if exc.args else None
        if isinstance(error, KafkaError) and (
            error.retriable() or error.code() in _COORDINATOR_MOVING
        ):
            return []
        raise
    return [
        {(tp.topic, tp.partition) for tp in member.assignment.topic_partitions}
        for member in described.members
    ]


def _split_between_two(settings: Settings) -> Callable[[], bool]:
    sources = set(worker_topics(settings).merge_inputs)

    def split() -> bool:
        members = _assignments(settings)
        held = [{p for t, p in m if t in sources} for m in members]
        return len(held) == 2 and all(held) and not held[0] & held[1]

    return split


@pytest.mark.parametrize("guarantee", ["at-least-once", "exactly-once"])
def test_two_workers_split_the_partitions_and_one_takes_over_when_the_other_is_killed(
    guarantee: str,
    kafka_broker: KafkaBroker,
    schema_registry: Any,
    tmp_path: Path,
    unique_group: Callable[..., str],
) -> None:
    settings = _settings(
        kafka_broker,
        schema_registry,
        tmp_path / "home",
        unique_group("e2e-pair"),
        engine="quix",
        processing_guarantee=guarantee,
        partitions=4,
    )
    plant = Plant(settings, batches=400, share_first=0.5)
    first = plant.worker(tmp_path / "first.log", instance="first")
    second = plant.worker(tmp_path / "second.log", instance="second")
    try:
        assert wait_for(_split_between_two(settings), 120, alive=[first, second]), (
            f"{_assignments(settings)}\n{first.log_tail()}\n{second.log_tail()}"
        )
        assert wait_for(plant.progressed(1 / 4), 180, alive=[first, second]), second.log_tail()
        first.kill()
        plant.publish_the_rest()  # half the plant arrives after the crash
        plant.assert_all_chains_equal_the_oracle(alive=[second])
        plant.assert_every_malformed_record_dead_lettered()
        (survivor,) = _assignments(settings)
        assert {p for _, p in survivor} == set(range(settings.source_partitions))
    finally:
        first.stop()
        second.stop()
        plant.close()
