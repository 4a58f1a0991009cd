"""server.properties of the local KRaft nodes, cluster layout, perf-output parsing (no I/O)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracesync.devtools.infra.kafka import (
    KafkaRuntime,
    NodeSpec,
    Voter,
    cluster_ports,
    parse_producer_summary,
    render_properties,
    server_properties,
    single_node,
    three_node_cluster,
)
from tracesync.settings import KafkaSettings, Settings

DATA = Path("/data/kafka/node-1")
HOME = Path("/srv/tracesync-home")  # never touched: layouts only compute paths


def single_spec(**overrides: object) -> NodeSpec:
    fields: dict[str, object] = {
        "node_id": 1,
        "host": "127.0.0.1",
        "broker_port": 29092,
        "controller_port": 29093,
        "data_dir": DATA,
    }
    fields.update(overrides)
    return NodeSpec(**fields)  # type: ignore[arg-type]


def test_single_node_is_a_combined_kraft_node_on_loopback() -> None:
    props = server_properties(single_spec())

    assert props["process.roles"] == "broker,controller"
    assert props["node.id"] == "1"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29092,CONTROLLER://127.0.0.1:29093"
    assert props["controller.listener.names"] == "CONTROLLER"
    assert props["inter.broker.listener.name"] == "PLAINTEXT"
    assert props["log.dirs"] == str(DATA / "kafka-logs")
    assert props["controller.quorum.bootstrap.servers"] == "127.0.0.1:29093"
    assert "controller.quorum.voters" not in props


@pytest.mark.parametrize(
    "key",
    [
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
        "transaction.state.log.min.isr",
        "default.replication.factor",
        "min.insync.replicas",
    ],
)
def test_single_node_replication_settings_are_one(key: str) -> None:
    assert server_properties(single_spec())[key] == "1"


def test_fast_group_joins_for_tests() -> None:
    assert server_properties(single_spec())["group.initial.rebalance.delay.ms"] == "0"


def test_cluster_member_uses_static_voters_and_its_replication() -> None:
    voters = (Voter(1, "127.0.0.1", 29193), Voter(2, "127.0.0.1", 29195))
    props = server_properties(
        single_spec(voters=voters, replication_factor=3, min_insync_replicas=2)
    )

    assert props["controller.quorum.voters"] == "1@127.0.0.1:29193,2@127.0.0.1:29195"
    assert "controller.quorum.bootstrap.servers" not in props
    assert props["default.replication.factor"] == "3"
    assert props["offsets.topic.replication.factor"] == "3"
    assert props["min.insync.replicas"] == "2"
    assert props["transaction.state.log.min.isr"] == "2"


def test_extra_properties_override_defaults() -> None:
    props = server_properties(single_spec(extra_properties={"num.partitions": "6"}))
    assert props["num.partitions"] == "6"


def test_render_properties_is_sorted_key_value_lines() -> None:
    text = render_properties({"b.key": "2", "a.key": "x=y"})
    lines = [line for line in text.splitlines() if not line.startswith("#")]

    assert lines == ["a.key=x=y", "b.key=2"]
    assert text.endswith("\n")


def test_cluster_ports_do_not_overlap() -> None:
    ports = [p for i in range(3) for p in cluster_ports(29192, i)]
    assert ports == [29192, 29193, 29194, 29195, 29196, 29197]


def make_settings(home: Path) -> Settings:
    return Settings(
        home=home,
        kafka=KafkaSettings(broker_port=29092, controller_port=29093, cluster_base_port=29192),
    )


def test_three_node_cluster_layout() -> None:
    runtime = KafkaRuntime("4.4.0", HOME / "cache")
    cluster = three_node_cluster(make_settings(HOME), runtime=runtime)
    specs = [node.spec for node in cluster.nodes]

    assert [s.node_id for s in specs] == [1, 2, 3]
    assert len({s.data_dir for s in specs}) == 3
    assert all(s.data_dir.is_relative_to(HOME) for s in specs)
    assert cluster.bootstrap_servers == "127.0.0.1:29192,127.0.0.1:29194,127.0.0.1:29196"
    voters = server_properties(specs[0])["controller.quorum.voters"]
    assert voters == "1@127.0.0.1:29193,2@127.0.0.1:29195,3@127.0.0.1:29197"
    assert all(server_properties(s)["controller.quorum.voters"] == voters for s in specs)
    assert {s.min_insync_replicas for s in specs} == {2}


def test_single_node_layout_uses_settings_ports() -> None:
    runtime = KafkaRuntime("4.4.0", HOME / "cache")
    cluster = single_node(make_settings(HOME), runtime=runtime)

    assert cluster.bootstrap_servers == "127.0.0.1:29092"
    assert cluster.nodes[0].spec.data_dir == HOME / "kafka" / "single"


def test_parse_producer_summary() -> None:
    line = (
        "200000 records sent, 28485.970659 records/sec (5.43 MB/sec), 853.96 ms avg latency, "
        "1238.00 ms max latency, 895 ms 50th, 1171 ms 95th, 1206 ms 99th, 1233 ms 99.9th."
    )
    assert parse_producer_summary(line) == {
        "records": 200000.0,
        "records_per_sec": 28485.970659,
        "mb_per_sec": 5.43,
        "avg_latency_ms": 853.96,
        "max_latency_ms": 1238.0,
        "p99_ms": 1206.0,
    }
