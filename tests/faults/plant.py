"""The whole pipeline of a fault run: a simulated plant fed through REST, the ERP outbox and file
drops into every component, running as processes on the three-node cluster.

The components are those of ``tracesync demo`` (worker, store sink on the private PostgreSQL,
targets sink notifying a recording HTTP target, the three ingest adapters); :class:`RetryingFeed`
is the demo's feed with the patience of a real source system: a REST batch that the edge could
not take (the API is down, or the broker did not acknowledge) is sent again until it is.
"""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import Engine, create_engine

from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.registry import RunningRegistry
from tests.fixtures.targets import TargetServer
from tracesync import bootstrap
from tracesync.contracts.registry_client import INPUT_COMPATIBILITY, SchemaRegistry
from tracesync.devtools.demo.answers import load_chains
from tracesync.devtools.demo.feed import FeedError, PlantFeed, create_erp_database
from tracesync.devtools.demo.run import DEMO_RATES
from tracesync.devtools.demo.setup import ROUTES_TEMPLATE, DemoRun, demo_run
from tracesync.devtools.infra.private_postgres import PrivatePostgres
from tracesync.devtools.simulator.scenario import Simulation, SimulationConfig, simulate
from tracesync.devtools.simulator.verify import mismatches
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import DEV_INGEST_KEYS, Settings

POST_PATIENCE_S = 180.0
"""A REST batch refused this long (every retry) fails the run: the edge never came back."""


