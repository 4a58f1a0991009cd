"""Local Apache Kafka (KRaft) from Maven Central jars: fetch, configure, start, stop, inspect.

* :mod:`.runtime` — :class:`KafkaRuntime`, the jars of one Kafka version and how to run a class;
* :mod:`.properties` — :class:`NodeSpec` / :func:`server_properties`, one combined
  broker+controller node and its ``server.properties`` (pure; unit-tested);
* :mod:`.processes` — finding a node's processes, a zombie counting as stopped;
* :mod:`.node` — :class:`KafkaNode`, one process: storage, start, readiness, stop, status;
* :mod:`.cluster` — :class:`KafkaCluster`, nodes sharing one cluster id and controller quorum;
* :mod:`.layouts` — :func:`single_node` / :func:`three_node_cluster`, what the CLI and tests use;
* :mod:`.security` — the secure node's CA, certificate and SCRAM users;
  :mod:`.acls` — the per-component principals' ACLs;
* :mod:`.perf` — Kafka's perf tools; :mod:`.topics` — :func:`ensure_topic`.

The names below are the package's public surface, so callers write ``infra.single_node(...)``.
"""

from tracesync.devtools.infra.kafka.acls import Grant
from tracesync.devtools.infra.kafka.acls import apply as apply_acls
from tracesync.devtools.infra.kafka.acls import plan as acl_plan
from tracesync.devtools.infra.kafka.cluster import KafkaCluster, stop_all
from tracesync.devtools.infra.kafka.layouts import (
    cluster_ports,
    runtime_for,
    security_files,
    single_node,
    three_node_cluster,
)
from tracesync.devtools.infra.kafka.node import KafkaNode, NodeStatus, fetch_metadata
from tracesync.devtools.infra.kafka.perf import (
    PerfRun,
    parse_producer_summary,
    run_consumer_perf,
    run_producer_perf,
)
from tracesync.devtools.infra.kafka.processes import is_alive, pids_running, process_state
from tracesync.devtools.infra.kafka.properties import (
    NodeSpec,
    Voter,
    render_properties,
    server_properties,
)
from tracesync.devtools.infra.kafka.runtime import DEPLOY_DIR, REPO_ROOT, TOOLS_HEAP, KafkaRuntime
from tracesync.devtools.infra.kafka.security import (
    PRINCIPALS,
    BrokerSecurity,
    SecurityFiles,
    ensure_material,
)
from tracesync.devtools.infra.kafka.topics import ensure_topic

__all__ = [
    "DEPLOY_DIR",
    "PRINCIPALS",
    "REPO_ROOT",
    "TOOLS_HEAP",
    "BrokerSecurity",
    "Grant",
    "KafkaCluster",
    "KafkaNode",
    "KafkaRuntime",
    "NodeSpec",
    "NodeStatus",
    "PerfRun",
    "SecurityFiles",
    "Voter",
    "acl_plan",
    "apply_acls",
    "cluster_ports",
    "ensure_material",
    "ensure_topic",
    "fetch_metadata",
    "is_alive",
    "parse_producer_summary",
    "pids_running",
    "process_state",
    "render_properties",
    "run_consumer_perf",
    "run_producer_perf",
    "runtime_for",
    "security_files",
    "server_properties",
    "single_node",
    "stop_all",
    "three_node_cluster",
]
