"""``tracesync kafka``: fetch, start, stop, inspect and benchmark the local Kafka (KRaft) nodes."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

import click

from tracesync.commands.context import settings_from
from tracesync.errors import TracesyncError

if TYPE_CHECKING:
    from tracesync.devtools.infra.kafka import KafkaCluster
    from tracesync.settings import Settings

T = TypeVar("T")

_CLUSTER_HELP = "Act on the three-node cluster (ports from kafka.cluster_base_port)."
_SECURE_HELP = (
    "Act on the SASL_SSL single node (TLS, SCRAM users, ACLs) under <home>/kafka/single-sasl."
)


@click.group("kafka")
def kafka() -> None:
    """The local Apache Kafka: a single KRaft node by default, a three-node cluster with --cluster.

    Jars come from Maven Central (deploy/kafka/pom.xml); data, logs and pid files live under
    <home>/kafka/single or <home>/kafka/cluster/node-N. Every server binds to 127.0.0.1.
    """


@kafka.command("fetch")
@click.pass_context
def fetch(ctx: click.Context) -> None:
    """Copy the Kafka runtime jars into <home>/cache/kafka-<version>/libs (no-op when cached)."""
    from tracesync.devtools.infra import kafka as infra

    settings = settings_from(ctx)
    runtime = infra.runtime_for(settings)
    began = time.monotonic()
    fetched = _run(runtime.fetch)
    took = time.monotonic() - began
    state = "fetched" if fetched else "already cached"
    click.echo(f"kafka {runtime.version} jars {state} in {runtime.libs_dir} ({took:.1f}s)")


@kafka.command("up")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.option("--secure", is_flag=True, help=_SECURE_HELP)
@click.pass_context
def up(ctx: click.Context, cluster: bool, secure: bool) -> None:
    """Fetch if needed, format storage once, start detached and wait until the broker answers.

    With --secure: certificates and SCRAM users are made first (see `tracesync kafka certs`),
    and the ACLs of the per-component principals are applied once the broker answers.
    """
    settings = settings_from(ctx)
    target = _cluster(settings, cluster, secure)
    began = time.monotonic()
    _run(lambda: target.up(settings.kafka.start_timeout_s))
    took = time.monotonic() - began
    click.echo(f"kafka up at {target.bootstrap_servers} ({took:.1f}s)")
    if secure:
        _apply_acls(settings, target)


@kafka.command("certs")
@click.pass_context
def certs(ctx: click.Context) -> None:
    """Make the secure node's CA, broker certificate and SCRAM passwords (kept when present).

    Local use only: openssl on this machine, no network. Clients trust the CA file printed here
    (TRACESYNC_KAFKA__SSL_CA_LOCATION); each component logs in as its own principal with the
    password from the users file (mode 0600). Passwords are never printed.
    """
    from tracesync.devtools.infra import kafka as infra

    settings = settings_from(ctx)
    node_root = (settings.home / "kafka" / "single-sasl").resolve()
    files = infra.security_files(node_root)
    _run(lambda: infra.ensure_material(files, settings.kafka.host))
    click.echo(f"CA certificate: {files.ca_cert}")
    click.echo(f"broker keystore: {files.keystore}")
    click.echo(f"SCRAM users ({', '.join(infra.PRINCIPALS)}): passwords in {files.users}")


@kafka.command("acls")
@click.pass_context
def acls(ctx: click.Context) -> None:
    """Apply the per-component ACLs on the secure node for these settings (topic prefix, groups).

    Run it again after changing topic_prefix, worker.app_id or store.sink_group.
    """
    settings = settings_from(ctx)
    _apply_acls(settings, _cluster(settings, False, True))


@kafka.command("down")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.option("--secure", is_flag=True, help=_SECURE_HELP)
@click.option("--all", "everything", is_flag=True, help="Stop the single nodes and the cluster.")
@click.pass_context
def down(ctx: click.Context, cluster: bool, secure: bool, everything: bool) -> None:
    """Stop the nodes (SIGTERM; SIGKILL if one hangs); their data stays on disk.

    Cluster nodes stop one at a time; the last one cannot get its controlled shutdown approved
    without a quorum and is killed after a 10s grace.
    """
    from tracesync.devtools.infra import kafka as infra

    settings = settings_from(ctx)
    if everything:
        targets = [
            infra.single_node(settings),
            infra.single_node(settings, secure=True),
            infra.three_node_cluster(settings),
        ]
    else:
        targets = [_cluster(settings, cluster, secure)]
    stopped = _run(lambda: infra.stop_all(targets))
    for line in stopped:
        click.echo(f"stopped {line}")
    if not stopped:
        click.echo("kafka was not running")


@kafka.command("status")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.option("--secure", is_flag=True, help=_SECURE_HELP)
@click.pass_context
def status(ctx: click.Context, cluster: bool, secure: bool) -> None:
    """Show each node: running or not, pid, ports, topic count; exit code 1 if any is down."""
    settings = settings_from(ctx)
    states = _cluster(settings, cluster, secure).status()
    for state in states:
        click.echo(state.describe())
    if not all(state.running for state in states):
        raise SystemExit(1)


@kafka.command("perf")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.option("--records", default=200_000, show_default=True, help="Records to produce.")
@click.option("--record-size", default=200, show_default=True, help="Bytes per record.")
@click.option("--partitions", default=3, show_default=True, help="Partitions of the perf topic.")
@click.option("--consume/--no-consume", default=True, show_default=True, help="Read them back too.")
@click.pass_context
def perf(
    ctx: click.Context,
    *,
    cluster: bool,
    records: int,
    record_size: int,
    partitions: int,
    consume: bool,
) -> None:
    """Run Kafka's ProducerPerformance (acks=all) and ConsumerPerformance on a fresh topic.

    The nodes must be up (`tracesync kafka up [--cluster]`).
    """
    from tracesync.devtools.infra import kafka as infra

    settings = settings_from(ctx)
    target = _cluster(settings, cluster)
    topic = f"perf-{uuid.uuid4().hex[:10]}"
    replication = len(target.nodes)
    _run(lambda: infra.ensure_topic(target.bootstrap_servers, topic, partitions, replication))
    click.echo(f"topic {topic}: {partitions} partitions, replication factor {replication}")
    produced = _run(
        lambda: infra.run_producer_perf(
            target.runtime,
            target.bootstrap_servers,
            topic,
            records=records,
            record_size=record_size,
        )
    )
    click.echo(f"producer: {produced.summary}")
    if consume:
        consumed = _run(
            lambda: infra.run_consumer_perf(
                target.runtime, target.bootstrap_servers, topic, records=records
            )
        )
        click.echo(f"consumer:\n{consumed.output.strip()}")


def _cluster(settings: Settings, cluster: bool, secure: bool = False) -> KafkaCluster:
    from tracesync.devtools.infra import kafka as infra

    if cluster and secure:
        raise click.UsageError("--secure runs a single node; it cannot be combined with --cluster")
    if cluster:
        return infra.three_node_cluster(settings)
    return infra.single_node(settings, secure=secure)


def _apply_acls(settings: Settings, target: KafkaCluster) -> None:
    from tracesync.bootstrap import catalog
    from tracesync.devtools.infra import kafka as infra
    from tracesync.kafka_clients import admin_client

    admin = admin_client(target.nodes[0].admin_settings)
    count = _run(lambda: infra.apply_acls(admin, infra.acl_plan(settings, catalog(settings))))
    click.echo(f"{count} ACLs applied for topic prefix {settings.topic_prefix!r}")


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
