"""Nodes that form one Kafka cluster: one cluster id, one controller quorum, ordered shutdown."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from tracesync.devtools.infra.kafka.node import KafkaNode, NodeStatus
from tracesync.devtools.infra.kafka.runtime import KafkaRuntime
from tracesync.errors import ConfigurationError, InfrastructureError


class KafkaCluster:
    """Nodes that form one Kafka cluster: one cluster id, one controller quorum."""

    def __init__(self, nodes: Sequence[KafkaNode], cluster_id_file: Path) -> None:
        if not nodes:
            raise ConfigurationError("a Kafka cluster needs at least one node")
        self.nodes = list(nodes)
        self.cluster_id_file = cluster_id_file

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(node.bootstrap_servers for node in self.nodes)

    @property
    def runtime(self) -> KafkaRuntime:
        return self.nodes[0].runtime

    def node(self, node_id: int) -> KafkaNode:
        for candidate in self.nodes:
            if candidate.spec.node_id == node_id:
                return candidate
        raise ConfigurationError(f"no node {node_id} in this cluster")

    def cluster_id(self) -> str:
        """The id all nodes are formatted with; created (and remembered) on first use."""
        if self.cluster_id_file.exists():
            return self.cluster_id_file.read_text().strip()
        cluster_id = self.runtime.random_cluster_id()
        self.cluster_id_file.parent.mkdir(parents=True, exist_ok=True)
        self.cluster_id_file.write_text(cluster_id + "\n")
        return cluster_id

    def prepare(self) -> None:
        """Write every node's configuration and format its storage (once)."""
        cluster_id = self.cluster_id()
        for node in self.nodes:
            node.write_config()
        with ThreadPoolExecutor(max_workers=len(self.nodes)) as pool:
            list(pool.map(lambda node: node.format_storage(cluster_id), self.nodes))

    def up(self, timeout_s: float) -> None:
        """Prepare, start every node, wait until each answers with all brokers registered."""
        self.runtime.fetch()
        self.prepare()
        for node in self.nodes:
            node.start()
        deadline = time.monotonic() + timeout_s
        try:
            for node in self.nodes:
                remaining = max(deadline - time.monotonic(), 1.0)
                node.wait_ready(remaining, expected_brokers=len(self.nodes))
        except InfrastructureError:
            self.down()
            raise

    def down(self, timeout_s: float = 30.0, last_node_grace_s: float = 10.0) -> list[int]:
        """Stop the nodes one at a time (highest id first); returns the ids that were running.

        Each broker's controlled shutdown needs the controller quorum to approve it, so nodes stop
        one by one while a quorum remains. The last node of a multi-node quorum can never get that
        approval (it would hang for minutes), so after ``last_node_grace_s`` it gets SIGKILL; its
        written data is already in the page cache and the next start only recovers indexes.
        """
        running = [node for node in reversed(self.nodes) if node.is_running()]
        for position, node in enumerate(running, start=1):
            last_of_quorum = len(self.nodes) > 1 and position == len(running)
            node.stop(last_node_grace_s if last_of_quorum else timeout_s)
        return sorted(node.spec.node_id for node in running)

    def status(self) -> list[NodeStatus]:
        return [node.status() for node in self.nodes]

    def is_running(self) -> bool:
        return any(node.is_running() for node in self.nodes)


def stop_all(clusters: Iterable[KafkaCluster]) -> list[str]:
    """Stop every node of ``clusters``; returns a line per node that was running."""
    stopped: list[str] = []
    for cluster in clusters:
        stopped.extend(f"{cluster.bootstrap_servers}: node {n}" for n in cluster.down())
    return stopped
