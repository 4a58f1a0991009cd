"""Replay a consumer group of the pipeline: move its committed offsets, dry run first.

The same rules as Kafka's own ``kafka-consumer-groups --reset-offsets``: a target is resolved per
partition (by time, to the earliest or latest offset, to a given offset, or shifted from the
committed one), clamped to the partition's current range, and shown with the lag it leaves; only
``execute`` writes it, and only while the group has no active members, since a running member
would commit over the reset. Every component's writes are idempotent (version-guarded upserts,
the targets' sent-ledger, the worker's merge), so a replayed component converges to the same
result and sends nothing twice.

:func:`resolve_target` and :func:`plan_rows` are pure; :class:`GroupOffsets` does the Kafka I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from confluent_kafka import Consumer as KafkaConsumer
from confluent_kafka import (
    ConsumerGroupState,
    ConsumerGroupTopicPartitions,
    KafkaException,
    TopicPartition,
)

from streams.bootstrap import worker_topics
from tracesync.errors import ConfigurationError, InfrastructureError, TracesyncError
from tracesync.kafka_clients import admin_client, consumer_config
from tracesync.settings import KafkaSettings, Settings
from tracesync.topics import TopicCatalog, TopicRole

_TIMEOUT_S = 15.0


class ResetKind(StrEnum):
    DATETIME = "to-datetime"
    EARLIEST = "to-earliest"
    LATEST = "to-latest"
    OFFSET = "to-offset"
    SHIFT = "shift-by"


@dataclass(frozen=True)
class ResetSpec:
    """Where to move a group: one kind, with its argument."""

    kind: ResetKind
    when: datetime | None = None
    offsets: Mapping[int | None, int] = field(default_factory=dict)
    """For ``to-offset``: partition -> offset; key None applies to every partition."""
    shift: int = 0

    def describe(self) -> str:
        if self.kind is ResetKind.DATETIME and self.when is not None:
            return f"{self.kind} {self.when.isoformat()}"
        if self.kind is ResetKind.SHIFT:
            return f"{self.kind} {self.shift}"
        if self.kind is ResetKind.OFFSET:
            shown = ", ".join(f"{'*' if p is None else p}:{o}" for p, o in self.offsets.items())
            return f"{self.kind} {shown}"
        return str(self.kind)


@dataclass(frozen=True)
class PartitionRange:
    """What the broker says of one partition, and what the group has committed on it."""

    topic: str
    partition: int
    low: int
    high: int
    committed: int | None
    by_time: int | None = None
    """For ``to-datetime``: the first offset at or after the time (None: none that late)."""


@dataclass(frozen=True)
class PartitionPlan:
    """One partition's move: from the committed offset to the target, and the lag it leaves."""

    topic: str
    partition: int
    current: int | None
    target: int
    high: int

    @property
    def lag(self) -> int:
        return self.high - self.target

    @property
    def changes(self) -> bool:
        return self.current != self.target


class ActiveGroupError(TracesyncError):
    """The group has running members; a reset now would be overwritten by their commits."""

    def __init__(self, group: str, members: Sequence[str]) -> None:
        self.group = group
        self.members = tuple(members)
        shown = "; ".join(self.members)
        super().__init__(
            f"consumer group {group!r} has {len(self.members)} active member(s): {shown}. "
            "Stop them first (SIGTERM the component's process, e.g. `tracesync worker` or "
            "`tracesync sink store`), wait until the group is empty, then run again."
        )


def resolve_target(spec: ResetSpec, part: PartitionRange) -> int:
    """The offset ``spec`` asks for on ``part``, clamped to the partition's range."""
    match spec.kind:
        case ResetKind.EARLIEST:
            target = part.low
        case ResetKind.LATEST:
            target = part.high
        case ResetKind.DATETIME:
            target = part.high if part.by_time is None or part.by_time < 0 else part.by_time
        case ResetKind.OFFSET:
            target = spec.offsets.get(part.partition, spec.offsets.get(None, part.low))
        case ResetKind.SHIFT:
            base = part.committed if part.committed is not None else part.low
            target = base + spec.shift
    return min(max(target, part.low), part.high)


def plan_rows(spec: ResetSpec, parts: Iterable[PartitionRange]) -> list[PartitionPlan]:
    """Every partition's move, in topic and partition order."""
    plans = (
        PartitionPlan(p.topic, p.partition, p.committed, resolve_target(spec, p), p.high)
        for p in parts
    )
    return sorted(plans, key=lambda plan: (plan.topic, plan.partition))


@dataclass(frozen=True)
class Component:
    """A pipeline component's consumer group and the topics it commits offsets on."""

    name: str
    group: str
    topics: tuple[str, ...]


def components(settings: Settings, targets_group: str = "tracesync-targets") -> list[Component]:
    """The pipeline's consumer groups, by component name."""
    catalog = TopicCatalog.from_settings(settings)
    sources = tuple(spec.name for spec in catalog.by_role(TopicRole.SOURCE))
    own = worker_topics(settings)
    worker_inputs = (*sources, own.derived, own.genealogy)
    sink_topics = (catalog.topic("trace.chain").name, catalog.topic("trace.alerts").name)
    return [
        Component("worker", settings.worker.app_id, worker_inputs),
        Component("store-sink", settings.store.sink_group, sink_topics),
        Component("targets-sink", targets_group, sink_topics),
    ]


def component_named(settings: Settings, name: str) -> Component:
    by_name = {c.name: c for c in components(settings)}
    if name not in by_name:
        raise ConfigurationError(f"unknown component {name!r}; one of {', '.join(by_name)}")
    return by_name[name]


