"""One combined broker+controller node and its ``server.properties`` (pure; unit-tested)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tracesync.devtools.infra.kafka.security import MECHANISM, BrokerSecurity


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
    security: BrokerSecurity | None = None

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
    listeners = f"PLAINTEXT://{host}:{spec.broker_port},CONTROLLER://{host}:{spec.controller_port}"
    props = {
        "process.roles": "broker,controller",
        "node.id": str(spec.node_id),
        "listeners": listeners,
        "advertised.listeners": listeners,
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
    if spec.security is not None:
        props |= secure_properties(spec, spec.security)
    if spec.voters:
        props["controller.quorum.voters"] = ",".join(v.render() for v in spec.voters)
    else:
        props["controller.quorum.bootstrap.servers"] = f"{host}:{spec.controller_port}"
    props.update(spec.extra_properties)
    return props


def secure_properties(spec: NodeSpec, security: BrokerSecurity) -> dict[str, str]:
    """SASL_SSL listeners (SCRAM-SHA-512 for clients and between brokers), ACLs enforced.

    The controller listener uses TLS too, with SASL/PLAIN for the admin alone (KRaft controllers
    cannot check SCRAM before the metadata is loaded). ``admin`` is the only super user; every
    other principal gets what its ACLs allow (:mod:`.acls`), nothing when no ACL matches.
    """
    host = spec.host
    listeners = f"SASL_SSL://{host}:{spec.broker_port},CONTROLLER://{host}:{spec.controller_port}"
    password = security.admin_password
    scram = "org.apache.kafka.common.security.scram.ScramLoginModule"
    plain = "org.apache.kafka.common.security.plain.PlainLoginModule"
    return {
        "listeners": listeners,
        "advertised.listeners": listeners,
        "listener.security.protocol.map": "SASL_SSL:SASL_SSL,CONTROLLER:SASL_SSL",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.enabled.mechanisms": MECHANISM,
        "sasl.mechanism.inter.broker.protocol": MECHANISM,
        f"listener.name.sasl_ssl.{MECHANISM.lower()}.sasl.jaas.config": (
            f'{scram} required username="admin" password="{password}";'
        ),
        "sasl.mechanism.controller.protocol": "PLAIN",
        "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
        "listener.name.controller.plain.sasl.jaas.config": (
            f'{plain} required username="admin" password="{password}" user_admin="{password}";'
        ),
        "ssl.keystore.type": "PEM",
        "ssl.keystore.location": str(security.keystore),
        "ssl.truststore.type": "PEM",
        "ssl.truststore.location": str(security.truststore),
        "ssl.endpoint.identification.algorithm": "https",
        "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
        "super.users": "User:admin",
        "allow.everyone.if.no.acl.found": "false",
    }


def render_properties(props: Mapping[str, str]) -> str:
    """Java properties text, one ``key=value`` a line, in a stable order."""
    lines = ["# Written by tracesync.devtools.infra.kafka; regenerated on every start."]
    lines.extend(f"{key}={value}" for key, value in sorted(props.items()))
    return "\n".join(lines) + "\n"
