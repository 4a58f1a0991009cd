"""The ``tracesync kafka`` commands on a real node: up, status, down leave nothing behind.

These tests run the installed CLI in a subprocess with their own home and the spare ports
(29198/29199), so they never touch the session broker or the default ports. Settings reach the
CLI the way they reach it in production: ``TRACESYNC_*`` environment variables.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fixtures.kafka import SPARE_PORTS, KafkaBroker, kafka_test_settings
from tests.slot import TEST_HOME
from tracesync.devtools.infra import kafka as infra
from tracesync.errors import InfrastructureError

pytestmark = pytest.mark.integration

CLI = Path(sys.executable).with_name("tracesync")


def pgrep(pattern: str) -> list[int]:
    """Pids of processes whose command line contains ``pattern``, by ``pgrep -f``."""
    done = subprocess.run(["pgrep", "-f", pattern], capture_output=True, text=True, check=False)
    return [int(pid) for pid in done.stdout.split()]


@pytest.fixture
def cli_home(kafka_runtime: infra.KafkaRuntime) -> Iterator[Path]:
    """A fresh home for the CLI whose jar cache points at the shared one."""
    home = TEST_HOME / "kafka-cli"
    settings = kafka_test_settings(home, broker_port=SPARE_PORTS[0], controller_port=SPARE_PORTS[1])
    leftover = infra.single_node(settings, runtime=kafka_runtime)
    leftover.down(timeout_s=10)
    subprocess.run(["rm", "-rf", str(home)], check=True)
    (home / "cache").mkdir(parents=True)
    (home / "cache" / kafka_runtime.cache_dir.name).symlink_to(kafka_runtime.cache_dir)
    yield home
    leftover.down(timeout_s=10)


def has_exited(pid: int) -> bool:
    """True when ``pid`` is gone or a zombie (state Z or X in /proc/PID/stat).

    An init that reaps orphans late leaves a stopped broker as a zombie for seconds: it runs no
    code and holds no port or file any more, so it counts as stopped.
    """
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return True
    state = stat[stat.rfind(")") + 1 :].split()[0]  # "pid (comm) state ...", comm may hold ")"
    return state in {"Z", "X"}


def run_cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "TRACESYNC_HOME": str(home),
        "TRACESYNC_KAFKA__BROKER_PORT": str(SPARE_PORTS[0]),
        "TRACESYNC_KAFKA__CONTROLLER_PORT": str(SPARE_PORTS[1]),
        "TRACESYNC_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{SPARE_PORTS[0]}",
    }
    return subprocess.run(
        [str(CLI), "kafka", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_kafka_down_leaves_no_java_process(cli_home: Path) -> None:
    data_dir = str((cli_home / "kafka" / "single").resolve())

    started = run_cli(cli_home, "up")
    assert started.returncode == 0, started.stderr
    pids_while_up = pgrep(data_dir)
    executables = {Path(f"/proc/{pid}/exe").resolve().name for pid in pids_while_up}
    status_up = run_cli(cli_home, "status")
    stopped = run_cli(cli_home, "down")
    status_down = run_cli(cli_home, "status")

    assert pids_while_up, "no process of the node while it was up"
    assert executables == {"java"}
    assert status_up.returncode == 0 and "running" in status_up.stdout
    assert stopped.returncode == 0, stopped.stderr
    assert pgrep(data_dir) == []
    assert all(has_exited(pid) for pid in pids_while_up)
    assert status_down.returncode == 1 and "stopped" in status_down.stdout
    assert not (cli_home / "kafka" / "single" / "kafka.pid").exists()


def test_start_failure_raises_with_broker_log(
    kafka_broker: KafkaBroker, kafka_runtime: infra.KafkaRuntime
) -> None:
    """A node whose broker port is taken (by the session broker) fails loudly, not silently."""
    home = TEST_HOME / "kafka-conflict"
    subprocess.run(["rm", "-rf", str(home)], check=True)
    taken_port = int(kafka_broker.bootstrap_servers.rsplit(":", 1)[1])
    settings = kafka_test_settings(home, broker_port=taken_port, controller_port=SPARE_PORTS[1])
    node = infra.single_node(settings, runtime=kafka_runtime)
    try:
        with pytest.raises(InfrastructureError) as failure:
            node.up(timeout_s=60)
    finally:
        node.down(timeout_s=10)

    assert "server.log" in str(failure.value)
    assert "Address already in use" in str(failure.value)
    assert not node.is_running()