class GroupOffsets:
    """Kafka I/O for one group: ranges and committed offsets, members, and the reset itself."""

    def __init__(self, kafka: KafkaSettings, group: str) -> None:
        self.group = group
        self._kafka = kafka
        self._admin = admin_client(kafka)
        # a consumer that never subscribes: it only asks for watermarks and offsets by time
        self._probe = KafkaConsumer(consumer_config(kafka, f"{group}.replay-probe"))

    def close(self) -> None:
        self._probe.close()

    def active_members(self) -> list[str]:
        future = self._admin.describe_consumer_groups([self.group])[self.group]
        try:
            description = future.result(timeout=_TIMEOUT_S)
        except KafkaException as exc:
            raise InfrastructureError(f"cannot describe group {self.group!r}: {exc}") from exc
        if description.state in (ConsumerGroupState.EMPTY, ConsumerGroupState.DEAD):
            return []
        return [f"{m.client_id} on {m.host} ({m.member_id})" for m in description.members]

    def ranges(self, topics: Sequence[str], when: datetime | None) -> list[PartitionRange]:
        partitions = [tp for topic in topics for tp in self._partitions(topic)]
        committed = self._committed(partitions)
        by_time = self._offsets_at(partitions, when) if when is not None else {}
        ranges = []
        for tp in partitions:
            low, high = self._probe.get_watermark_offsets(tp, timeout=_TIMEOUT_S)
            key = (tp.topic, tp.partition)
            ranges.append(
                PartitionRange(
                    tp.topic, tp.partition, low, high, committed.get(key), by_time.get(key)
                )
            )
        return ranges

    def reset(self, plans: Sequence[PartitionPlan]) -> None:
        """Commit every plan's target for the group (refused while members are active)."""
        members = self.active_members()
        if members:
            raise ActiveGroupError(self.group, members)
        offsets = [TopicPartition(p.topic, p.partition, p.target) for p in plans]
        request = ConsumerGroupTopicPartitions(self.group, offsets)
        future = self._admin.alter_consumer_group_offsets([request])[self.group]
        try:
            future.result(timeout=_TIMEOUT_S)
        except KafkaException as exc:
            raise InfrastructureError(f"cannot reset group {self.group!r}: {exc}") from exc

    def _partitions(self, topic: str) -> list[TopicPartition]:
        metadata = self._admin.list_topics(topic, timeout=_TIMEOUT_S).topics.get(topic)
        if metadata is None or metadata.error is not None or not metadata.partitions:
            raise ConfigurationError(f"topic {topic!r} does not exist on the broker")
        return [TopicPartition(topic, p) for p in sorted(metadata.partitions)]

    def _committed(self, partitions: list[TopicPartition]) -> dict[tuple[str, int], int]:
        # Read through a consumer of the group itself (it never subscribes, so it never joins
        # or commits), not the admin's list_consumer_group_offsets: librdkafka segfaulted in
        # that call against a broker still loading its group coordinator, while committed()
        # retries COORDINATOR_LOAD_IN_PROGRESS / NOT_COORDINATOR within its timeout.
        reader = KafkaConsumer(consumer_config(self._kafka, self.group))
        try:
            found = reader.committed(partitions, timeout=_TIMEOUT_S)
        except KafkaException as exc:
            raise InfrastructureError(f"cannot read offsets of {self.group!r}: {exc}") from exc
        finally:
            reader.close()
        failed = [tp for tp in found if tp.error is not None]
        if failed:
            raise InfrastructureError(f"cannot read offsets of {self.group!r}: {failed[0].error}")
        return {(tp.topic, tp.partition): tp.offset for tp in found if tp.offset >= 0}

    def _offsets_at(
        self, partitions: list[TopicPartition], when: datetime
    ) -> dict[tuple[str, int], int]:
        millis = int(when.timestamp() * 1000)
        asked = [TopicPartition(tp.topic, tp.partition, millis) for tp in partitions]
        try:
            found = self._probe.offsets_for_times(asked, timeout=_TIMEOUT_S)
        except KafkaException as exc:
            at = when.isoformat()
            raise InfrastructureError(f"cannot look up offsets at {at}: {exc}") from exc
        failed = [tp for tp in found if tp.error is not None]
        if failed:
            tp = failed[0]
            raise InfrastructureError(
                f"cannot look up the offset at {when.isoformat()} on "
                f"{tp.topic}[{tp.partition}]: {tp.error}"
            )
        return {(tp.topic, tp.partition): tp.offset for tp in found}


def plan_replay(
    kafka: KafkaSettings, component: Component, spec: ResetSpec, topics: Sequence[str] = ()
) -> tuple[list[PartitionPlan], list[str]]:
    """The per-partition plan and the group's active members (empty: safe to execute)."""
    chosen = _chosen_topics(component, topics)
    group = GroupOffsets(kafka, component.group)
    try:
        plans = plan_rows(spec, group.ranges(chosen, spec.when))
        return plans, group.active_members()
    finally:
        group.close()


def execute_replay(
    kafka: KafkaSettings, component: Component, plans: Sequence[PartitionPlan]
) -> None:
    group = GroupOffsets(kafka, component.group)
    try:
        group.reset(plans)
    finally:
        group.close()


def _chosen_topics(component: Component, topics: Sequence[str]) -> tuple[str, ...]:
    unknown = [t for t in topics if t not in component.topics]
    if unknown:
        raise ConfigurationError(
            f"{component.name} does not read {', '.join(unknown)}; it reads "
            f"{', '.join(component.topics)}"
        )
    return tuple(topics) or component.topics
