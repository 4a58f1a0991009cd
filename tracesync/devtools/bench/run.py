"""The benchmark run: raw ceiling, sustained throughput, latency at a steady offered rate."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from confluent_kafka import Consumer, KafkaException, Producer
from sqlalchemy import create_engine, text

from tracesync import bootstrap
from tracesync.contracts.serde import EnvelopeSerde
from tracesync.devtools.bench.hops import hop_latencies
from tracesync.devtools.bench.measure import PeakMemory, percentile, wait_until
from tracesync.devtools.bench.ready import WARM_UP_BATCH, wait_warm, warm_up_records
from tracesync.devtools.bench.workload import Workload, encode_now
from tracesync.devtools.pipeline import LocalPipeline, OffsetProbe
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import admin_client, consumer_config, producer_config
from tracesync.settings import Settings
from tracesync.topics import TopicCatalog, TopicRole, TopicSpec, apply

Echo = Callable[[str], None]


@dataclass(frozen=True)
class Phase:
    """One fresh pipeline (own topics, worker, sink and store) inside the benchmark run."""

    settings: Settings
    run_dir: Path
    workers: int = 1


def phase_settings(base: Settings, run: str, name: str, workers: int = 1) -> Phase:
    run_dir = (base.home / "bench" / run / name).resolve()
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = base.model_copy(
        update={
            "topic_prefix": f"bench-{run}-{name}.",
            "store": base.store.model_copy(
                update={"url": None, "sink_group": f"bench-{run}-{name}-sink"}
            ),
            "worker": base.worker.model_copy(update={"app_id": f"bench-{run}-{name}-worker"}),
            "home": run_dir,
        }
    )
    return Phase(settings, run_dir, workers)


def _producer(settings: Settings) -> Producer:
    return Producer(producer_config(settings.kafka, settings.producer))


def _produce_all(
    producer: Producer, topics: Sequence[str], keys: Sequence[bytes], values: Sequence[bytes]
) -> None:
    for topic, key, value in zip(topics, keys, values, strict=True):
        while True:
            try:
                producer.produce(topic, value=value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    if producer.flush(120) != 0:
        raise InfrastructureError("the broker did not acknowledge every benchmark record")


def raw_ceiling(
    settings: Settings, run: str, keys: Sequence[bytes], values: Sequence[bytes]
) -> dict[str, Any]:
    """confluent-kafka producing and consuming the same records, no processing, at the same time."""
    topic = f"bench-{run}-raw"
    spec = TopicSpec(topic, settings.source_partitions, "batch_code", TopicRole.INTERNAL)
    apply(
        admin_client(settings.kafka),
        TopicCatalog("", (spec,)),
    )
    consumer = Consumer(consumer_config(settings.kafka, f"bench-{run}-raw"))
    consumer.subscribe([topic])
    consumer.consume(1, timeout=5)  # join the group before the clock starts
    received = 0
    finished = threading.Event()

    def consume() -> None:
        nonlocal received
        while received < len(values):
            received += sum(1 for m in consumer.consume(10000, timeout=1) if m.error() is None)
        finished.set()

    began = time.monotonic()
    reader = threading.Thread(target=consume, daemon=True)
    reader.start()
    _produce_all(_producer(settings), [topic] * len(values), keys, values)
    produced = time.monotonic() - began
    finished.wait(300)
    seconds = time.monotonic() - began
    consumer.close()
    return {
        "events": len(values),
        "produce_s": round(produced, 2),
        "seconds": round(seconds, 2),
        "events_per_s": round(len(values) / seconds),
    }


def _start_workers(pipeline: LocalPipeline, workers: int) -> None:
    """``workers`` worker processes in one consumer group, each with its own state folder."""
    for n in range(1, workers + 1):
        name = "worker" if workers == 1 else f"worker-{n}"
        pipeline.start(name, ["worker", "--loglevel", "warning", "--instance", name])


def _start_pipeline(phase: Phase, echo: Echo) -> LocalPipeline:
    bootstrap.ensure_topics(phase.settings)
    pipeline = LocalPipeline(phase.settings, phase.run_dir / "logs", echo=echo)
    pipeline.up_infrastructure()
    _start_workers(pipeline, phase.workers)
    pipeline.start("sink-store", ["sink", "store"])
    return pipeline


class _Lags:
    """Events in, and the worker's and the store sink's lag, on one phase's topics."""

    def __init__(self, phase: Phase) -> None:
        cat = bootstrap.catalog(phase.settings)
        self.sources = [s.name for s in cat.by_role(TopicRole.SOURCE)]
        self.chain = cat.topic("trace.chain").name
        self.worker_group = phase.settings.worker.app_id
        self.sink_group = phase.settings.store.sink_group
        self.probe = OffsetProbe(phase.settings, [self.worker_group, self.sink_group])

    def close(self) -> None:
        self.probe.close()

    def events_in(self) -> int:
        return sum(self.probe.ends(self.sources).values())

    def worker(self) -> int | None:
        try:
            return self.probe.lag(self.worker_group, self.probe.ends(self.sources))
        except KafkaException:
            return None

    def sink(self) -> int | None:
        try:
            return self.probe.lag(self.sink_group, self.probe.ends([self.chain]))
        except KafkaException:
            return None


