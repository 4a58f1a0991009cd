"""The Quix Streams engine (default): per-partition RocksDB state, changelogs, checkpoints.

Two streams in one consumer group, each with one state store per partition and its changelog
topic (``changelog__<app_id>--<stream>--<store>``, created by Quix Streams):

- ``merge`` reads the four source topics and the derived topic (co-partitioned, keyed by batch
  code) into the ``chains`` store: the chain of every batch and the batches awaiting
  reconciliation (:mod:`streams.engines.deadlines`);
- ``genealogy`` reads the genealogy topic (keyed by lot code) into the ``lots`` store, the
  where-used index.

The work happens once per checkpoint (every ``checkpoint_interval_s`` or
``checkpoint_max_records``), in the stages of :mod:`streams.engines.quix_stages`; a periodic task
of the run loop sends ``RECONCILIATION_DUE``. Partitions are assigned with the range strategy, so
N workers in the group split every topic alike and a partition's state moves with it (recovered
from its changelog). ``processing_guarantee="exactly-once"`` commits outputs, changelogs and
offsets in one Kafka transaction.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import cast

from quixstreams import Application
from quixstreams.kafka.configuration import ConnectionConfig
from quixstreams.logging import LogLevel
from quixstreams.models.topics import Topic, TopicConfig
from quixstreams.processing import ProcessingContext
from quixstreams.state.rocksdb import RocksDBOptions

from streams.domain.chain import TraceChain
from streams.domain.reconcile import ReconciliationRules
from streams.engines.base import RecordIO, WorkerCodecs, WorkerTopics, chain_limits, state_dir
from streams.engines.quix_stages import DeadlineTimer, LineageStage, MergeStage
from streams.observe import WorkerProbe
from streams.processor import ChainProcessor
from tracesync.kafka_clients import common, quix_consumer_extra, quix_producer_extra
from tracesync.settings import Settings

MERGE, GENEALOGY = "merge", "genealogy"
CHAINS, LOTS = "chains", "lots"
STORES = ((MERGE, CHAINS), (GENEALOGY, LOTS))
"""(stream, store) pairs; each store has a compacted changelog topic."""


def changelog_topic(app_id: str, stream_id: str, store_name: str) -> str:
    """The name Quix Streams gives a store's changelog topic."""
    return f"changelog__{app_id}--{stream_id}--{store_name}"


class QuixEngine:
    """The Quix Streams application with its streams, stores, stages and timer."""

    name = "quix"

    def __init__(
        self,
        settings: Settings,
        topics: WorkerTopics,
        codecs: WorkerCodecs,
        loglevel: str,
        probe: WorkerProbe | None = None,
    ) -> None:
        ws = settings.worker
        self.settings = settings
        self.loglevel = cast(LogLevel, loglevel.upper())
        self.app = _quix_app(settings, self.loglevel, probe)
        io = RecordIO(topics, codecs, settings.plant, ws.max_event_bytes)
        rules = ReconciliationRules(tolerance=ws.tolerance, settle_seconds=ws.settle_s)

        def make_processor(load: Callable[[str], TraceChain | None]) -> ChainProcessor:
            return ChainProcessor(
                decode=io.decode,
                load=load,
                rules=rules,
                limits=chain_limits(ws),
                cache_size=ws.cache_size,
            )

        merge_inputs = [self._topic(name) for name in topics.merge_inputs]
        genealogy = self._topic(topics.genealogy)
        merge_frames = [self.app.dataframe(topic) for topic in merge_inputs]
        genealogy_frame = self.app.dataframe(genealogy)
        context = genealogy_frame.processing_context
        self._register_stream(context, MERGE, CHAINS, merge_inputs)
        self._register_stream(context, GENEALOGY, LOTS, [genealogy])
        settle_ms = int(ws.settle_s * 1000)
        self.merge = MergeStage(
            context, MERGE, CHAINS, io=io, make_processor=make_processor, settle_ms=settle_ms
        )
        for frame in merge_frames:
            frame.sink(self.merge)
        self.lineage = LineageStage(context, GENEALOGY, LOTS, io)
        genealogy_frame.sink(self.lineage)
        self.merge.probe = self.lineage.probe = probe
        timer = DeadlineTimer(context, MERGE, CHAINS, io=io, every_s=ws.settle_check_s)
        context.dataframe_registry.register_periodic_task(timer.tick)

    def run(self) -> None:
        """Consume, merge and commit until SIGTERM/SIGINT (then commit once more and stop)."""
        logging.basicConfig(
            level=self.loglevel, format="[%(asctime)s] %(levelname)s %(name)s: %(message)s"
        )
        logging.getLogger("quixstreams").setLevel(self.loglevel)
        # A failed offset commit (the group coordinator moving: NOT_COORDINATOR,
        # COORDINATOR_NOT_AVAILABLE, REBALANCE_IN_PROGRESS) raises CheckpointConsumerCommitError
        # out of app.run() and the worker exits, on purpose: Quix commits the offsets before it
        # flushes the local state, so going on would leave the position past records the state
        # lacks; a restart restores the state from the changelogs and reads from the committed
        # offsets (docs/runbook.md, "Run every component under a supervisor").
        self.app.run()

    def _topic(self, name: str) -> Topic:
        return self.app.topic(
            name,
            key_deserializer="bytes",
            value_deserializer="bytes",
            key_serializer="bytes",
            value_serializer="bytes",
        )

    def _register_stream(
        self, context: ProcessingContext, stream_id: str, store_name: str, topics: list[Topic]
    ) -> None:
        """A stream over co-partitioned topics, with one store and its changelog topic.

        A stream of its own rather than ``concat()`` of the topics' dataframes: Quix would join
        every topic name into the stream id and the changelog's name (too long for Kafka with a
        topic prefix), and read the topics time-aligned, which the merge does not need.
        """
        context.dataframe_registry.register_stream_id(stream_id, [t.name for t in topics])
        changelog = TopicConfig(
            num_partitions=self.settings.source_partitions,
            replication_factor=self.settings.worker.replication_factor,
        )
        context.state_manager.register_store(
            stream_id=stream_id, store_name=store_name, changelog_config=changelog
        )


