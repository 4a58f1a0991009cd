"""Local Apache Kafka (KRaft) from Maven Central jars: fetch, configure, start, stop, inspect.

* :class:`KafkaRuntime` — the jars of one Kafka version (``mvn dependency:copy-dependencies`` with
  ``deploy/kafka/pom.xml`` into ``<home>/cache/kafka-<version>/libs``) and how to run a Java class.
* :class:`NodeSpec` / :func:`server_properties` — one combined broker+controller node and its
  ``server.properties`` (pure; unit-tested).
* :class:`KafkaNode` — formats storage, starts ``kafka.Kafka`` detached (own session, pid file,
  console log), waits until it answers a metadata request, stops it (SIGTERM, then SIGKILL).
* :class:`KafkaCluster` — several nodes sharing one cluster id and one static controller quorum.
* :func:`single_node` / :func:`three_node_cluster` — the layouts the CLI and the tests use.
* :func:`run_producer_perf` / :func:`run_consumer_perf` — Kafka's perf tools against a bootstrap.

Every path and port is a parameter so tests can run their own instances next to the default ones.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import signal
import subprocess
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from tracesync.errors import ConfigurationError, InfrastructureError
from tracesync.settings import Settings

REPO_ROOT = Path(__file__).resolve().parents[3]
DEPLOY_DIR = REPO_ROOT / "deploy" / "kafka"
"""The pom and log4j2 configs of the local Kafka runtime."""

TOOLS_HEAP = "256m"
_LOG_TAIL_LINES = 40
_PROBE_TIMEOUT_S = 2.0
_FETCH_MARKER = ".fetched"


def _tail(path: Path, lines: int = _LOG_TAIL_LINES) -> str:
    if not path.exists():
        return f"<{path} does not exist>"
    content = path.read_text(encoding="utf-8", errors="replace").splitlines()
    return "\n".join(content[-lines:])


# --------------------------------------------------------------------------- runtime (jars)


@dataclass(frozen=True)
class KafkaRuntime:
    """The jars of one Kafka version in a cache folder, fetched with Maven from Maven Central."""

    version: str
    cache_dir: Path
    deploy_dir: Path = DEPLOY_DIR

    @property
    def libs_dir(self) -> Path:
        return self.cache_dir / "libs"

    @property
    def pom(self) -> Path:
        return self.deploy_dir / "pom.xml"

    @property
    def broker_log_config(self) -> Path:
        return self.deploy_dir / "log4j2.properties"

    @property
    def tools_log_config(self) -> Path:
        return self.deploy_dir / "tools-log4j2.properties"

    def _fingerprint(self) -> str:
        """Changes when the pom or the version changes, so a stale cache gets refetched."""
        digest = hashlib.sha256(self.pom.read_bytes())
        digest.update(self.version.encode())
        return digest.hexdigest()

    def is_fetched(self) -> bool:
        marker = self.libs_dir / _FETCH_MARKER
        return marker.exists() and marker.read_text().strip() == self._fingerprint()

    def fetch(self) -> bool:
        """Copy the runtime jars into :attr:`libs_dir`; False when they were already there."""
        if not self.pom.exists():
            raise ConfigurationError(f"Kafka pom not found: {self.pom}")
        if self.is_fetched():
            return False
        self.libs_dir.mkdir(parents=True, exist_ok=True)
        for old_jar in self.libs_dir.glob("*.jar"):
            old_jar.unlink()
        command = [
            "mvn",
            "-q",
            "-B",
            "-f",
            str(self.pom),
            f"-Dkafka.version={self.version}",
            "dependency:copy-dependencies",
            f"-DoutputDirectory={self.libs_dir.resolve()}",
        ]
        try:
            result = subprocess.run(command, capture_output=True, text=True, check=False)
        except FileNotFoundError as exc:
            raise InfrastructureError("mvn (Apache Maven) is not installed") from exc
        if result.returncode != 0:
            output = (result.stdout + result.stderr)[-4000:]
            raise InfrastructureError(f"fetching Kafka {self.version} jars failed:\n{output}")
        (self.libs_dir / _FETCH_MARKER).write_text(self._fingerprint() + "\n")
        return True

    def classpath(self) -> str:
        if not self.is_fetched():
            raise ConfigurationError(
                f"Kafka {self.version} jars are missing in {self.libs_dir}; "
                "run `tracesync kafka fetch`"
            )
        return str(self.libs_dir.resolve() / "*")

    def java_command(
        self,
        main_class: str,
        args: Sequence[str],
        *,
        heap: str = TOOLS_HEAP,
        log_config: Path | None = None,
        jvm_options: Sequence[str] = (),
    ) -> list[str]:
        """``java`` with this runtime's classpath, a bounded heap and a log4j2 config."""
        config = log_config or self.tools_log_config
        return [
            "java",
            f"-Xmx{heap}",
            "-XX:+UseG1GC",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={config.resolve()}",
            *jvm_options,
            "-cp",
            self.classpath(),
            main_class,
            *args,
        ]

    def run_tool(self, main_class: str, args: Sequence[str], timeout_s: float = 300.0) -> str:
        """Run a Kafka command-line class to completion; returns stdout, raises on failure."""
        command = self.java_command(main_class, args)
        try:
            result = subprocess.run(
                command, capture_output=True, text=True, timeout=timeout_s, check=False
            )
        except subprocess.TimeoutExpired as exc:
            raise InfrastructureError(f"{main_class} did not finish in {timeout_s}s") from exc
        if result.returncode != 0:
            raise InfrastructureError(
                f"{main_class} {' '.join(args)} exited with {result.returncode}:\n"
                f"{(result.stdout + result.stderr)[-4000:]}"
            )
        return result.stdout

    def random_cluster_id(self) -> str:
        return self.run_tool("kafka.tools.StorageTool", ["random-uuid"]).strip()


