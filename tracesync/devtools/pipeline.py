"""The whole pipeline on one machine: infrastructure, then components as supervised processes.

Used by ``tracesync demo`` and ``tracesync bench``: it starts the local broker and registry unless
they already run (and stops only what it started), applies the topic catalog, migrates the trace
store, and runs the worker, sinks and adapters as child processes whose logs go to ``run_dir``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

from sinks.store.database import open_store
from tracesync import bootstrap
from tracesync.devtools.infra import kafka as kafka_infra
from tracesync.devtools.infra import registry as registry_infra
from tracesync.devtools.supervise import Component
from tracesync.kafka_clients import consumer_config
from tracesync.settings import KafkaSettings, Settings

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
        if _broker_answers(self.settings.kafka):
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


def _broker_answers(kafka: KafkaSettings) -> bool:
    try:
        kafka_infra.fetch_metadata(kafka, timeout_s=3.0)
    except Exception:
        return False
    return True


class OffsetProbe:
    """End offsets of topics and the lag of consumer groups, for progress views and benchmarks.

    Its consumers are long-lived (created once, polled every second) and never join a group:
    they only read watermarks and the groups' committed offsets.
    """

    def __init__(self, settings: Settings, groups: Sequence[str]) -> None:
        self._offsets = _consumer(settings, "tracesync-offsets-probe")
        self._groups = {group: _consumer(settings, group) for group in groups}

    def close(self) -> None:
        for consumer in (self._offsets, *self._groups.values()):
            consumer.close()

    def ends(self, topics: Sequence[str]) -> dict[tuple[str, int], int]:
        """High watermark of every partition of ``topics`` (missing topics: none)."""
        metadata = self._offsets.list_topics(timeout=5)
        return {
            (topic, p): self._offsets.get_watermark_offsets(
                TopicPartition(topic, p), timeout=5, cached=False
            )[1]
            for topic in topics
            if topic in metadata.topics
            for p in metadata.topics[topic].partitions
        }

    def lag(self, group: str, ends: dict[tuple[str, int], int]) -> int | None:
        """Records below ``ends`` that ``group`` has not committed (None: no partitions yet)."""
        if not ends:
            return None
        partitions = [TopicPartition(t, p) for t, p in ends]
        committed = self._groups[group].committed(partitions, timeout=5)
        # nothing committed on a partition yet: all of it is lag (the run's topics are fresh)
        lag: int = sum(
            max(ends[(tp.topic, tp.partition)] - max(tp.offset, 0), 0) for tp in committed
        )
        return lag


def _consumer(settings: Settings, group: str) -> Consumer:
    return Consumer(consumer_config(settings.kafka, group))
