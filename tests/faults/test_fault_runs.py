"""Fault run: a seeded simulated plant goes through the whole pipeline while everything breaks.

During one run (REST, ERP outbox and file drops feeding the pipeline on the three-node cluster),
the worker, the store sink, each ingest adapter and a broker node are SIGKILLed at seeded moments
and started again (over 20 kills), the trace store's PostgreSQL (a private server, not the shared
one) is stopped for 60 s and the schema registry for a while. At the end the store equals the
oracle (every batch's chain), every completed batch reached the target exactly once, and no
notice was delivered twice. The kill counts are printed and written to
``var/test/artifacts/faults.json``.

``TRACESYNC_FAULT_SEED`` picks the run (default below); the seed is printed, so a failing run can
be repeated exactly as far as the moments go (the processes' own timing is not seeded).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.chaos import BROKER, Chaos, Outage, Tally, draw_plan
from tests.faults.plant import FaultPlant, Feeder
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.registry import RunningRegistry
from tests.fixtures.targets import TargetServer
from tests.slot import REPO_ROOT, port
from tracesync.devtools.infra import registry as registry_infra
from tracesync.devtools.infra.private_postgres import PrivatePostgres
from tracesync.devtools.supervise import wait_for

SEED = int(os.environ.get("TRACESYNC_FAULT_SEED", "2015"))
KILLS = {
    "worker": 5,
    "sink-store": 5,
    "ingest-api": 4,
    "ingest-db": 4,
    "ingest-files": 3,
    BROKER: 3,
}
"""24 kills; a broker kill waits until the node killed before is back and in sync (about a
minute on a loaded machine), so three fit the span."""
SPAN_S = 120.0
"""The feed and the chaos take this long; everything after it is the pipeline catching up."""
POSTGRES_DOWN_S = 60.0
REGISTRY_DOWN_S = 20.0
BATCHES = 120
CATCH_UP_S = 240.0
ARTIFACT = REPO_ROOT / "var" / "test" / "artifacts" / "faults.json"


def _report(tally: Tally, plant: FaultPlant, feed_retries: int, took_s: float) -> None:
    report: dict[str, object] = {
        "seed": SEED,
        "batches": BATCHES,
        "records": len(plant.sim.records),
        **tally.as_dict(),
        "rest_retries": feed_retries,
        "notices_accepted": len(plant.target.accepted),
        "took_s": round(took_s, 1),
    }
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(report, indent=2) + "\n")
    summary = {k: v for k, v in report.items() if k != "exits"}
    print(f"\nfault run, seed {SEED}: {json.dumps(summary)}")
    for exit_ in tally.exits:
        print(f"  unplanned exit: {exit_['component']} at {exit_['at_s']} s: {exit_['reason']}")


def _assert_store_equals_the_oracle(plant: FaultPlant) -> None:
    # the chaos thread still supervises: a component that exits now is started again and counted
    equal = wait_for(lambda: not plant.store_mismatches(), CATCH_UP_S, interval_s=2.0)
    wrong = plant.store_mismatches()
    assert equal, f"seed {SEED}: {len(wrong)} codes differ, e.g.\n" + "\n".join(
        d for diffs in list(wrong.values())[:8] for d in diffs[:4]
    )


def _assert_every_target_notice_once(plant: FaultPlant) -> None:
    completed = plant.completed_batches()
    assert completed, "the plant must complete batches for the target to be told of"

    def all_told() -> bool:
        inbound = {b for (kind, b) in plant.notices() if kind == "INBOUND_NOTICE"}
        return inbound >= {f"{code}/None" for code in completed}

    told = wait_for(all_told, 120, interval_s=1.0)
    assert told, f"seed {SEED}: not every completed batch reached the target"
    assert not plant.repeated_keys(), f"seed {SEED}: keys delivered twice {plant.repeated_keys()}"
    twice = {notice: n for notice, n in plant.notices().items() if n > 1}
    assert not twice, f"seed {SEED}: the target got these notices more than once: {twice}"


@pytest.mark.timeout(900)  # start-up, the span, the catch-up; a hang fails here, not in CI's limit
def test_store_equals_the_oracle_through_kills_and_outages(
    kafka_cluster: KafkaBroker,
    schema_registry: RunningRegistry,
    private_postgres: PrivatePostgres,
    target_server: Callable[..., TargetServer],
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    plan = draw_plan(random.Random(SEED), KILLS, SPAN_S, POSTGRES_DOWN_S, REGISTRY_DOWN_S)
    moments = ", ".join(f"{m.target}@{m.at_s:.0f}s" for m in plan.kills)
    print(
        f"\nfault run seed {SEED} (TRACESYNC_FAULT_SEED): kills {moments}; PostgreSQL down "
        f"@{plan.postgres.at_s:.0f}s for {plan.postgres.for_s:.0f}s, registry down "
        f"@{plan.registry.at_s:.0f}s for {plan.registry.for_s:.0f}s"
    )
    plant = FaultPlant(
        kafka_cluster,
        schema_registry,
        private_postgres,
        target_server(),
        tmp_path,
        seed=SEED,
        batches=BATCHES,
        rest_port=port(28180),
    )
    tally = Tally()
    feed = plant.start()
    registry = schema_registry
    outages = [
        Outage("postgresql", plan.postgres, private_postgres.stop, private_postgres.start, tally),
        Outage(
            "registry",
            plan.registry,
            lambda: registry_infra.stop(registry.settings),
            lambda: registry_infra.start(registry.settings, registry.cache_root),
            tally,
        ),
    ]
    chaos = Chaos(plant.components, kafka_cluster.cluster, plan.kills, tally)
    feeder = Feeder(feed, plant.sim, SPAN_S)
    try:
        for thread in (chaos, *outages, feeder):
            thread.start()
        finite: list[Feeder | Outage] = [feeder, *outages]
        for thread in finite:
            thread.join(timeout=SPAN_S + 400)
            assert not thread.is_alive(), f"{thread.name} did not finish"
            assert thread.error is None, f"{thread.name}: {thread.error!r}"
        assert chaos.done.wait(timeout=400), f"kills still pending: {chaos.pending}"
        assert chaos.error is None, f"chaos: {chaos.error!r}"
        tally.phases_s["chaos"] = round(chaos.now(), 1)
        assert tally.kills == KILLS, tally.kills
        _assert_store_equals_the_oracle(plant)
        _assert_every_target_notice_once(plant)
        tally.phases_s["caught_up"] = round(chaos.now(), 1)
    finally:
        feeder.stop.set()
        chaos.close()
        plant.stop()
        feed.close()
        _report(tally, plant, feed.retries, time.monotonic() - began)