# --------------------------------------------------------------------------- configuration


@dataclass(frozen=True)
class Voter:
    """A controller in a static KRaft quorum."""

    node_id: int
    host: str
    port: int

    def render(self) -> str:
        return f"{self.node_id}@{self.host}:{self.port}"


@dataclass(frozen=True)
class NodeSpec:
    """One combined broker+controller node: its id, ports, data folder and replication defaults.

    With no ``voters`` the node is a single-node cluster with a dynamic quorum formatted with
    ``--standalone``; with voters it is a member of a static quorum (``controller.quorum.voters``).
    """

    node_id: int
    host: str
    broker_port: int
    controller_port: int
    data_dir: Path
    heap: str = "768m"
    voters: tuple[Voter, ...] = ()
    replication_factor: int = 1
    min_insync_replicas: int = 1
    extra_properties: Mapping[str, str] = field(default_factory=dict)

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.broker_port}"

    @property
    def log_dirs(self) -> Path:
        return self.data_dir / "kafka-logs"

    @property
    def logs_dir(self) -> Path:
        return self.data_dir / "logs"

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "kafka.pid"

    @property
    def console_log(self) -> Path:
        return self.logs_dir / "console.log"

    @property
    def server_log(self) -> Path:
        return self.logs_dir / "server.log"


def server_properties(spec: NodeSpec) -> dict[str, str]:
    """The ``server.properties`` of a KRaft combined node (broker + controller) on loopback."""
    host = spec.host
    props = {
        "process.roles": "broker,controller",
        "node.id": str(spec.node_id),
        "listeners": (
            f"PLAINTEXT://{host}:{spec.broker_port},CONTROLLER://{host}:{spec.controller_port}"
        ),
        "advertised.listeners": (
            f"PLAINTEXT://{host}:{spec.broker_port},CONTROLLER://{host}:{spec.controller_port}"
        ),
        "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
        "inter.broker.listener.name": "PLAINTEXT",
        "controller.listener.names": "CONTROLLER",
        "log.dirs": str(spec.log_dirs),
        "offsets.topic.replication.factor": str(spec.replication_factor),
        "transaction.state.log.replication.factor": str(spec.replication_factor),
        "transaction.state.log.min.isr": str(spec.min_insync_replicas),
        "share.coordinator.state.topic.replication.factor": str(spec.replication_factor),
        "share.coordinator.state.topic.min.isr": str(spec.min_insync_replicas),
        "default.replication.factor": str(spec.replication_factor),
        "min.insync.replicas": str(spec.min_insync_replicas),
        "group.initial.rebalance.delay.ms": "0",
        "auto.create.topics.enable": "true",
        "num.partitions": "1",
    }
    if spec.voters:
        props["controller.quorum.voters"] = ",".join(v.render() for v in spec.voters)
    else:
        props["controller.quorum.bootstrap.servers"] = f"{host}:{spec.controller_port}"
    props.update(spec.extra_properties)
    return props


