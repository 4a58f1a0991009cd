"""The pipeline the hostile-input suite attacks: worker and store sink on a PostgreSQL store.

One pipeline for the suite (``hostile_pipeline``, package scope); each module starts its own
edge (REST ingest, file drops, queries) on it with :meth:`Pipeline.start`, under its own batch
codes. The store is
PostgreSQL because it is the stricter of the two (a NUL in a field broke its sink).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.exc import ProgrammingError

from sinks.store import schema
from streams.bootstrap import worker_topics
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.postgres import unique_database_name
from tests.slot import port
from tests.topic_reader import TopicReader
from tracesync import bootstrap
from tracesync.devtools.infra import postgres
from tracesync.devtools.supervise import Component, wait_for
from tracesync.settings import PostgresSettings, Settings

REST_PORT = port(28300)
SERVE_PORT = port(28301)


class DeadLetterReader(TopicReader):
    """Every record of a dead-letter topic, whatever its key (a bad record may have none)."""

    def poll(self, seconds: float = 0.5) -> None:
        for msg in self.consumer.consume(5000, timeout=seconds):
            if not msg.error():
                self.messages.append(msg)


class Pipeline:
    """Settings, running components and what the store and the dead-letter topics hold."""

    def __init__(self, settings: Settings, home: Path, store_url: str) -> None:
        self.settings = settings
        self.home = home
        self.store_url = store_url
        self.components: dict[str, Component] = {}
        self._engine = create_engine(store_url)
        self._dlq: dict[str, DeadLetterReader] = {}

    def start(self, name: str, args: list[str]) -> Component:
        component = Component(args, self.settings, self.home / f"{name}.log").start()
        self.components[name] = component
        return component

    def alive(self) -> list[Component]:
        return list(self.components.values())

    def all_alive(self) -> bool:
        return all(c.alive() for c in self.components.values())

    def stored(self) -> set[str]:
        """Batch codes in the store (none while the store sink has not created its tables)."""
        try:
            with self._engine.connect() as conn:
                return set(conn.execute(select(schema.batches.c.batch_code)).scalars())
        except ProgrammingError:
            return set()

    def wait_stored(self, codes: set[str], timeout_s: float = 90) -> None:
        ok = wait_for(lambda: codes <= self.stored(), timeout_s, alive=self.alive())
        missing = codes - self.stored()
        assert ok, f"not in the store: {sorted(missing)}\n{self.log_tails()}"

    def dead_letters(self, stage: str) -> dict[bytes | None, list[str]]:
        """Reasons of the dead letters of ``stage`` read so far, by record key."""
        reader = self._dlq.get(stage)
        if reader is None:
            topic = bootstrap.catalog(self.settings).dlq(stage)
            reader = self._dlq[stage] = DeadLetterReader(self.settings, topic, lambda v: v)
        reader.poll()
        out: dict[bytes | None, list[str]] = {}
        for m in reader.messages:
            out.setdefault(m.key(), []).append(dict(m.headers())["dlq.reason"].decode())
        return out

    def wait_dead_letters(
        self, stage: str, keys: set[bytes], timeout_s: float = 90
    ) -> dict[bytes | None, list[str]]:
        ok = wait_for(lambda: keys <= set(self.dead_letters(stage)), timeout_s, alive=self.alive())
        letters = self.dead_letters(stage)
        assert ok, f"no dead letter for {sorted(keys - set(letters))}\n{self.log_tails()}"
        return letters

    def log_tails(self) -> str:
        return "\n".join(f"--- {n}\n{c.log_tail()}" for n, c in self.components.items())

    def close(self) -> None:
        for component in self.components.values():
            component.stop()
        for reader in self._dlq.values():
            reader.close()
        self._engine.dispose()


@pytest.fixture(scope="package")
def hostile_pipeline(
    kafka_broker: KafkaBroker,
    postgres_server: PostgresSettings,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Pipeline]:
    """Worker (quix) and store sink on a fresh PostgreSQL database, shared by the suite's modules
    (each starts its own edge on it: starting a pipeline costs more than all the probes)."""
    name = unique_database_name("hostile")
    postgres.create_database(postgres_server, name)
    url = postgres.sqlalchemy_url(postgres_server, name)
    home = tmp_path_factory.mktemp("hostile")
    tag = uuid.uuid4().hex[:8]
    settings = Settings(
        home=home / "home",
        topic_prefix=f"{tag}.",
        source_partitions=2,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        store={"url": url, "sink_group": f"hostile-sink-{tag}"},
        worker={"app_id": f"hostile-{tag}", "settle_s": 2.0, "max_field_bytes": 4096},
        ingest={"port": REST_PORT},
    )
    bootstrap.ensure_topics(settings)
    pipeline = Pipeline(settings, home, url)
    pipeline.start("worker", ["worker", "--loglevel", "warning"])
    pipeline.start("store-sink", ["sink", "store"])
    try:
        yield pipeline
    finally:
        pipeline.close()
        postgres.drop_database(postgres_server, name)


StartEdge = Callable[[Pipeline], Component]


@pytest.fixture(scope="module", params=("quix", "faust"))
def engine_worker(
    request: pytest.FixtureRequest,
    kafka_broker: KafkaBroker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Settings, Component]]:
    """A worker alone, once per engine for a module (its tests share it); no store."""
    home = tmp_path_factory.mktemp(f"worker-{request.param}")
    settings = Settings(
        home=home / "home",
        topic_prefix=f"{uuid.uuid4().hex[:8]}.",
        source_partitions=2,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        worker={
            "engine": request.param,
            "app_id": f"hostile-{request.param}-{uuid.uuid4().hex[:6]}",
            "take_within_s": 0.02,
            "max_field_bytes": 1024,
        },
    )
    bootstrap.ensure_topics(settings)
    worker = Component(["worker", "--loglevel", "warning"], settings, home / "worker.log").start()
    yield settings, worker
    worker.stop()


def worker_readers(settings: Settings) -> tuple[TopicReader, TopicReader]:
    """Readers of the worker's chain topic (decoded) and its dead-letter topic (raw values)."""
    topics = worker_topics(settings)
    chains = TopicReader(
        settings, topics.chain, bootstrap.record_serde(settings, "TraceChain", topics.chain).decode
    )
    return chains, TopicReader(settings, topics.dead_letter, lambda v: v)


def reasons_by_key(dlq: TopicReader) -> dict[bytes, list[str]]:
    """The reasons of the dead letters read so far, by record key."""
    out: dict[bytes, list[str]] = {}
    for m in dlq.messages:
        out.setdefault(m.key(), []).append(dict(m.headers())["dlq.reason"].decode())
    return out
