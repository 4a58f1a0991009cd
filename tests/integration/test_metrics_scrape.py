"""``/metrics``, ``/healthz`` and ``/readyz`` of every long-running command, as Prometheus scrapes.

Each component runs as a real process (``tracesync ... --metrics-port N --log-format json``)
against the session's broker. A test waits until the component is ready, scrapes ``/metrics``,
lets a little simulated traffic through, scrapes again and checks that the counters of that
component moved: the worker on both engines, the store and targets sinks, the REST ingest (its
own port), the database and file ingests, and ``tracesync serve``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import MetaData, create_engine

from sinks.store.database import open_store
from streams.engines.quix import STORES, changelog_topic
from tests.fixtures.kafka import KafkaBroker
from tests.fixtures.targets import TargetServer
from tests.integration.test_dbpoll_capture import MES_MAPPING, fill, mes_row, mes_table
from tests.integration.test_worker_pipeline import Plant, publish
from tests.rest_samples import mes_event
from tests.unit.targets_factory import life_of
from tracesync import bootstrap
from tracesync.contracts.record_serde import RecordSerde
from tracesync.devtools.supervise import Component, wait_for
from tracesync.publisher import KafkaPublisher, OutboundRecord
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
ROUTES = ROOT / "deploy" / "routes" / "example.toml"
WMS_MAPPING = ROOT / "deploy" / "mappings" / "wms_receipts.csv.toml"
WMS_SAMPLE = ROOT / "deploy" / "samples" / "wms_receipts_20250301.csv"
READY_S = 120
TEXT_LOG = re.compile(r"^\[?\d{4}-\d\d-\d\d[ T]\d\d:")  # a text log line starts with its time

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})  # noqa: S310 (local URL)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:  # not listening yet
        return 0, b""


def scrape(port: int) -> Samples:
    status, body = get(f"http://127.0.0.1:{port}/metrics")
    assert status == 200, body
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(body.decode())
        for s in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of ``name`` over every series carrying ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in samples.items() if n == name and wanted <= ls)


def series(samples: Samples, name: str) -> list[dict[str, str]]:
    return [dict(ls) for (n, ls), _ in samples.items() if n == name]


def wait_ready(port: int, component: Component) -> None:
    ready = wait_for(
        lambda: get(f"http://127.0.0.1:{port}/readyz")[0] == 200, READY_S, 0.5, [component]
    )
    assert ready, f"{get(f'http://127.0.0.1:{port}/readyz')}\n{component.log_tail()}"
    assert get(f"http://127.0.0.1:{port}/healthz")[0] == 200


def moves(port: int, before: float, name: str, component: Component, **labels: str) -> float:
    """Wait until ``name`` (summed over ``labels``) exceeds ``before``; its new value."""
    seen: list[float] = []

    def moved() -> bool:
        seen.append(total(scrape(port), name, **labels))
        return seen[-1] > before

    assert wait_for(moved, 90, 0.5, [component]), (
        f"{name}{labels} stayed {before}: {component.log_tail()}"
    )
    return seen[-1]


def json_logs(component: Component) -> list[dict[str, object]]:
    lines = component.log_path.read_text(errors="replace").splitlines()
    return [json.loads(line) for line in lines if line.startswith("{")]


@pytest.fixture
def settings(
    kafka_broker: KafkaBroker, tmp_path: Path, unique_group: Callable[..., str]
) -> Settings:
    settings = Settings(
        home=tmp_path / "home",
        topic_prefix=f"metrics{uuid.uuid4().hex[:8]}.",
        source_partitions=3,
        kafka={"bootstrap_servers": kafka_broker.bootstrap_servers},
        registry={"enabled": False},
        worker={"app_id": unique_group("worker"), "settle_s": 2.0, "take_within_s": 0.02},
        store={"sink_group": unique_group("store"), "batch_max_ms": 50},
        metrics={"stats_interval_ms": 500},
        ingest_files={"poll_interval_s": 0.2},
        ingest_db={"poll_interval_s": 0.2},
    )
    bootstrap.ensure_topics(settings)
    # Quix Streams creates its changelog topics itself, then reads them back at once; with four
    # components starting on a busy broker the new topic is not in metadata yet (and the worker
    # stops): created here first, and waited for
    changelogs = tuple(
        TopicSpec(
            changelog_topic(settings.worker.app_id, stream, store),
            settings.source_partitions,
            "table key",
            TopicRole.INTERNAL,
            "compact",
            None,
        )
        for stream, store in STORES
    )
    apply(bootstrap.admin(settings), TopicCatalog("", changelogs))
    return settings


@pytest.fixture
def run(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., tuple[Component, int]]]:
    """Start ``tracesync ARGS --metrics-port N --log-format json``; stopped at teardown."""
    started: list[Component] = []

    def start(name: str, *args: str, own_port: int | None = None) -> tuple[Component, int]:
        port = own_port or free_port()
        extra = [] if own_port else ["--metrics-port", str(port)]
        component = Component(
            [*args, *extra, "--log-format", "json"], settings, tmp_path / f"{name}.log"
        )
        started.append(component.start())
        return component, port

    yield start
    for component in started:  # all at once: they stop in parallel
        if component.alive() and component.pid is not None:
            os.killpg(component.pid, signal.SIGTERM)
    codes = [(component, component.stop()) for component in started]
    for component, code in codes:
        assert code in (0, None, -15), component.log_tail()


def test_worker_sinks_and_rest_ingest_count_a_small_run(
    settings: Settings,
    run: Callable[..., tuple[Component, int]],
    target_server: Callable[..., TargetServer],
    tmp_path: Path,
) -> None:
    server = target_server()
    rest_port = free_port()
    worker, worker_port = run("worker", "worker", "--engine", "quix", "--loglevel", "warning")
    store, store_port = run(
        "store", "sink", "store", "--store-url", f"sqlite:///{tmp_path / 's.db'}"
    )
    targets, targets_port = run(
        "targets", "sink", "targets", "--routes", str(ROUTES), "--target", f"wms.url={server.url}"
    )
    api, _ = run("api", "ingest", "api", "--port", str(rest_port), own_port=rest_port)
    for component, port in (
        (worker, worker_port),
        (store, store_port),
        (targets, targets_port),
        (api, rest_port),
    ):
        wait_ready(port, component)
    before = {port: scrape(port) for port in (worker_port, store_port, targets_port, rest_port)}

    key = {"X-API-Key": "dev-mes-key", "Content-Type": "application/json"}
    for n in range(3):
        body = json.dumps(mes_event(f"BM-{n}")).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{rest_port}/v1/mes/events", body, key)
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            assert answer.status == 202
    chain_topic = bootstrap.catalog(settings).topic("trace.chain").name
    serde = RecordSerde.single_object("TraceChain")
    with KafkaPublisher(settings.kafka, settings.producer) as publisher:
        publisher.publish(
            [
                OutboundRecord.keyed_by_batch(chain_topic, "BC1", serde.encode(r))
                for r in life_of("BC1")
            ]
        )

    route = {"route": "/v1/{system}/events", "status": "202"}
    b = before[rest_port]
    assert (
        moves(
            rest_port,
            total(b, "tracesync_http_requests_total", **route),
            "tracesync_http_requests_total",
            api,
            **route,
        )
        == 3
    )
    moves(
        rest_port,
        total(b, "tracesync_events_out_total"),
        "tracesync_events_out_total",
        api,
        stage="ingest.rest",
    )
    b = before[worker_port]
    merge = {"stage": "streams.merge"}
    moves(
        worker_port,
        total(b, "tracesync_events_in_total", **merge),
        "tracesync_events_in_total",
        worker,
        **merge,
    )
    moves(
        worker_port,
        total(b, "tracesync_events_out_total", topic=chain_topic),
        "tracesync_events_out_total",
        worker,
        topic=chain_topic,
    )
    b = before[store_port]
    moves(
        store_port,
        total(b, "tracesync_store_write_seconds_count"),
        "tracesync_store_write_seconds_count",
        store,
    )
    moves(
        store_port,
        total(b, "tracesync_store_rows_total", kind="chain"),
        "tracesync_store_rows_total",
        store,
        kind="chain",
    )
    b = before[targets_port]
    moves(
        targets_port,
        total(b, "tracesync_target_deliveries_total"),
        "tracesync_target_deliveries_total",
        targets,
        target="wms",
    )

    def lag_of(port: int, group: str) -> bool:
        return any(s["group"] == group for s in series(scrape(port), "tracesync_consumer_lag"))

    assert wait_for(lambda: lag_of(worker_port, settings.worker.app_id), 30, 0.5, [worker])
    assert wait_for(lambda: lag_of(store_port, settings.store.sink_group), 30, 0.5, [store])
    assert total(scrape(worker_port), "tracesync_ready") == 1
    for component in (worker, store, targets, api):
        logs = json_logs(component)
        assert logs, component.log_tail()
        assert {"time", "level", "logger", "message"} <= set(logs[0])
        lines = component.log_path.read_text().splitlines()
        assert not [line for line in lines if TEXT_LOG.match(line)], component.log_tail()


def test_the_faust_worker_counts_its_buffers_and_lag(
    settings: Settings, run: Callable[..., tuple[Component, int]]
) -> None:
    worker, port = run("faust", "worker", "--engine", "faust", "--loglevel", "warning")
    wait_ready(port, worker)
    before = scrape(port)
    plant = Plant()
    plant.batch("RAW-1", "500", [])
    publish(settings, plant.events)
    merge = {"stage": "streams.merge"}
    moves(
        port,
        total(before, "tracesync_events_in_total", **merge),
        "tracesync_events_in_total",
        worker,
        **merge,
    )
    chain_topic = bootstrap.catalog(settings).topic("trace.chain").name
    moves(port, 0, "tracesync_events_out_total", worker, topic=chain_topic)
    after = scrape(port)
    assert total(after, "tracesync_processing_seconds_count", **merge) > 0
    assert total(after, "tracesync_end_to_end_seconds_count", **merge) > 0
    assert any(
        s["group"] == settings.worker.app_id for s in series(after, "tracesync_consumer_lag")
    )


def test_the_ingests_and_serve_count_what_they_do(
    settings: Settings, run: Callable[..., tuple[Component, int]], tmp_path: Path
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    source = f"sqlite:///{tmp_path / 'source.db'}"
    engine = create_engine(source)
    table = mes_table(MetaData())
    table.metadata.create_all(engine)
    fill(engine, table, [mes_row(i) for i in range(1, 6)])
    store_url = f"sqlite:///{tmp_path / 'store.db'}"
    open_store(store_url).engine.dispose()  # an empty, migrated store for serve
    files, files_port = run(
        "files", "ingest", "files", "--mapping", str(WMS_MAPPING), "--watch", str(drop)
    )
    db, db_port = run("db", "ingest", "db", "--mapping", str(MES_MAPPING), "--url", source)
    serve_port = free_port()
    serve, _ = run(
        "serve", "serve", "--store-url", store_url, "--port", str(serve_port), own_port=serve_port
    )
    for component, port in ((files, files_port), (db, db_port), (serve, serve_port)):
        wait_ready(port, component)

    stage = {"stage": "ingest.db"}
    first = moves(db_port, 0, "tracesync_events_out_total", db, **stage)
    before_files = total(scrape(files_port), "tracesync_events_out_total")
    shutil.copy(WMS_SAMPLE, drop / WMS_SAMPLE.name)
    (drop / f"{WMS_SAMPLE.name}.done").touch()
    fill(engine, table, [mes_row(6), mes_row(7, started_at="not a time")])
    moves(files_port, before_files, "tracesync_events_out_total", files, stage="ingest.files")
    moves(db_port, first, "tracesync_events_out_total", db, **stage)
    moves(db_port, 0, "tracesync_dead_letters_total", db, stage="ingest")
    engine.dispose()

    route = {"route": "/v1/batches/{code}", "status": "404"}
    before = total(scrape(serve_port), "tracesync_http_requests_total", **route)
    viewer = {"X-API-Key": "dev-viewer-key"}
    assert get(f"http://127.0.0.1:{serve_port}/v1/batches/NOPE", viewer)[0] == 404
    assert moves(serve_port, before, "tracesync_http_requests_total", serve, **route) == before + 1
    timed = total(scrape(serve_port), "tracesync_http_request_seconds_count", route=route["route"])
    assert timed >= 1
    readiness = json.loads(get(f"http://127.0.0.1:{serve_port}/readyz")[1])
    assert readiness["checks"] == {"store reachable": True}