def render_properties(props: Mapping[str, str]) -> str:
    """Java properties text, one ``key=value`` a line, in a stable order."""
    lines = ["# Written by tracesync.devtools.infra.kafka; regenerated on every start."]
    lines.extend(f"{key}={value}" for key, value in sorted(props.items()))
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- processes


def _cmdline(pid: int) -> str:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode(errors="replace")


def pids_running(marker: str) -> list[int]:
    """Pids of live processes whose command line contains ``marker`` (like ``pgrep -f``)."""
    candidates = (int(entry.name) for entry in Path("/proc").iterdir() if entry.name.isdigit())
    return sorted(pid for pid in candidates if pid != os.getpid() and marker in _cmdline(pid))


def _probe_client(bootstrap_servers: str) -> AdminClient:
    return AdminClient(
        {
            "bootstrap.servers": bootstrap_servers,
            "log_level": 0,  # the probe expects refused connections while the broker starts
            "socket.connection.setup.timeout.ms": 1000,
        }
    )


def fetch_metadata(bootstrap_servers: str, timeout_s: float = _PROBE_TIMEOUT_S) -> Any:
    """Cluster metadata (``confluent_kafka.admin.ClusterMetadata``); raises KafkaException."""
    return _probe_client(bootstrap_servers).list_topics(timeout=timeout_s)


@dataclass(frozen=True)
class NodeStatus:
    """What ``tracesync kafka status`` shows for one node."""

    node_id: int
    running: bool
    pid: int | None
    broker_port: int
    controller_port: int
    data_dir: Path
    topics: int | None

    def describe(self) -> str:
        state = f"running (pid {self.pid})" if self.running else "stopped"
        topics = "?" if self.topics is None else str(self.topics)
        return (
            f"node {self.node_id}: {state}; broker {self.broker_port}, "
            f"controller {self.controller_port}; topics {topics}; data {self.data_dir}"
        )