class RetryingFeed(PlantFeed):
    """The demo's feed; REST batches the edge could not take now are sent again."""

    retries = 0

    def post(self, system: str, events: list[dict[str, Any]]) -> None:
        deadline = time.monotonic() + POST_PATIENCE_S
        pending = events
        while pending:
            pending = self._try(system, pending)
            if pending:
                if time.monotonic() > deadline:
                    raise FeedError(
                        f"{len(pending)} {system} events refused for {POST_PATIENCE_S}s"
                    )
                self.retries += 1
                time.sleep(0.5)
        self.counts.rest_events += len(events)
        self.counts.rest_requests += 1

    def _try(self, system: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Post once; returns the events to send again (503: not acknowledged by the broker)."""
        try:
            response = self.http.post(
                f"{self.rest_url}/v1/{system.lower()}/events/batch",
                json=events,
                headers={"X-API-Key": self.api_keys[system]},
            )
            body = response.json()
        except (httpx.HTTPError, ValueError):  # the API is down or was killed mid-answer
            return events
        if response.status_code >= 500:
            return events
        rejected = body.get("rejected") or []
        if response.status_code != 202 or any(r["status"] != 503 for r in rejected):
            raise FeedError(f"REST ingest answered {response.status_code}: {str(body)[:500]}")
        return [events[r["index"]] for r in rejected]


class Feeder(threading.Thread):
    """Sends the plant's records through the edges, spread over ``span_s``."""

    def __init__(self, feed: RetryingFeed, sim: Simulation, span_s: float) -> None:
        super().__init__(name="fault-feed", daemon=True)
        self.feed, self.sim = feed, sim
        self.chunks = 60
        self.size = math.ceil(len(sim.records) / self.chunks)
        self.pause_s = span_s / self.chunks
        self.stop = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            self.feed.send(self.sim.records, self.size, self.pause_s, self.stop)
        except BaseException as exc:  # reported by the test
            self.error = exc


def _settings(
    cluster: KafkaBroker, registry: RunningRegistry, pg: PrivatePostgres, home: Path, port: int
) -> DemoRun:
    base = Settings(
        home=home,
        source_partitions=3,
        kafka={"bootstrap_servers": cluster.bootstrap_servers},
        registry=registry.settings.registry,
        ingest={"port": port},
        demo_keys=True,  # the feed posts with the demo's well-known keys
    )
    run = demo_run(base, "faults")
    s = run.settings
    settings = s.model_copy(
        update={
            "store": s.store.model_copy(
                update={"url": SecretStr(pg.url()), "session_timeout_ms": 6000}
            ),
            # a killed worker's partitions move after the session timeout: keep it short
            "worker": s.worker.model_copy(
                update={"replication_factor": 3, "session_timeout_ms": 6000}
            ),
        }
    )
    return DemoRun(run.name, run.folder, settings, run.infra_settings)


def _answers(rest_url: str) -> bool:
    try:
        return httpx.get(f"{rest_url}/healthz", timeout=2.0).status_code == 200
    except httpx.HTTPError:
        return False


class FaultPlant:
    """Settings, simulation, components and the checks of one fault run."""

    def __init__(
        self,
        cluster: KafkaBroker,
        registry: RunningRegistry,
        pg: PrivatePostgres,
        target: TargetServer,
        home: Path,
        *,
        seed: int,
        batches: int,
        rest_port: int,
    ) -> None:
        self.run = _settings(cluster, registry, pg, home, rest_port)
        self.settings = self.run.settings
        self.target = target
        self.sim = simulate(
            SimulationConfig(batches=batches, seed=seed, rates=DEMO_RATES, plant_id="PLANT-01")
        )
        self.store: Engine = create_engine(pg.url(), pool_pre_ping=True)
        self.components: dict[str, Component] = {}

    def start(self) -> RetryingFeed:
        bootstrap.ensure_topics(self.settings)
        # the global rule once, before the components race to create it (as the demo does)
        with SchemaRegistry(self.settings.registry.url) as registry:
            registry.hold_to(INPUT_COMPATIBILITY)
        routes = self.run.folder / "routes.toml"
        placeholder = 'url = "http://127.0.0.1:18190/wms/notices"'
        routes.write_text(
            ROUTES_TEMPLATE.read_text().replace(placeholder, f'url = "{self.target.url}"')
        )
        self.run.drop.mkdir(parents=True, exist_ok=True)
        erp = create_erp_database(f"sqlite:///{self.run.erp_db}")
        db_maps = [a for p in self.run.db_mapping_files() for a in ("--mapping", str(p))]
        file_maps = [a for p in self.run.file_mapping_files() for a in ("--mapping", str(p))]
        for name, args in {
            "worker": ["worker", "--loglevel", "warning"],
            "sink-store": ["sink", "store"],
            "sink-targets": [
                "sink", "targets", "--routes", str(routes), "--group", self.run.targets_group,
            ],
            "ingest-api": ["ingest", "api"],
            "ingest-db": ["ingest", "db", *db_maps],
            "ingest-files": ["ingest", "files", *file_maps, "--watch", str(self.run.drop)],
        }.items():  # fmt: skip
            log = self.run.logs / f"{name}.log"
            log.parent.mkdir(parents=True, exist_ok=True)
            self.components[name] = Component(args, self.settings, log).start()
        keys = dict(DEV_INGEST_KEYS)  # the settings hold their hashes (demo_keys)
        rest_url = f"http://{self.settings.ingest.host}:{self.settings.ingest.port}"
        # the chaos clock starts once the edge answers: every kill hits a running pipeline
        answering = wait_for(lambda: _answers(rest_url), 120, alive=list(self.components.values()))
        assert answering, (
            f"the REST ingest never answered:\n{self.components['ingest-api'].log_tail()}"
        )
        return RetryingFeed(rest_url, keys, erp, self.run.drop, self.settings.plant)

    def store_mismatches(self) -> dict[str, list[str]]:
        try:
            return mismatches(self.sim.oracle, load_chains(self.store))
        except Exception as exc:  # the database is away: not equal yet
            return {"*": [f"store not readable: {exc}"]}

    def completed_batches(self) -> set[str]:
        """Batches whose stored chain has a completion: each gets one inbound notice."""
        chains = load_chains(self.store)
        return {
            code
            for code, chain in chains.items()
            if (chain.get("production") or {}).get("completed_at") is not None
        }

    def notices(self) -> Counter[tuple[str, str]]:
        """Accepted notices by (type, batch) — and, within that, hold — as the target saw them."""
        return Counter(
            (
                str(r.payload.get("type")),
                f"{r.payload.get('batch_code')}/{r.payload.get('hold_id')}",
            )
            for r in self.target.accepted
        )

    def repeated_keys(self) -> list[str]:
        keys = Counter(r.key for r in self.target.accepted)
        return sorted(k for k, n in keys.items() if n > 1)

    def stop(self) -> None:
        for component in reversed(list(self.components.values())):
            component.stop()
        self.store.dispose()