def _drained(lags: _Lags, sent: int) -> Callable[[], bool]:
    def done() -> bool:
        return lags.events_in() >= sent and lags.worker() == 0 and lags.sink() == 0

    return done


def _pids(pipeline: LocalPipeline) -> dict[str, int | None]:
    return {name: c.pid for name, c in pipeline.components.items()}


def _wait_ready(
    pipeline: LocalPipeline, phase: Phase, lags: _Lags, workload: Workload, serde: EnvelopeSerde
) -> tuple[int, float]:
    """The warm-up batch is through the whole pipeline (:mod:`.ready`) before the clock starts.

    Returns how many warm-up records were sent (they count in the source topics' offsets) and
    the seconds until they were stored.
    """
    records = warm_up_records(workload, bootstrap.catalog(phase.settings), serde)
    topics, keys, values = (list(column) for column in zip(*records, strict=True))
    _produce_all(_producer(phase.settings), topics, keys, values)
    took = wait_warm(phase.settings, lambda: (lags.worker(), lags.sink()), pipeline.dead)
    return len(records), took


def throughput(
    phase: Phase,
    workload: Workload,
    values: Sequence[bytes],
    serde: EnvelopeSerde,
    *,
    echo: Echo,
    timeout_s: float,
) -> dict[str, Any]:
    """Publish everything as fast as possible; time until the store holds every chain."""
    pipeline = _start_pipeline(phase, echo)
    lags = _Lags(phase)
    memory = PeakMemory()
    try:
        warm, _ = _wait_ready(pipeline, phase, lags, workload, serde)
        keys = [e["batch_code"].encode() for e in workload.envelopes]
        began = time.monotonic()
        topics = workload.topics(bootstrap.catalog(phase.settings))
        _produce_all(_producer(phase.settings), topics, keys, values)
        produced = time.monotonic() - began
        done = _drained(lags, len(values) + warm)
        finished = wait_until(done, timeout_s, lambda: memory.sample(_pids(pipeline)))
        seconds = time.monotonic() - began
        memory.sample(_pids(pipeline))
        batches = _stored_batches(phase.settings)
    finally:
        pipeline.stop_components()
        lags.close()
    return {
        "events": len(values),
        "completed": finished,
        "produce_s": round(produced, 2),
        "seconds": round(seconds, 2),
        "events_per_s": round(len(values) / seconds),
        "batches_in_store": batches,
        "batches_expected": len(workload.batch_codes),
        "peak_rss_mib": memory.mib(),
    }


