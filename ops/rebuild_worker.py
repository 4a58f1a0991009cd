"""Rebuild the stream worker's state by replaying the source topics under a new application id.

1. **A shadow application.** The rebuild is a worker with a new application id
   ``<app_id>-rebuild-<time>``: its own consumer group (so it starts at each source partition's
   beginning), state folder and changelog topics. Its outputs go to shadow topics
   ``<prefix><new id>.trace.chain`` / ``.trace.alerts`` / ``.dlq.streams`` and its repartition
   topics are its own (``<prefix><new id>.trace.derived`` / ``.trace.genealogy``): nothing a live
   component reads is written, and the live worker's own topics are not read.
2. **Replay.** The worker runs as a child process (``tracesync worker`` with those settings)
   until its group committed the source end offsets taken at the start, has read its own
   repartition topics to their end, and no output moved for the *quiet time* (the settle time
   and a timer tick, so every batch waiting for a missing side has fallen due); then SIGTERM.
3. **Compare** the shadow chain topic with the live one (:mod:`ops.chain_compare`).
4. **Cutover** on request: :mod:`ops.worker_cutover`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from confluent_kafka import Consumer, KafkaError, KafkaException, TopicPartition

from ops.chain_compare import ChainComparison, compare_chains
from ops.chain_topic import read_chain_topic
from ops.replay import PartitionRange
from streams.bootstrap import prefixed_worker_catalog, worker_topics
from streams.engines.base import WorkerTopics
from tracesync.bootstrap import admin, record_serde
from tracesync.errors import ConfigurationError, InfrastructureError, TracesyncError
from tracesync.kafka_clients import consumer_config
from tracesync.settings import KafkaSettings, Settings
from tracesync.topics import apply

_POLL_S = 1.0
_TIMEOUT_S = 15.0
_PASSING = frozenset(
    {
        KafkaError.NOT_COORDINATOR,
        KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
        KafkaError.COORDINATOR_NOT_AVAILABLE,
        KafkaError.NOT_LEADER_FOR_PARTITION,
        KafkaError.LEADER_NOT_AVAILABLE,
        KafkaError.UNKNOWN_TOPIC_OR_PART,
        KafkaError._TIMED_OUT,
    }
)
"""Errors of a broker that is still starting, or of topics just created: asked again."""

T = TypeVar("T")


def _retrying(call: Callable[[], T], what: str) -> T:
    deadline = time.monotonic() + _TIMEOUT_S * 4
    while True:
        try:
            return call()
        except KafkaException as exc:
            error = exc.args[0]
            passing = error.code() in _PASSING or error.retriable()
            if not passing or time.monotonic() > deadline:
                raise InfrastructureError(f"cannot read {what}: {exc}") from exc
            time.sleep(_POLL_S)


_SUFFIX = "-rebuild-"


class RebuildFailedError(TracesyncError):
    """The rebuild worker died or did not finish in time."""


class WorkerProcess(Protocol):
    """A started ``tracesync worker`` child process."""

    def alive(self) -> bool: ...

    def stop(self, timeout_s: float = 30.0) -> int | None: ...

    def log_tail(self, lines: int = 40) -> str: ...


Launch = Callable[[Settings], WorkerProcess]
"""Starts ``tracesync worker`` with the given settings."""


@dataclass(frozen=True)
class Progress:
    """Where a rebuild is: source records replayed (of those to replay), shadow chains so far."""

    replayed: int
    total: int
    seconds: float
    chains: int

    @property
    def rate(self) -> float:
        return self.replayed / self.seconds if self.seconds else 0.0


Report = Callable[[Progress], None]


def rebuild_app_id(app_id: str, now: datetime | None = None) -> str:
    """``<base>-rebuild-<yyyymmddHHMMSS>``; a rebuilt id is rebuilt from its base."""
    base = app_id.split(_SUFFIX, maxsplit=1)[0]
    return f"{base}{_SUFFIX}{(now or datetime.now(UTC)).strftime('%Y%m%d%H%M%S')}"


def rebuild_settings(settings: Settings, app_id: str) -> Settings:
    """The live settings with the worker under ``app_id``, writing only its own topics."""
    worker = settings.worker.model_copy(
        update={"app_id": app_id, "output_prefix": f"{app_id}.", "internal_prefix": f"{app_id}."}
    )
    return settings.model_copy(update={"worker": worker})


def quiet_time(settings: Settings) -> float:
    """How long outputs stay still before the rebuild is done: a waiting batch falls due."""
    ws = settings.worker
    return ws.settle_s + 2 * ws.settle_check_s + 2.0


@dataclass
class RebuildResult:
    app_id: str
    topics: WorkerTopics
    replayed: int = 0
    replay_seconds: float = 0.0
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        """Source records replayed per second, worker start included."""
        return self.replayed / self.replay_seconds if self.replay_seconds else 0.0


def _done(ranges: Sequence[PartitionRange], ends: dict[tuple[str, int], int] | None = None) -> int:
    """How many partitions still have records the group has not committed."""
    behind = 0
    for r in ranges:
        end = r.high if ends is None else ends[(r.topic, r.partition)]
        if end > r.low and (r.committed or 0) < end:
            behind += 1
    return behind


class GroupProgress:
    """A group's committed offsets and the partitions' watermarks.

    Read by a consumer in the group that never subscribes (it joins nothing and commits
    nothing): the admin client's offset listing crashes librdkafka while the broker is still
    loading the group coordinator.
    """

    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self._consumer = Consumer(consumer_config(kafka, group))

    def close(self) -> None:
        self._consumer.close()

    def ranges(self, topics: Sequence[str]) -> list[PartitionRange]:
        partitions = [tp for topic in topics for tp in self._partitions(topic)]
        committed = self._committed(partitions)
        ranges = []
        for tp in committed:
            low, high = self._watermarks(tp)
            offset = tp.offset if tp.offset >= 0 else None
            ranges.append(PartitionRange(tp.topic, tp.partition, low, high, offset))
        return ranges

    def _committed(self, partitions: list[TopicPartition]) -> list[TopicPartition]:
        def ask() -> list[TopicPartition]:
            return list(self._consumer.committed(partitions, timeout=_TIMEOUT_S))

        return _retrying(ask, "the group's offsets")

    def _watermarks(self, tp: TopicPartition) -> tuple[int, int]:
        def ask() -> tuple[int, int]:
            low, high = self._consumer.get_watermark_offsets(tp, timeout=_TIMEOUT_S)
            return int(low), int(high)

        return _retrying(ask, f"the offsets of {tp.topic}[{tp.partition}]")

    def _partitions(self, topic: str) -> list[TopicPartition]:
        metadata = self._consumer.list_topics(topic, timeout=_TIMEOUT_S).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise ConfigurationError(f"topic {topic!r} does not exist on the broker")
        return [TopicPartition(topic, p) for p in sorted(metadata.partitions)]


class SettleWatch:
    """Watches a worker's group until it has read its inputs and its outputs stay still."""

    def __init__(self, settings: Settings, quiet_s: float) -> None:
        self.topics = worker_topics(settings)
        self.quiet_s = quiet_s
        self.group = GroupProgress(settings.kafka, settings.worker.app_id)
        start = self.group.ranges(self.topics.sources)
        self.ends = {(r.topic, r.partition): r.high for r in start}
        self.total = sum(r.high - r.low for r in start)
        self.began = time.monotonic()
        self.caught_up_at: float | None = None
        self._outputs: int | None = None
        self._moved_at = self.began
        self.replayed = 0

    def close(self) -> None:
        self.group.close()

    def step(self) -> tuple[Progress, bool]:
        """One look: the progress, and whether the worker is done."""
        now = time.monotonic()
        sources = self.group.ranges(self.topics.sources)
        replayed = sum(min(max((r.committed or r.low) - r.low, 0), r.high - r.low) for r in sources)
        t = self.topics
        internal = self.group.ranges((t.derived, t.genealogy))
        outputs = self.group.ranges((t.chain, t.alerts, t.dead_letter))
        chains = sum(r.high - r.low for r in outputs if r.topic == t.chain)
        written = sum(r.high for r in (*internal, *outputs))
        if written != self._outputs:
            self._outputs, self._moved_at = written, now
        if self.caught_up_at is None and _done(sources, self.ends) == 0:
            self.caught_up_at = now
        done = (
            self.caught_up_at is not None
            and _done(internal) == 0
            and now - self._moved_at >= self.quiet_s
        )
        self.replayed = replayed
        return Progress(replayed, self.total, now - self.began, chains), done