def _quix_app(settings: Settings, loglevel: LogLevel, probe: WorkerProbe | None) -> Application:
    """The Quix application: checkpoints, state folder, client settings of the worker."""
    ws = settings.worker
    consumer_extra = quix_consumer_extra(ws.session_timeout_ms, ws.fetch_wait_max_ms)
    if probe is not None:
        consumer_extra |= probe.consumer_extra()
    folder = state_dir(settings)
    folder.mkdir(parents=True, exist_ok=True)
    return Application(
        broker_address=ConnectionConfig.from_librdkafka_dict(common(settings.kafka)),
        consumer_group=ws.app_id,
        auto_offset_reset="earliest",
        commit_interval=ws.checkpoint_interval_s,
        commit_every=ws.checkpoint_max_records,
        consumer_extra_config=consumer_extra,
        producer_extra_config=_producer_extra(settings),
        state_dir=folder,
        rocksdb_options=_rocksdb_options(),
        # with JSON logs, Quix logs through the root logger's handlers, not its own
        loglevel=None if settings.log_format == "json" else loglevel,
        consumer_poll_timeout=ws.poll_timeout_s,
        processing_guarantee=ws.processing_guarantee,
    )


def _producer_extra(settings: Settings) -> dict[str, object]:
    config = quix_producer_extra(settings.kafka, settings.producer)
    ws = settings.worker
    if ws.processing_guarantee == "exactly-once":
        # one transactional id per app and instance (Quix would draw a random one): a restarted
        # worker fences its killed predecessor and aborts its open transaction at once, instead
        # of read_committed readers waiting for the transaction timeout
        config["transactional.id"] = f"{ws.app_id}-{ws.instance}"
        config["transaction.timeout.ms"] = ws.transaction_timeout_ms
        # librdkafka: a record must time out before the transaction it belongs to
        config["delivery.timeout.ms"] = min(
            settings.producer.delivery_timeout_ms, ws.transaction_timeout_ms
        )
    return config


def _rocksdb_options() -> RocksDBOptions:
    # one RocksDB per store and partition: bound its caches (Quix's defaults are a 1 GiB block
    # cache and 3 x 64 MiB memtables each). No fsync per commit: the changelog, not the local
    # files, is what a lost partition is recovered from.
    return RocksDBOptions(
        block_cache_size=8 * 1024**2,
        write_buffer_size=4 * 1024**2,
        max_write_buffer_number=2,
        use_fsync=False,
    )