class KafkaNode:
    """One local Kafka process: configuration, storage, lifecycle."""

    def __init__(self, spec: NodeSpec, runtime: KafkaRuntime) -> None:
        self.spec = spec
        self.runtime = runtime
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap_servers(self) -> str:
        return self.spec.bootstrap_servers

    def write_config(self) -> Path:
        self.spec.data_dir.mkdir(parents=True, exist_ok=True)
        self.spec.logs_dir.mkdir(parents=True, exist_ok=True)
        self.spec.properties_path.write_text(render_properties(server_properties(self.spec)))
        return self.spec.properties_path

    def is_formatted(self) -> bool:
        return (self.spec.log_dirs / "meta.properties").exists()

    def formatted_cluster_id(self) -> str | None:
        """The cluster id in the formatted log dir (``meta.properties``), if any."""
        meta = self.spec.log_dirs / "meta.properties"
        if not meta.exists():
            return None
        for line in meta.read_text().splitlines():
            key, _, value = line.partition("=")
            if key.strip() == "cluster.id":
                return value.strip()
        return None

    def format_storage(self, cluster_id: str) -> bool:
        """Format the log dir for ``cluster_id``; returns False when it already was formatted."""
        if self.is_formatted():
            return False
        args = ["format", "-t", cluster_id, "-c", str(self.spec.properties_path)]
        if not self.spec.voters:
            args.append("--standalone")
        self.runtime.run_tool("kafka.tools.StorageTool", args)
        return True

    def pids(self) -> list[int]:
        """Live java processes of this node, found by its server.properties path.

        A child we just forked still shows Python's command line until it execs java, so our
        own live child counts too.
        """
        found = set(pids_running(str(self.spec.properties_path.resolve())))
        self._reap()
        if self._process is not None:
            found.add(self._process.pid)
        return sorted(found)

    def pid(self) -> int | None:
        pids = self.pids()
        return pids[0] if pids else None

    def is_running(self) -> bool:
        return self.pid() is not None

    def _reap(self) -> None:
        """Collect our own exited child so it does not linger as a zombie."""
        if self._process is not None and self._process.poll() is not None:
            self._process = None

    def start(self) -> int:
        """Start the node detached (own session); returns its pid. Does not wait for readiness."""
        running = self.pid()
        if running is not None:
            return running
        self.write_config()
        command = self.runtime.java_command(
            "kafka.Kafka",
            [str(self.spec.properties_path.resolve())],
            heap=self.spec.heap,
            log_config=self.runtime.broker_log_config,
            jvm_options=[f"-Dkafka.logs.dir={self.spec.logs_dir.resolve()}"],
        )
        with self.spec.console_log.open("ab") as console:
            self._process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                cwd=self.spec.data_dir,
            )
        self.spec.pid_file.write_text(f"{self._process.pid}\n")
        return self._process.pid

    def log_tail(self) -> str:
        return (
            f"--- {self.spec.console_log} ---\n{_tail(self.spec.console_log)}\n"
            f"--- {self.spec.server_log} ---\n{_tail(self.spec.server_log)}"
        )

    def failure(self, reason: str) -> InfrastructureError:
        where = f"Kafka node {self.spec.node_id} ({self.bootstrap_servers})"
        return InfrastructureError(f"{where}: {reason}\n{self.log_tail()}")

    def wait_ready(self, timeout_s: float, expected_brokers: int = 1) -> Any:
        """Wait until the node answers metadata listing ``expected_brokers`` brokers.

        The answer must carry this node's cluster id: a different broker already listening on the
        port must not pass for this one.
        """
        deadline = time.monotonic() + timeout_s
        expected_cluster = self.formatted_cluster_id()
        last_error = "no answer yet"
        while time.monotonic() < deadline:
            if not self.is_running():
                raise self.failure("the process exited during start-up")
            try:
                metadata = fetch_metadata(self.bootstrap_servers)
            except KafkaException as exc:
                last_error = str(exc)
            else:
                if expected_cluster is not None and metadata.cluster_id != expected_cluster:
                    last_error = f"the port answers for another cluster ({metadata.cluster_id})"
                elif len(metadata.brokers) >= expected_brokers:
                    return metadata
                else:
                    last_error = f"{len(metadata.brokers)}/{expected_brokers} brokers registered"
            time.sleep(0.5)
        raise self.failure(f"not ready after {timeout_s}s ({last_error})")

    def signal(self, signum: signal.Signals) -> list[int]:
        """Send ``signum`` to the node's processes; returns the pids signalled."""
        pids = self.pids()
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signum) if os.getpgid(pid) == pid else os.kill(pid, signum)
        return pids

    def wait_stopped(self, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if not self.is_running():
                return True
            time.sleep(0.2)
        return not self.is_running()

    def stop(self, timeout_s: float = 30.0) -> bool:
        """SIGTERM, wait up to ``timeout_s``, then SIGKILL; returns False if it was not running."""
        if not self.signal(signal.SIGTERM):
            self.spec.pid_file.unlink(missing_ok=True)
            return False
        if not self.wait_stopped(timeout_s):
            self.signal(signal.SIGKILL)
            if not self.wait_stopped(10.0):
                raise self.failure(f"still running after SIGKILL: pids {self.pids()}")
        self.spec.pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> NodeStatus:
        pid = self.pid()
        topics: int | None = None
        if pid is not None:
            try:
                metadata = fetch_metadata(self.bootstrap_servers)
                topics = len([t for t in metadata.topics if not t.startswith("__")])
            except KafkaException:
                topics = None
        return NodeStatus(
            node_id=self.spec.node_id,
            running=pid is not None,
            pid=pid,
            broker_port=self.spec.broker_port,
            controller_port=self.spec.controller_port,
            data_dir=self.spec.data_dir,
            topics=topics,
        )


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


# --------------------------------------------------------------------------- layouts


def runtime_for(settings: Settings, cache_root: Path | None = None) -> KafkaRuntime:
    """The runtime of ``settings.kafka.version``, cached under ``<home>/cache`` by default."""
    root = (cache_root or settings.home / "cache").resolve()
    return KafkaRuntime(settings.kafka.version, root / f"kafka-{settings.kafka.version}")


def single_node(
    settings: Settings,
    *,
    data_dir: Path | None = None,
    runtime: KafkaRuntime | None = None,
) -> KafkaCluster:
    """The default single node (replication factor 1) on the settings' broker/controller ports."""
    kafka = settings.kafka
    root = (data_dir or settings.home / "kafka" / "single").resolve()
    spec = NodeSpec(
        node_id=1,
        host=kafka.host,
        broker_port=kafka.broker_port,
        controller_port=kafka.controller_port,
        data_dir=root,
        heap=kafka.heap,
    )
    node = KafkaNode(spec, runtime or runtime_for(settings))
    return KafkaCluster([node], cluster_id_file=root / "cluster.id")


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


# --------------------------------------------------------------------------- topics and perf


def ensure_topic(
    bootstrap_servers: str, topic: str, partitions: int, replication_factor: int
) -> None:
    """Create ``topic`` unless it exists; raises InfrastructureError on any other failure."""
    admin = AdminClient({"bootstrap.servers": bootstrap_servers})
    future = admin.create_topics([NewTopic(topic, partitions, replication_factor)])[topic]
    try:
        future.result(timeout=30)
    except KafkaException as exc:
        if exc.args and getattr(exc.args[0], "name", lambda: "")() == "TOPIC_ALREADY_EXISTS":
            return
        raise InfrastructureError(f"could not create topic {topic}: {exc}") from exc


@dataclass(frozen=True)
class PerfRun:
    """The output of one perf-tool run; ``summary`` is its last non-empty line."""

    tool: str
    command: tuple[str, ...]
    output: str

    @property
    def summary(self) -> str:
        lines = [line for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else ""


def run_producer_perf(
    runtime: KafkaRuntime,
    bootstrap_servers: str,
    topic: str,
    *,
    records: int,
    record_size: int,
    producer_props: Mapping[str, str] | None = None,
) -> PerfRun:
    """``org.apache.kafka.tools.ProducerPerformance`` at full speed (acks=all by default)."""
    props = {"bootstrap.servers": bootstrap_servers, "acks": "all", **(producer_props or {})}
    args = [
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        *(f"{k}={v}" for k, v in props.items()),
    ]
    tool = "org.apache.kafka.tools.ProducerPerformance"
    return PerfRun(tool, (tool, *args), runtime.run_tool(tool, args))


def run_consumer_perf(
    runtime: KafkaRuntime,
    bootstrap_servers: str,
    topic: str,
    *,
    records: int,
    group: str | None = None,
) -> PerfRun:
    """``org.apache.kafka.tools.ConsumerPerformance`` reading ``records`` records of ``topic``."""
    args = [
        "--bootstrap-server",
        bootstrap_servers,
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--group",
        group or f"perf-{uuid.uuid4().hex[:8]}",
        "--timeout",
        "60000",
    ]
    tool = "org.apache.kafka.tools.ConsumerPerformance"
    return PerfRun(tool, (tool, *args), runtime.run_tool(tool, args))


def parse_producer_summary(summary: str) -> dict[str, float]:
    """Numbers of ProducerPerformance's final line, e.g. ``{"records_per_sec": 51234.5, ...}``."""
    patterns = {
        "records": r"^(\d+) records sent",
        "records_per_sec": r"([\d.]+) records/sec",
        "mb_per_sec": r"\(([\d.]+) MB/sec\)",
        "avg_latency_ms": r"([\d.]+) ms avg latency",
        "max_latency_ms": r"([\d.]+) ms max latency",
        "p99_ms": r"([\d.]+) ms 99th",
    }
    found = {}
    for name, pattern in patterns.items():
        match = re.search(pattern, summary)
        if match:
            found[name] = float(match.group(1))
    return found


def stop_all(clusters: Iterable[KafkaCluster]) -> list[str]:
    """Stop every node of ``clusters``; returns a line per node that was running."""
    stopped: list[str] = []
    for cluster in clusters:
        stopped.extend(f"{cluster.bootstrap_servers}: node {n}" for n in cluster.down())
    return stopped
