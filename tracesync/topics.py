"""The topic catalog: every topic the pipeline uses, and how to create or verify them on a broker.

The four source topics are co-partitioned (same partition count, key = batch code, murmur2), so
all events of one batch land in the same partition number of each and one worker sees them all.
Each spec also says what its values are (an Avro record of ``avro/``) and which components publish
and consume it: docs/asyncapi.yaml is generated from this catalog (`tracesync topics docs`).
:func:`plan` compares the catalog with what the broker has (pure, unit-tested); :func:`apply` reads
the broker, refuses a broken layout with :class:`~tracesync.errors.TopologyError` saying what to do,
and creates what is missing. Applying twice changes nothing.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from confluent_kafka import KafkaError, KafkaException, TopicCollection
from confluent_kafka.admin._config import ConfigResource
from confluent_kafka.admin._resource import ResourceType
from confluent_kafka.cimpl import NewTopic

from tracesync.errors import InfrastructureError, TopologyError
from tracesync.settings import Settings

DAY_MS = 24 * 60 * 60 * 1000
SOURCE_SYSTEMS = ("MES", "ERP", "WMS", "QMS")


class TopicRole(StrEnum):
    SOURCE = "source"
    CHAIN = "chain"
    ALERTS = "alerts"
    RECEIPTS = "receipts"
    DLQ = "dlq"
    INTERNAL = "internal"


class Component(StrEnum):
    """The processes that publish to or consume the topics (each a ``tracesync`` command)."""

    INGEST_API = "ingest-api"
    INGEST_DB = "ingest-db"
    INGEST_FILES = "ingest-files"
    SIMULATOR = "simulator"
    WORKER = "worker"
    STORE_SINK = "store-sink"
    TARGETS_SINK = "targets-sink"
    DLQ = "dlq"


PUBLIC_ROLES = frozenset({TopicRole.CHAIN, TopicRole.ALERTS, TopicRole.RECEIPTS})
"""Topics downstream services consume: their records are a released contract (docs/consumers.md)."""


@dataclass(frozen=True)
class TopicSpec:
    """One topic as the pipeline wants it.

    ``value``: the Avro record of the values (``None``: not an Avro contract, see ``doc``).
    """

    name: str
    partitions: int
    key: str
    role: TopicRole
    cleanup_policy: str = "delete"
    retention_ms: int | None = 7 * DAY_MS
    value: str | None = None
    doc: str = ""
    published_by: tuple[Component, ...] = ()
    consumed_by: tuple[Component, ...] = ()

    def config(self) -> dict[str, str]:
        """Topic-level configs set at creation."""
        config = {"cleanup.policy": self.cleanup_policy}
        if self.retention_ms is not None:
            config["retention.ms"] = str(self.retention_ms)
        return config


@dataclass(frozen=True)
class TopicCatalog:
    """All topics of the pipeline, named with the settings' prefix."""

    prefix: str
    topics: tuple[TopicSpec, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> TopicCatalog:
        return cls.build(settings.topic_prefix, settings.source_partitions)

    @classmethod
    def build(cls, prefix: str = "", source_partitions: int = 6) -> TopicCatalog:
        n = source_partitions
        c = Component
        sinks = (c.STORE_SINK, c.TARGETS_SINK)
        specs = [
            *(_source(f"{prefix}{s.lower()}.events", n, s) for s in SOURCE_SYSTEMS),
            TopicSpec(
                f"{prefix}trace.chain",
                n,
                "batch_code",
                TopicRole.CHAIN,
                "compact",
                None,
                "TraceChain",
                "The full trace chain of each batch or lot; compacted: the latest version per key.",
                (c.WORKER, c.DLQ),
                sinks,
            ),
            TopicSpec(
                f"{prefix}trace.alerts",
                n,
                "batch_code",
                TopicRole.ALERTS,
                "delete",
                30 * DAY_MS,
                "Alert",
                "Holds placed, inherited or released, discrepancies, out-of-limit parameters, "
                "failed inspections, complaints.",
                (c.WORKER, c.DLQ),
                sinks,
            ),
            # the stream worker's own repartition topics: co-partitioned with the sources
            _internal(f"{prefix}trace.derived", n, "batch_code", "Inherited holds for children."),
            _internal(f"{prefix}trace.genealogy", n, "lot code", "Lot links and hold changes."),
            TopicSpec(
                f"{prefix}ingest.receipts",
                1,
                "file name",
                TopicRole.RECEIPTS,
                value="FileReceipt",
                doc="What the file-drop adapter did with each dropped file.",
                published_by=(c.INGEST_FILES,),
            ),
            _dead_letters(
                f"{prefix}dlq.ingest", "ingest (refused source-database rows)", (c.INGEST_DB,)
            ),
            _dead_letters(f"{prefix}dlq.streams", "the stream worker", (c.WORKER,)),
            _dead_letters(f"{prefix}dlq.sinks", "the store and targets sinks", sinks),
        ]
        return cls(prefix, tuple(specs))

    def __iter__(self) -> Iterator[TopicSpec]:
        return iter(self.topics)

    def topic(self, base_name: str) -> TopicSpec:
        """A topic by its name without prefix, e.g. ``trace.chain``."""
        for spec in self.topics:
            if spec.name == f"{self.prefix}{base_name}":
                return spec
        raise KeyError(base_name)

    def by_role(self, role: TopicRole) -> list[TopicSpec]:
        return [spec for spec in self.topics if spec.role is role]

    def source_topic(self, source_system: str) -> str:
        """The source topic of a system (``MES`` -> ``mes.events``)."""
        if source_system not in SOURCE_SYSTEMS:
            raise KeyError(source_system)
        return f"{self.prefix}{source_system.lower()}.events"

    def dlq(self, stage: str) -> str:
        """The dead-letter topic of a stage: ``ingest``, ``streams`` or ``sinks``."""
        return self.topic(f"dlq.{stage}").name


def _source(name: str, partitions: int, system: str) -> TopicSpec:
    c = Component
    return TopicSpec(
        name,
        partitions,
        "batch_code",
        TopicRole.SOURCE,
        value="Envelope",
        doc=f"Change events of {system}, one per batch and source record.",
        published_by=(c.INGEST_API, c.INGEST_DB, c.INGEST_FILES, c.SIMULATOR, c.DLQ),
        consumed_by=(c.WORKER,),
    )


def _internal(name: str, partitions: int, key: str, doc: str) -> TopicSpec:
    return TopicSpec(
        name,
        partitions,
        key,
        TopicRole.INTERNAL,
        doc=f"{doc} The worker's own compact JSON (streams/state.py), not a contract.",
        published_by=(Component.WORKER,),
        consumed_by=(Component.WORKER,),
    )


def _dead_letters(name: str, stage: str, published_by: tuple[Component, ...]) -> TopicSpec:
    return TopicSpec(
        name,
        1,
        "original key",
        TopicRole.DLQ,
        "delete",
        30 * DAY_MS,
        doc=f"Records {stage} could not process: original key and value, dlq.* headers.",
        published_by=published_by,
        consumed_by=(Component.DLQ,),
    )


@dataclass(frozen=True)
class TopicState:
    """What the broker has for one topic."""

    partitions: int
    cleanup_policy: str


@dataclass(frozen=True)
class Plan:
    """What :func:`apply` would do: topics to create, and problems that forbid going on."""

    create: tuple[TopicSpec, ...]
    problems: tuple[str, ...]


def plan(catalog: TopicCatalog, existing: Mapping[str, TopicState]) -> Plan:
    """Compare the catalog with the broker's topics (pure)."""
    problems: list[str] = []
    sources = {
        s.name: existing[s.name].partitions
        for s in catalog.by_role(TopicRole.SOURCE)
        if s.name in existing
    }
    if len(set(sources.values())) > 1:
        counts = ", ".join(f"{name}={count}" for name, count in sorted(sources.items()))
        problems.append(
            f"source topics are not co-partitioned ({counts} partitions): the merge needs every "
            "batch's events in the same partition number of each source topic. Recreate the odd "
            "ones with the same count (drain, delete, `tracesync topics apply`), or set "
            "TRACESYNC_SOURCE_PARTITIONS to the count they share. Do not add partitions to a "
            "topic in use: keys would move to other partitions"
        )
    for spec in catalog:
        state = existing.get(spec.name)
        if state is None:
            continue
        if state.partitions != spec.partitions:
            problems.append(
                f"topic {spec.name} has {state.partitions} partitions, the catalog wants "
                f"{spec.partitions}: recreate it with {spec.partitions} (drain, delete, "
                "`tracesync topics apply`)"
                + (
                    " or set TRACESYNC_SOURCE_PARTITIONS to match"
                    if spec.role in (TopicRole.SOURCE, TopicRole.CHAIN, TopicRole.ALERTS)
                    else ""
                )
            )
        if state.cleanup_policy != spec.cleanup_policy:
            problems.append(
                f"topic {spec.name} has cleanup.policy={state.cleanup_policy}, the catalog wants "
                f"{spec.cleanup_policy}: run kafka-configs.sh --alter --entity-type topics "
                f"--entity-name {spec.name} --add-config cleanup.policy={spec.cleanup_policy}"
            )
    create = tuple(spec for spec in catalog if spec.name not in existing)
    return Plan(create, tuple(problems))


class Admin(Protocol):
    """The part of ``confluent_kafka.admin.AdminClient`` used here."""

    def list_topics(self, topic: str | None = None, timeout: float = -1) -> Any: ...

    def describe_topics(self, topics: Any, **kwargs: Any) -> dict[str, Any]: ...

    def describe_configs(self, resources: list[Any], **kwargs: Any) -> dict[Any, Any]: ...

    def create_topics(self, new_topics: list[Any], **kwargs: Any) -> dict[str, Any]: ...


@dataclass(frozen=True)
class ApplyResult:
    created: tuple[str, ...]
    verified: tuple[str, ...]


def apply(admin: Admin, catalog: TopicCatalog, timeout_s: float = 30.0) -> ApplyResult:
    """Create missing topics, verify existing ones; TopologyError when the layout is broken."""
    existing = read_state(admin, catalog, timeout_s)
    steps = plan(catalog, existing)
    if steps.problems:
        raise TopologyError("topics do not match the catalog:\n- " + "\n- ".join(steps.problems))
    created = _create(admin, steps.create, timeout_s)
    _wait_visible(admin, {spec.name for spec in steps.create}, timeout_s)
    if len(created) != len(steps.create):  # someone else created some meanwhile: check them
        again = plan(catalog, read_state(admin, catalog, timeout_s))
        if again.problems:
            raise TopologyError(
                "topics do not match the catalog:\n- " + "\n- ".join(again.problems)
            )
    verified = tuple(spec.name for spec in catalog if spec.name in existing)
    return ApplyResult(tuple(created), verified)


def read_state(
    admin: Admin, catalog: TopicCatalog, timeout_s: float = 30.0
) -> dict[str, TopicState]:
    """Partition count and cleanup.policy of each catalog topic that exists on the broker."""
    partitions = _partition_counts(admin, {spec.name for spec in catalog}, timeout_s)
    policies = _cleanup_policies(admin, sorted(partitions), timeout_s)
    return {name: TopicState(count, policies[name]) for name, count in partitions.items()}


def _wait_visible(admin: Admin, names: set[str], timeout_s: float) -> None:
    """Wait until the broker describes every created topic (its metadata lags the controller)."""
    deadline = time.monotonic() + timeout_s
    missing = set(names)
    while missing:
        try:
            missing -= set(_partition_counts(admin, missing, min(timeout_s, 5.0)))
        except InfrastructureError:
            if time.monotonic() > deadline:
                raise
        if missing and time.monotonic() > deadline:
            raise InfrastructureError(f"created topics not visible yet: {sorted(missing)}")
        if missing:
            time.sleep(0.1)


def _partition_counts(admin: Admin, wanted: set[str], timeout_s: float) -> dict[str, int]:
    """Partition count per existing wanted topic (DescribeTopics: never a stale metadata cache)."""
    # One request per topic: in one request, a single unknown topic fails the others too.
    futures = {
        name: admin.describe_topics(TopicCollection([name]), request_timeout=timeout_s)[name]
        for name in sorted(wanted)
    }
    counts: dict[str, int] = {}
    for name, future in futures.items():
        try:
            description = future.result(timeout=timeout_s)
        except TimeoutError as exc:
            raise InfrastructureError(
                f"the broker did not describe topic {name} within {timeout_s:.0f}s"
            ) from exc
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.UNKNOWN_TOPIC_OR_PART:
                continue
            raise InfrastructureError(f"cannot describe topic {name}: {exc}") from exc
        counts[name] = len(description.partitions)
    return counts


def _cleanup_policies(admin: Admin, names: list[str], timeout_s: float) -> dict[str, str]:
    if not names:
        return {}
    resources = [ConfigResource(ResourceType.TOPIC, name) for name in names]
    futures = admin.describe_configs(resources, request_timeout=timeout_s)
    policies: dict[str, str] = {}
    for resource, future in futures.items():
        try:
            entries = future.result(timeout=timeout_s)
        except KafkaException as exc:
            raise InfrastructureError(f"cannot read configs of {resource.name}: {exc}") from exc
        entry = entries.get("cleanup.policy")
        policies[resource.name] = str(entry.value) if entry is not None else "delete"
    return policies


def _create(admin: Admin, specs: tuple[TopicSpec, ...], timeout_s: float) -> list[str]:
    """Create the topics; returns the names created here (not those someone else created first)."""
    if not specs:
        return []
    new = [NewTopic(s.name, num_partitions=s.partitions, config=s.config()) for s in specs]
    futures = admin.create_topics(new, request_timeout=timeout_s, operation_timeout=timeout_s)
    created: list[str] = []
    for name, future in futures.items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:
            error = exc.args[0] if exc.args else None
            if isinstance(error, KafkaError) and error.code() == KafkaError.TOPIC_ALREADY_EXISTS:
                continue
            raise InfrastructureError(f"cannot create topic {name}: {exc}") from exc
        created.append(name)
    return created
