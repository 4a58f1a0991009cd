"""Per-component principals and the ACLs that give each one only what it needs.

The plan is derived from the topic catalog (who publishes and who consumes each topic), so a new
topic gets its ACLs without anyone writing them. Every principal may describe every catalog topic
(the components check the topic layout at start); beyond that:

* ``ingest`` writes the source topics, ``ingest.receipts`` and ``dlq.ingest``; it reads nothing;
* ``worker`` reads the source and internal topics, writes the chain, alerts, internal topics and
  ``dlq.streams``, owns its changelog topics (created by the engine), its consumer group and its
  transactional ids (exactly-once), all named after ``worker.app_id``;
* ``store-sink`` and ``targets-sink`` read the chain and alerts topics in their own groups and
  write ``dlq.sinks``;
* ``serve`` reads the chain and alerts topics in groups named ``tracesync-serve*``;
* ``admin`` is the super user (topics, ACLs, dead-letter re-drive); it needs no ACL.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

from confluent_kafka import KafkaException
from confluent_kafka.admin import (
    AclBinding,
    AclBindingFilter,
    AclOperation,
    AclPermissionType,
    AdminClient,
    ResourcePatternType,
    ResourceType,
)

from tracesync.errors import InfrastructureError
from tracesync.settings import Settings
from tracesync.topics import Component, TopicCatalog, TopicRole

TARGETS_GROUP = "tracesync-targets"
SERVE_GROUP = "tracesync-serve"

PRINCIPAL_OF: dict[Component, str] = {
    Component.INGEST_API: "ingest",
    Component.INGEST_DB: "ingest",
    Component.INGEST_FILES: "ingest",
    Component.SIMULATOR: "ingest",
    Component.WORKER: "worker",
    Component.STORE_SINK: "store-sink",
    Component.TARGETS_SINK: "targets-sink",
}
"""The principal each component runs as; ``Component.DLQ`` (re-drive) runs as ``admin``."""

Op = AclOperation


@dataclass(frozen=True)
class Grant:
    """One allowed operation of a principal on a resource (a literal name or a name prefix)."""

    principal: str
    resource: ResourceType
    name: str
    operation: AclOperation
    prefixed: bool = False

    def binding(self) -> AclBinding:
        pattern = ResourcePatternType.PREFIXED if self.prefixed else ResourcePatternType.LITERAL
        return AclBinding(
            self.resource,
            self.name,
            pattern,
            f"User:{self.principal}",
            "*",
            self.operation,
            AclPermissionType.ALLOW,
        )


def plan(settings: Settings, catalog: TopicCatalog) -> list[Grant]:
    """Every grant of every principal (pure)."""
    topic = ResourceType.TOPIC
    grants: list[Grant] = []
    principals = sorted({*PRINCIPAL_OF.values(), "serve"})
    for spec in catalog:
        for principal in principals:
            grants += [Grant(principal, topic, spec.name, op) for op in _DESCRIBE]
        for principal in sorted({PRINCIPAL_OF[c] for c in spec.published_by if c in PRINCIPAL_OF}):
            grants.append(Grant(principal, topic, spec.name, Op.WRITE))
        for principal in sorted({PRINCIPAL_OF[c] for c in spec.consumed_by if c in PRINCIPAL_OF}):
            grants.append(Grant(principal, topic, spec.name, Op.READ))
        if spec.role in (TopicRole.CHAIN, TopicRole.ALERTS):
            grants.append(Grant("serve", topic, spec.name, Op.READ))
    grants += _groups(settings)
    grants += _worker_owned(settings.worker.app_id)
    return grants


_DESCRIBE = (Op.DESCRIBE, Op.DESCRIBE_CONFIGS)


def _groups(settings: Settings) -> list[Grant]:
    group = ResourceType.GROUP
    named = (
        ("worker", settings.worker.app_id),
        ("store-sink", settings.store.sink_group),
        ("targets-sink", TARGETS_GROUP),
        ("serve", SERVE_GROUP),
    )
    return [
        Grant(principal, group, name, op, prefixed=True)
        for principal, name in named
        for op in (Op.READ, Op.DESCRIBE)
    ]


def _worker_owned(app_id: str) -> list[Grant]:
    """The engines' own topics (Quix ``changelog__<app_id>--…``, faust ``<app_id>-…``) and the
    transactional ids of exactly-once (Quix: ``<app_id>-<uuid>``)."""
    topic = ResourceType.TOPIC
    return [
        Grant("worker", topic, f"changelog__{app_id}--", Op.ALL, prefixed=True),
        Grant("worker", topic, f"{app_id}-", Op.ALL, prefixed=True),
        Grant("worker", ResourceType.TRANSACTIONAL_ID, app_id, Op.WRITE, prefixed=True),
        Grant("worker", ResourceType.TRANSACTIONAL_ID, app_id, Op.DESCRIBE, prefixed=True),
    ]


def apply(admin: AdminClient, grants: Iterable[Grant], timeout_s: float = 30.0) -> int:
    """Create the ACLs (creating an existing one is a no-op); returns how many were sent.

    Returns once the broker enforces them: the controller commits the ACLs first, the broker's
    authorizer learns them from the metadata log a moment later.
    """
    bindings = [grant.binding() for grant in grants]
    if not bindings:
        return 0
    failures = []
    for binding, future in admin.create_acls(bindings, request_timeout=timeout_s).items():
        try:
            future.result(timeout=timeout_s)
        except KafkaException as exc:  # collected and raised as one error below
            failures.append(f"{binding}: {exc}")
    if failures:
        raise InfrastructureError("could not create ACLs:\n- " + "\n- ".join(failures[:10]))
    _wait_enforced(admin, {str(b) for b in bindings}, timeout_s)
    return len(bindings)


def _wait_enforced(admin: AdminClient, wanted: set[str], timeout_s: float) -> None:
    everything = AclBindingFilter(
        ResourceType.ANY,
        None,
        ResourcePatternType.ANY,
        None,
        None,
        AclOperation.ANY,
        AclPermissionType.ANY,
    )
    deadline = time.monotonic() + timeout_s
    while True:
        known = {str(b) for b in admin.describe_acls(everything).result(timeout=timeout_s)}
        missing = wanted - known
        if not missing:
            return
        if time.monotonic() > deadline:
            raise InfrastructureError(f"{len(missing)} ACLs not enforced after {timeout_s}s")
        time.sleep(0.2)
