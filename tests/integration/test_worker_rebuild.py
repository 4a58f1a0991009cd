"""``tracesync worker rebuild`` on the real broker and registry.

A simulated plant goes through ``tracesync worker``; the worker is stopped and its state wiped
(state folder and consumer group). A live chain corrupted on purpose is reported by the rebuild
(exit 1, the batch named) and refuses the cutover; ``tracesync verify --rebuilt`` says the same.
With the live chain put right, a second rebuild's chains equal the live ones (verdict OK), the
cutover writes the new live settings, and a worker started with them goes on with the rest of
the plant onto the live topics: every chain equals the oracle.
"""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from confluent_kafka import Producer

from ops.rebuild_worker import run_until_settled
from streams.bootstrap import worker_topics
from streams.engines.base import state_dir
from tests.fixtures.kafka import KafkaBroker
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.cli import main
from tracesync.devtools.simulator.faults import FaultRates
from tracesync.devtools.simulator.publish import (
    SimulationPublisher,
    simulator_producer_config,
    topic_names,
)
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.devtools.supervise import Component, settings_env, wait_for
from tracesync.kafka_clients import admin_client
from tracesync.settings import Settings

pytestmark = pytest.mark.integration

RATES = FaultRates(
    duplicates=0.03, reorder=0.05, late=0.02, malformed=0.01, mismatch=0.03, missing=0.02
)
FIRST_SHARE = 0.8


def _cli(env: dict[str, str], *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def _warm_up(settings: Settings) -> None:
    """Wait until an idempotent producer gets its id: a broker just started is still loading
    its coordinator, and the simulator's first records would then come back unacknowledged."""
    producer = Producer(
        {"bootstrap.servers": settings.kafka.bootstrap_servers, "enable.idempotence": True}
    )
    acked: list[bool] = []

    def sent() -> bool:
        producer.produce(f"{settings.topic_prefix}warm-up", b"x", on_delivery=on_delivery)
        producer.flush(10)
        return any(acked)

    def on_delivery(err: Any, msg: Any) -> None:
        acked.append(err is None)

    assert wait_for(sent, 120, interval_s=1.0), "no idempotent producer id within 120 s"


def _publish(settings: Settings, records: list[Any]) -> None:
    publisher = SimulationPublisher(
        simulator_producer_config(settings.kafka, settings.producer),
        topic_names(settings.topic_prefix),
    )
    publisher.publish(records, bootstrap.envelope_serde(settings))


def _wipe_worker_state(settings: Settings) -> None:
    shutil.rmtree(state_dir(settings))
    group = settings.worker.app_id
    admin = admin_client(settings.kafka)  # kept referenced until the future is done
    admin.delete_consumer_groups([group])[group].result(timeout=30)


def _printed(output: str, prefix: str) -> str:
    line = next(line for line in output.splitlines() if line.strip().startswith(prefix))
    return line.strip().removeprefix(prefix)


class LiveChains:
    """The live chain topic: produce a chain to it, read the newest chain of every batch."""

    def __init__(self, settings: Settings) -> None:
        self.topic = worker_topics(settings).chain
        self.serde = bootstrap.record_serde(settings, "TraceChain", self.topic)
        self.producer = Producer(
            {"bootstrap.servers": settings.kafka.bootstrap_servers, "partitioner": "murmur2_random"}
        )
        self.reader = TopicReader(settings, self.topic, self.serde.decode)

    def put(self, chain: dict[str, Any]) -> None:
        key = str(chain["batch_code"]).encode()
        self.producer.produce(self.topic, key=key, value=self.serde.encode(chain))
        assert self.producer.flush(30) == 0

    def latest(self) -> dict[str, Any]:
        self.reader.poll(2.0)
        return self.reader.latest


def _live_run(settings: Settings, sim: Simulation, log: Path) -> None:
    """The first part of the plant through a live worker, until it settled; then stopped."""
    _publish(settings, sim.records[: round(len(sim.records) * FIRST_SHARE)])
    worker = Component(["worker", "--loglevel", "warning"], settings, log).start()
    try:
        run_until_settled(settings, worker, timeout_s=240)
    finally:
        assert worker.stop() == 0, worker.log_tail()


def test_rebuild_reports_a_difference_then_equals_the_live_chains_and_cuts_over(
    kafka_broker: KafkaBroker,
    schema_registry: Any,
    tmp_path: Path,
    unique_group: Callable[..., str],
) -> None:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"rb{uuid.uuid4().hex[:6]}.",
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry=schema_registry.settings.registry,
        worker={"app_id": unique_group("live-worker"), "settle_s": 3.0},
    )
    env = settings_env(settings)
    bootstrap.ensure_topics(settings)
    _warm_up(settings)
    sim = simulate(SimulationConfig(batches=60, seed=9, rates=RATES))
    _live_run(settings, sim, tmp_path / "live.log")
    _wipe_worker_state(settings)
    live = LiveChains(settings)
    before = live.latest()
    victim = sorted(before)[3]
    live.put(before[victim] | {"plant": "CORRUPTED"})

    code, output = _cli(env, "worker", "rebuild", "--cutover")
    assert code == 1, output
    assert f"{victim}: same version, different content" in output, output
    assert "verdict: DIFFERENT" in output and "not cutting over" in output, output
    shadow = _printed(output, "rebuilt ").split()[0]
    assert shadow.endswith(".trace.chain") and shadow != live.topic, output
    code, checked = _cli(env, "verify", "--rebuilt", shadow)
    assert code == 1 and f"{victim}: same version, different content" in checked, checked

    live.put(before[victim])  # put right: the live chain the worker had published
    code, checked = _cli(env, "verify", "--rebuilt", shadow)
    assert code == 0 and "verdict: OK" in checked, checked

    code, output = _cli(env, "worker", "rebuild", "--cutover")
    print(output)  # the rebuild's own report: progress, rate, comparison (shown with -s)
    assert code == 0, output
    assert "verdict: OK" in output and "replayed" in output and "records/s" in output, output
    assert f"{'equal':<45} {len(before):>10}" in output, output
    app_id = _printed(output, "TRACESYNC_WORKER__APP_ID=")
    prefix = _printed(output, "TRACESYNC_WORKER__INTERNAL_PREFIX=")
    assert app_id != settings.worker.app_id and prefix == f"{app_id}.", output
    env_file = settings.home / "worker" / f"{app_id}.env"
    assert f"TRACESYNC_WORKER__APP_ID={app_id}" in env_file.read_text()

    cut_over = settings.model_copy(
        update={
            "worker": settings.worker.model_copy(
                update={"app_id": app_id, "internal_prefix": prefix}
            )
        }
    )
    worker = Component(["worker", "--loglevel", "warning"], cut_over, tmp_path / "new.log")
    worker.start()
    try:
        _publish(settings, sim.records[round(len(sim.records) * FIRST_SHARE) :])

        def all_equal() -> bool:
            return not mismatches(sim.oracle, live.latest())

        finished = wait_for(all_equal, 180, interval_s=1.0, alive=[worker])
        wrong = mismatches(sim.oracle, live.latest())
        assert finished, "\n".join(d for diffs in list(wrong.values())[:8] for d in diffs)
    finally:
        worker.stop()
        live.reader.close()
