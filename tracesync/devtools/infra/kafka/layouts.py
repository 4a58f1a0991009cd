"""The layouts the CLI and the tests use: one node, or three nodes in a static quorum.

Every path and port comes from the settings (or a parameter), so tests can run their own
instances next to the default ones.
"""

from __future__ import annotations

from pathlib import Path

from tracesync.devtools.infra.kafka.cluster import KafkaCluster
from tracesync.devtools.infra.kafka.node import KafkaNode
from tracesync.devtools.infra.kafka.properties import NodeSpec, Voter
from tracesync.devtools.infra.kafka.runtime import KafkaRuntime
from tracesync.devtools.infra.kafka.security import SecurityFiles, ensure_material
from tracesync.settings import Settings


def runtime_for(settings: Settings, cache_root: Path | None = None) -> KafkaRuntime:
    """The runtime of ``settings.kafka.version``, cached under ``<home>/cache`` by default."""
    root = (cache_root or settings.home / "cache").resolve()
    return KafkaRuntime(settings.kafka.version, root / f"kafka-{settings.kafka.version}")


def single_node(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    runtime: KafkaRuntime | None = None,
    secure: bool = False,
) -> KafkaCluster:
    """The default single node (replication factor 1) on the settings' broker/controller ports.

    ``secure``: SASL_SSL listeners, SCRAM users and ACLs enforced, in a data folder of its own
    (``<home>/kafka/single-sasl``; its certificates and passwords in ``security/`` inside it).
    """
    kafka = settings.kafka
    default = "single-sasl" if secure else "single"
    root = (data_dir or settings.home / "kafka" / default).resolve()
    security = ensure_material(security_files(root), kafka.host) if secure else None
    spec = NodeSpec(
        node_id=1,
        host=kafka.host,
        broker_port=kafka.broker_port,
        controller_port=kafka.controller_port,
        data_dir=root,
        heap=kafka.heap,
        security=security,
    )
    node = KafkaNode(spec, runtime or runtime_for(settings))
    return KafkaCluster([node], cluster_id_file=root / "cluster.id")


def security_files(node_root: Path) -> SecurityFiles:
    """The CA, certificates and passwords of a secure node whose data folder is ``node_root``."""
    return SecurityFiles(node_root / "security")


def cluster_ports(base_port: int, index: int) -> tuple[int, int]:
    """(broker, controller) port of the ``index``-th cluster node: two consecutive ports each."""
    return base_port + 2 * index, base_port + 2 * index + 1


def three_node_cluster(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    runtime: KafkaRuntime | None = None,
    nodes: int = 3,
) -> KafkaCluster:
    """Three combined nodes on loopback, RF 3 and min.insync.replicas 2, static quorum."""
    kafka = settings.kafka
    root = (data_dir or settings.home / "kafka" / "cluster").resolve()
    ports = [cluster_ports(kafka.cluster_base_port, i) for i in range(nodes)]
    voters = tuple(Voter(i + 1, kafka.host, ctl) for i, (_, ctl) in enumerate(ports))
    the_runtime = runtime or runtime_for(settings)
    members = [
        KafkaNode(
            NodeSpec(
                node_id=i + 1,
                host=kafka.host,
                broker_port=broker,
                controller_port=controller,
                data_dir=root / f"node-{i + 1}",
                heap=kafka.heap,
                voters=voters,
                replication_factor=min(3, nodes),
                min_insync_replicas=min(2, nodes),
            ),
            the_runtime,
        )
        for i, (broker, controller) in enumerate(ports)
    ]
    return KafkaCluster(members, cluster_id_file=root / "cluster.id")
