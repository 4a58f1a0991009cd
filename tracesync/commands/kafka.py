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
@click.pass_context
def up(ctx: click.Context, cluster: bool) -> None:
    """Fetch if needed, format storage once, start detached and wait until the broker answers."""
    settings = settings_from(ctx)
    target = _cluster(settings, cluster)
    began = time.monotonic()
    _run(lambda: target.up(settings.kafka.start_timeout_s))
    took = time.monotonic() - began
    click.echo(f"kafka up at {target.bootstrap_servers} ({took:.1f}s)")


@kafka.command("down")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.option("--all", "everything", is_flag=True, help="Stop the single node and the cluster.")
@click.pass_context
def down(ctx: click.Context, cluster: bool, everything: bool) -> None:
    """Stop the nodes (SIGTERM; SIGKILL if one hangs); their data stays on disk.

    Cluster nodes stop one at a time; the last one cannot get its controlled shutdown approved
    without a quorum and is killed after a 10s grace.
    """
    from tracesync.devtools.infra import kafka as infra

    settings = settings_from(ctx)
    if everything:
        targets = [infra.single_node(settings), infra.three_node_cluster(settings)]
    else:
        targets = [_cluster(settings, cluster)]
    stopped = _run(lambda: infra.stop_all(targets))
    for line in stopped:
        click.echo(f"stopped {line}")
    if not stopped:
        click.echo("kafka was not running")


@kafka.command("status")
@click.option("--cluster", is_flag=True, help=_CLUSTER_HELP)
@click.pass_context
def status(ctx: click.Context, cluster: bool) -> None:
    """Show each node: running or not, pid, ports, topic count; exit code 1 if any is down."""
    settings = settings_from(ctx)
    states = _cluster(settings, cluster).status()
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


def _cluster(settings: Settings, cluster: bool) -> KafkaCluster:
    from tracesync.devtools.infra import kafka as infra

    return infra.three_node_cluster(settings) if cluster else infra.single_node(settings)


def _run(action: Callable[[], T]) -> T:
    try:
        return action()
    except TracesyncError as exc:
        raise click.ClickException(str(exc)) from exc