def run_until_settled(
    settings: Settings,
    worker: WorkerProcess,
    report: Report | None = None,
    quiet_s: float | None = None,
    timeout_s: float = 3600.0,
) -> SettleWatch:
    """Watch ``worker`` (already started with ``settings``) until done; the watch is returned
    closed, with its counts. Raises RebuildFailedError when it dies or the timeout passes."""
    watch = SettleWatch(settings, quiet_time(settings) if quiet_s is None else quiet_s)
    try:
        while True:
            if not worker.alive():
                raise RebuildFailedError(f"the rebuild worker stopped:\n{worker.log_tail(30)}")
            progress, done = watch.step()
            if report is not None:
                report(progress)
            if done:
                return watch
            if progress.seconds > timeout_s:
                raise RebuildFailedError(f"the rebuild did not finish within {timeout_s:.0f} s")
            time.sleep(_POLL_S)
    finally:
        watch.close()


def rebuild_worker(
    settings: Settings,
    launch: Launch,
    report: Report | None = None,
    timeout_s: float = 3600.0,
    app_id: str | None = None,
) -> RebuildResult:
    """Replay the sources under a new application id into shadow topics. See the module doc."""
    rebuilt = rebuild_settings(settings, app_id or rebuild_app_id(settings.worker.app_id))
    result = RebuildResult(rebuilt.worker.app_id, worker_topics(rebuilt))
    began = time.monotonic()
    apply(admin(rebuilt), prefixed_worker_catalog(rebuilt))  # watched before the worker is up
    worker = launch(rebuilt)
    try:
        watch = run_until_settled(rebuilt, worker, report, timeout_s=timeout_s)
    finally:
        code = worker.stop()
    if code not in (0, None):
        raise RebuildFailedError(f"the rebuild worker exited {code}:\n{worker.log_tail(30)}")
    result.replayed = watch.replayed
    result.replay_seconds = (watch.caught_up_at or time.monotonic()) - watch.began
    result.seconds = time.monotonic() - began
    return result


def compare_topics(
    settings: Settings, live_topic: str, rebuilt_topic: str
) -> tuple[ChainComparison, dict[str, dict[str, object]]]:
    """Read both chain topics to their end and compare them; also the rebuilt newest chains."""
    live = read_chain_topic(
        settings.kafka, live_topic, record_serde(settings, "TraceChain", live_topic).decode
    )
    rebuilt = read_chain_topic(
        settings.kafka, rebuilt_topic, record_serde(settings, "TraceChain", rebuilt_topic).decode
    )
    comparison = compare_chains(live, rebuilt, live_topic, rebuilt_topic)
    return comparison, rebuilt.latest
