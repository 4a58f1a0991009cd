"""The whole pipeline on one machine: infrastructure, then components as supervised processes.

Used by ``tracesync demo`` and ``tracesync bench``: it starts the local broker and registry unless
they already run (and stops only what it started), applies the topic catalog, migrates the trace
store, and runs the worker, sinks and adapters as child processes whose logs go to ``run_dir``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from sinks.store import open_store
from tracesync import bootstrap
from tracesync.infra import kafka as kafka_infra
from tracesync.infra import registry as registry_infra
from tracesync.settings import Settings
from tracesync.supervise import Component

Echo = Callable[[str], None]


class LocalPipeline:
    """Infrastructure plus named component processes, torn down in reverse order."""

    def __init__(self, settings: Settings, run_dir: Path, echo: Echo = print) -> None:
        self.settings = settings
        self.run_dir = run_dir
        self.echo = echo
        self.components: dict[str, Component] = {}
        self._started_kafka = False
        self._started_registry = False
        run_dir.mkdir(parents=True, exist_ok=True)

    # -- infrastructure -------------------------------------------------------------------
    def up_infrastructure(self) -> None:
        began = time.monotonic()
        node = kafka_infra.single_node(self.settings)
        if _broker_answers(self.settings.kafka.bootstrap_servers):
            self.echo(f"kafka already running at {self.settings.kafka.bootstrap_servers}")
        else:
            node.up(self.settings.kafka.start_timeout_s)
            self._started_kafka = True
            self.echo(f"kafka up at {node.bootstrap_servers} ({time.monotonic() - began:.1f}s)")
        if self.settings.registry.enabled:
            began = time.monotonic()
            if registry_infra.is_answering(self.settings.registry.url):
                self.echo(f"registry already running at {self.settings.registry.url}")
            else:
                cache = registry_infra.default_cache_root(self.settings)
                registry_infra.fetch(cache)
                registry_infra.start(self.settings, cache)
                self._started_registry = True
                took = time.monotonic() - began
                self.echo(f"registry up at {self.settings.registry.url} ({took:.1f}s)")
        bootstrap.ensure_topics(self.settings)
        open_store(self.settings.store_url).engine.dispose()
        self.echo("topics applied, trace store migrated")

    def down_infrastructure(self) -> None:
        if self._started_registry:
            registry_infra.stop(self.settings)
            self._started_registry = False
        if self._started_kafka:
            kafka_infra.single_node(self.settings).down()
            self._started_kafka = False

    # -- components -----------------------------------------------------------------------
    def start(self, name: str, args: list[str]) -> Component:
        component = Component(args, self.settings, self.run_dir / f"{name}.log").start()
        self.components[name] = component
        return component

    def dead(self) -> list[str]:
        return [name for name, c in self.components.items() if not c.alive()]

    def stop_components(self) -> None:
        for component in reversed(list(self.components.values())):
            component.stop()

    def close(self, keep_running: bool = False) -> None:
        if keep_running:
            return
        self.stop_components()
        self.down_infrastructure()


def _broker_answers(bootstrap_servers: str) -> bool:
    try:
        kafka_infra.fetch_metadata(bootstrap_servers, timeout_s=3.0)
    except Exception:
        return False
    return True


def group_lag(settings: Settings, group: str, topics: list[str]) -> int | None:
    """Records of ``topics`` the consumer ``group`` has not committed yet (None: unknown yet)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": group,
            "enable.auto.commit": False,
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in (metadata.topics[topic].partitions if topic in metadata.topics else {})
        ]
        committed = consumer.committed(partitions, timeout=10)
        lag = 0
        for tp in committed:
            low, high = consumer.get_watermark_offsets(tp, timeout=10, cached=False)
            position = tp.offset if tp.offset >= 0 else low
            lag += max(high - position, 0)
        return lag
    except Exception:
        return None
    finally:
        consumer.close()


def end_offsets(settings: Settings, topics: list[str]) -> int:
    """Total records ever written to ``topics`` (sum of high watermarks)."""
    consumer = Consumer(
        {
            "bootstrap.servers": settings.kafka.bootstrap_servers,
            "group.id": "tracesync-offsets-probe",
        }
    )
    try:
        metadata = consumer.list_topics(timeout=10)
        total = 0
        for topic in topics:
            for p in metadata.topics.get(topic).partitions if topic in metadata.topics else {}:
                total += consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
        return total
    finally:
        consumer.close()