def worker_only(
    phase: Phase, workload: Workload, values: Sequence[bytes], *, echo: Echo, timeout_s: float
) -> dict[str, Any]:
    """The stream worker alone: events already in the source topics, time its lag to zero.

    The clock starts when the workers' first commit shows (faust commits every second, quix every
    checkpoint, so the figure is good to about a second of the run).
    """
    bootstrap.ensure_topics(phase.settings)
    keys = [e["batch_code"].encode() for e in workload.envelopes]
    topics = workload.topics(bootstrap.catalog(phase.settings))
    _produce_all(_producer(phase.settings), topics, keys, values)
    lags = _Lags(phase)
    pipeline = LocalPipeline(phase.settings, phase.run_dir / "logs", echo=echo)
    _start_workers(pipeline, phase.workers)
    memory = PeakMemory()
    started: list[tuple[float, int]] = []

    def drained() -> bool:
        lag = lags.worker()
        if lag is not None and lag < len(values) and not started:
            started.append((time.monotonic(), lag))
        return lag == 0

    try:
        finished = wait_until(drained, timeout_s, lambda: memory.sample(_pids(pipeline)), 0.2)
        ended = time.monotonic()
    finally:
        pipeline.stop_components()
        lags.close()
    began, backlog = started[0] if started else (ended, 0)
    seconds = max(ended - began, 1e-3)
    return {
        "events": backlog,
        "completed": finished,
        "seconds": round(seconds, 2),
        "events_per_s": round(backlog / seconds),
        "peak_rss_mib": memory.mib(),
    }


def latency(
    phase: Phase,
    workload: Workload,
    serde: EnvelopeSerde,
    *,
    rate: float,
    echo: Echo,
    timeout_s: float,
) -> dict[str, Any]:
    """Offer events at a steady rate with event time = send time; store time minus event time.

    The clock starts once a warm-up batch went through the whole pipeline (:mod:`.ready`);
    ``warm_up_s`` is how long that took after the components started.
    """
    pipeline = _start_pipeline(phase, echo)
    lags = _Lags(phase)
    memory = PeakMemory()
    producer = _producer(phase.settings)
    try:
        warm, warm_up_s = _wait_ready(pipeline, phase, lags, workload, serde)
        began = time.monotonic()
        topics = workload.topics(bootstrap.catalog(phase.settings))
        for index, (envelope, topic) in enumerate(zip(workload.envelopes, topics, strict=True)):
            due = began + index / rate
            while (now := time.monotonic()) < due:
                producer.poll(min(due - now, 0.01))
            producer.produce(
                topic, value=encode_now(envelope, serde), key=envelope["batch_code"].encode()
            )
            if index % 500 == 0:
                memory.sample(_pids(pipeline))
        producer.flush(60)
        offered_s = time.monotonic() - began
        done = _drained(lags, len(workload.envelopes) + warm)
        finished = wait_until(done, timeout_s, lambda: memory.sample(_pids(pipeline)))
        memory.sample(_pids(pipeline))
        samples = _latencies_ms(phase.settings)
        hops = hop_latencies(phase.settings, lags.sources, lags.chain, phase.settings.store_url)
    finally:
        pipeline.stop_components()
        lags.close()
    samples.sort()
    return {
        "events": len(workload.envelopes),
        "offered_rate": rate,
        "achieved_offer_rate": round(len(workload.envelopes) / offered_s),
        "completed": finished,
        "samples": len(samples),
        "p50_ms": _round(percentile(samples, 0.50)),
        "p95_ms": _round(percentile(samples, 0.95)),
        "p99_ms": _round(percentile(samples, 0.99)),
        "max_ms": _round(samples[-1] if samples else None),
        "hops": hops,
        "warm_up_s": round(warm_up_s, 1),
        "peak_rss_mib": memory.mib(),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _stored_batches(settings: Settings) -> int:
    engine = create_engine(settings.store_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT count(*) FROM batches WHERE batch_code <> :warm")
            return int(conn.execute(query, {"warm": WARM_UP_BATCH}).scalar_one())
    finally:
        engine.dispose()


def _latencies_ms(settings: Settings) -> list[float]:
    """Per batch: when its final chain was stored minus the time of its latest event."""
    engine = create_engine(settings.store_url)
    try:
        with engine.connect() as conn:
            query = text("SELECT stored_at, last_event_at FROM batches WHERE batch_code <> :warm")
            rows = conn.execute(query, {"warm": WARM_UP_BATCH}).all()
    finally:
        engine.dispose()
    out = []
    for stored_at, last_event_at in rows:
        if stored_at is None or last_event_at is None:
            continue
        stored = _aware(_parse(stored_at))
        event = _aware(_parse(last_event_at))
        out.append((stored - event).total_seconds() * 1000)
    return out


def _parse(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
