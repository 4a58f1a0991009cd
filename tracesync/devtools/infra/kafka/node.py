"""One local Kafka process: configuration, storage, start (detached), readiness, stop, status.

A node starts ``kafka.Kafka`` in its own session with a pid file and a console log, waits until
it answers a metadata request for its own cluster id, and stops with SIGTERM, then SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confluent_kafka import KafkaException
from confluent_kafka.admin import AdminClient
from pydantic import SecretStr

from tracesync.devtools.infra.kafka.processes import log_tail, pids_running
from tracesync.devtools.infra.kafka.properties import NodeSpec, render_properties, server_properties
from tracesync.devtools.infra.kafka.runtime import KafkaRuntime
from tracesync.devtools.infra.kafka.security import scram_format_args
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import admin_config
from tracesync.settings import KafkaSettings

_PROBE_TIMEOUT_S = 2.0


def client_settings(target: str | KafkaSettings) -> KafkaSettings:
    """A bare bootstrap address is a PLAINTEXT broker; settings carry their own login."""
    return KafkaSettings(bootstrap_servers=target) if isinstance(target, str) else target


def _probe_client(target: str | KafkaSettings) -> AdminClient:
    return AdminClient(
        admin_config(
            client_settings(target),
            log_level=0,  # the probe expects refused connections while the broker starts
            **{"socket.connection.setup.timeout.ms": 1000},
        )
    )


def fetch_metadata(target: str | KafkaSettings, timeout_s: float = _PROBE_TIMEOUT_S) -> Any:
    """Cluster metadata (``confluent_kafka.admin.ClusterMetadata``); raises KafkaException."""
    return _probe_client(target).list_topics(timeout=timeout_s)


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

    @property
    def admin_settings(self) -> KafkaSettings:
        """How tooling reaches this node: PLAINTEXT, or SASL_SSL as the admin principal."""
        security = self.spec.security
        if security is None:
            return KafkaSettings(bootstrap_servers=self.bootstrap_servers)
        return KafkaSettings(
            bootstrap_servers=self.bootstrap_servers,
            security_protocol="SASL_SSL",
            sasl_username="admin",
            sasl_password=SecretStr(security.admin_password),
            ssl_ca_location=security.truststore,
        )

    def write_config(self) -> Path:
        self.spec.data_dir.mkdir(parents=True, exist_ok=True)
        self.spec.logs_dir.mkdir(parents=True, exist_ok=True)
        path = self.spec.properties_path
        path.touch(mode=0o600)  # it holds the admin password when the node is secure
        path.chmod(0o600)
        path.write_text(render_properties(server_properties(self.spec)))
        return path

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
        if self.spec.security is None:
            self.runtime.run_tool("kafka.tools.StorageTool", args)
        else:  # the SCRAM users exist from the start, so the broker can log in to itself
            scram = scram_format_args(self.spec.security.passwords)
            self.runtime.run_tool("kafka.tools.StorageTool", args + scram, shown_args=args)
        return True

    def pids(self) -> list[int]:
        """Live java processes of this node, found by its server.properties path.

        A child we just forked still shows Python's command line until it execs java, so our
        own live child counts too. A zombie does not count: it has exited.
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
            self._process = subprocess.Popen(  # noqa: S603 - our java command line, no shell
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
            f"--- {self.spec.console_log} ---\n{log_tail(self.spec.console_log)}\n"
            f"--- {self.spec.server_log} ---\n{log_tail(self.spec.server_log)}"
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
                metadata = fetch_metadata(self.admin_settings)
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
        """Wait until no process of the node is alive (gone, or a zombie awaiting its reaper)."""
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
                metadata = fetch_metadata(self.admin_settings)
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
