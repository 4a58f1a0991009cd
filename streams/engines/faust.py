"""The faust-streaming engine: thin agents around :mod:`streams.processor` and the genealogy.

Agents (``concurrency=1``, at-least-once):

- ``merge`` reads the four source topics and the derived topic — all co-partitioned, keyed by
  batch code — in buffers, and merges them into the ``chains`` table (one chain per batch). It
  publishes each changed chain to the chain topic, raises alerts, tells the genealogy about new
  parent links and changed holds, and remembers batches awaiting reconciliation.
- ``genealogy`` reads the genealogy topic (keyed by lot code) into the ``lots`` table, the
  where-used index, and sends inherited holds to the children on the derived topic.
- a timer sends ``RECONCILIATION_DUE`` to batches whose settle time has passed.

The merge agent's outputs go through a librdkafka producer (:mod:`streams.output`). Chains are
coalesced (:mod:`streams.coalesce`): a timer publishes, every ``worker.checkpoint_interval_s``,
the latest view of each batch changed since, flushes the producer, and only then acks the
buffers' records (their messages are held by an extra reference until then), so at most one
chain record per batch goes out per interval and a record's offset is committed only after all
it caused is stored. Anything that fails for one record goes to the streams dead-letter topic
with the reason, the stage and the origin (topic, partition, offset) in its headers; the agents
never stop for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import faust
from faust.streams import _current_event

from streams import state
from streams.coalesce import ChainCoalescer
from streams.domain.reconcile import ReconciliationRules
from streams.engines.base import (
    Output,
    RecordIO,
    WorkerCodecs,
    WorkerTopics,
    chain_limits,
    now_ms,
    state_dir,
)
from streams.lineage import LineageProcessor
from streams.observe import WorkerProbe
from streams.output import OutputProducer
from streams.processor import ChainProcessor, Incoming, StepResult
from tracesync.errors import InfrastructureError
from tracesync.kafka_clients import aiokafka_security
from tracesync.observability.logs import configure_logging
from tracesync.settings import Settings

log = logging.getLogger(__name__)
RETRY_MAX_S = 10.0


async def process_when_decodable(
    process: Callable[[Sequence[Incoming]], StepResult],
    records: Sequence[Incoming],
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> StepResult:
    """``process(records)``, again and again while the registry is away (InfrastructureError).

    The processor lets that error escape (the records are good). Faust must not see it: its take
    buffer acks every buffered event when the agent leaves it, so an escaping error would commit
    the buffer unprocessed. Decoding comes first in ``process``, so a retry starts clean.
    """
    delay = 0.5
    while True:
        try:
            return process(records)
        except InfrastructureError as exc:
            log.warning("cannot decode the buffer yet, again in %.1f s: %s", delay, exc)
            await sleep(delay)
            delay = min(delay * 2, RETRY_MAX_S)


TABLES = ("chains", "lots", "pending")
"""The worker's tables; each has a compacted changelog topic ``<app_id>-<table>-changelog``."""


@contextlib.contextmanager
def _in_partition_of(event: faust.EventT[bytes]) -> Iterator[None]:
    """Make ``event`` faust's current event while a table is read or written.

    faust picks a table's store partition and changelog partition from the current event. When a
    buffer of events from several partitions is processed at once, the current event is whichever
    came last, so every table access is wrapped in the context of an event of the key's own
    partition.
    """
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


class FaustEngine:
    """The faust app with its topics, tables and agents, built from settings."""

    name = "faust"

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
        self.probe = probe
        self.topics = topics
        self.io = RecordIO(topics, codecs, settings.plant, ws.max_event_bytes)
        self.loglevel = loglevel
        self.rules = ReconciliationRules(tolerance=ws.tolerance, settle_seconds=ws.settle_s)
        self.app = _faust_app(settings)
        raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
        raw |= {"key_serializer": "raw", "value_serializer": "raw"}
        self._inputs = self.app.topic(*topics.merge_inputs, **raw)
        self._derived = self.app.topic(topics.derived, **raw)
        self._genealogy = self.app.topic(topics.genealogy, **raw)
        self._dlq = self.app.topic(topics.dead_letter, **raw)
        self._out = OutputProducer(settings.kafka, settings.producer)
        # faust opens one RocksDB per table and partition, each with a 2 GiB block cache and
        # 3 x 64 MiB memtables by default: bound them, or resident memory grows with the data
        table_options = {
            "block_cache_size": 8 * 1024**2,
            "write_buffer_size": 4 * 1024**2,
            "max_write_buffer_number": 2,
        }
        as_bytes: dict[str, Any] = {"key_type": bytes, "value_type": bytes}  # raw serializers
        as_bytes["partitions"] = settings.source_partitions
        self.chains = self.app.Table("chains", default=None, options=table_options, **as_bytes)
        self.lots = self.app.Table("lots", default=None, options=table_options, **as_bytes)
        self.pending = self.app.Table("pending", default=None, options=table_options, **as_bytes)
        self.processor = ChainProcessor(
            decode=self.io.decode,
            load=self._load,
            rules=self.rules,
            limits=chain_limits(ws),
            cache_size=ws.cache_size,
        )
        self.lineage = LineageProcessor(load=self._load_node)
        self._events_by_code: dict[str, faust.EventT[bytes]] = {}
        self._due_sent: set[str] = set()
        self._coalescer: ChainCoalescer[faust.EventT[bytes]] = ChainCoalescer()
        self._stream: faust.StreamT[bytes] | None = None
        self._register()

    def run(self) -> None:
        """Run the faust worker until SIGTERM/SIGINT."""

        json_logs = self.settings.log_format == "json"

        class Worker(faust.Worker):
            def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
                # faust's terminal spinner sets the root logger to DEBUG so that it spins on
                # every record; that builds a log record for every message sent (a tenth of the
                # CPU)
                self.spinner = None
                if json_logs:
                    configure_logging("json")

        Worker(self.app, loglevel=self.loglevel).execute_from_commandline()

    # -- wiring ---------------------------------------------------------------------------
    def _register(self) -> None:
        ws = self.settings.worker
        self.app.agent(self._inputs, name="merge", concurrency=1)(self._merge_agent)
        self.app.agent(self._genealogy, name="genealogy", concurrency=1)(self._genealogy_agent)
        self.app.timer(ws.settle_check_s, name="reconciliation-due")(self._send_due)
        self.app.timer(ws.checkpoint_interval_s, name="publish-chains")(self._publish)
        self.app.on_partitions_revoked.connect(self._on_revoked)
        if self.probe is not None:
            self.probe.watch_assignment()
            self.app.on_partitions_assigned.connect(self._on_assigned)

    async def _on_assigned(self, *_: Any, **__: Any) -> None:
        if self.probe is not None:
            self.probe.assigned.set()

    async def _on_revoked(self, *_: Any, **__: Any) -> None:
        await self._publish()
        self.processor.cache.clear()

    # -- merge ----------------------------------------------------------------------------
    def _load(self, code: str) -> Any:
        with _in_partition_of(self._events_by_code[code]):
            data = self.chains.get(code.encode())
        return state.decode_chain(data) if data is not None else None

    async def _merge_agent(self, stream: faust.StreamT[bytes]) -> None:
        ws = self.settings.worker
        self._stream = stream
        buffers = stream.take_events(ws.take_max, within=ws.take_within_s)  # type: ignore[attr-defined]
        async for events in buffers:
            started = time.perf_counter()
            for event in events:  # held: take_events' own ack leaves them to _publish
                event.message.incref()
            records = [_incoming(e) for e in events]
            self._events_by_code = {}
            for event, record in zip(events, records, strict=True):
                if record.key is not None:
                    self._events_by_code[record.key.decode("utf-8", "replace")] = event
            result = await process_when_decodable(self.processor.process, records)
            outputs = self._perform(result, events)
            if self.probe is not None:
                self._observe(events, records, started, outputs)

    def _observe(
        self,
        events: list[faust.EventT[bytes]],
        records: list[Incoming],
        started: float,
        outputs: list[Output],
    ) -> None:
        if self.probe is None:
            return
        oldest = min((e.message.timestamp for e in events), default=0.0) * 1000
        self.probe.buffer("streams.merge", records, oldest, started, outputs)
        positions: dict[tuple[str, int], tuple[int, int | None]] = {}
        for event in events:
            tp = event.message.tp
            try:
                high = self.app.consumer.highwater(tp)
            except (AttributeError, KeyError, RuntimeError):  # not known (yet)
                high = None
            positions[(tp.topic, tp.partition)] = (event.message.offset + 1, high)
        self.probe.lag(positions)

    def _perform(self, result: StepResult, events: list[faust.EventT[bytes]]) -> list[Output]:
        for code in result.chains:
            with _in_partition_of(self._events_by_code[code]):
                self.chains[code.encode()] = result.encoded[code]
        self._track_pending(result.pending)
        outputs = self.io.outputs(self._coalescer.add(result, events))
        for output in outputs:
            self._send(output)
        return outputs

    async def _publish(self) -> None:
        """The latest view of every batch changed since the last call; then ack their records."""
        pending = self._coalescer.take()
        if not len(pending):
            return
        chains = [self.io.chain(view) for view in pending.views.values()]
        for output in chains:
            self._send(output)
        await self._out.flush()
        if self.probe is not None:
            self.probe.sent("streams.merge", chains)
        stream = self._stream
        if stream is not None:
            for event in pending.tokens:
                await stream.ack(event)

    def _send(self, output: Output) -> None:
        self._out.send(output.topic, output.key, output.value, output.headers)

    def _track_pending(self, pending: dict[str, bool]) -> None:
        due_ms = now_ms() + int(self.rules.settle_seconds * 1000)
        for code, awaiting in pending.items():
            key = code.encode()
            with _in_partition_of(self._events_by_code[code]):
                if awaiting and self.pending.get(key) is None:
                    self.pending[key] = str(due_ms).encode()
                elif not awaiting and self.pending.get(key) is not None:
                    del self.pending[key]
                    self._due_sent.discard(code)

    # -- genealogy ------------------------------------------------------------------------
    def _load_node(self, lot_code: str) -> Any:
        data = self.lots.get(lot_code.encode())
        return state.decode_node(data) if data is not None else None

    async def _genealogy_agent(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            started = time.perf_counter()
            record = _incoming(event)
            result = self.lineage.process([record])
            letters = [self.io.dead_letter(letter) for letter in result.dead_letters]
            derived = [self.io.derived(child_event) for child_event in result.derived]
            # Outputs delivered before the nodes reach the table's changelog: a worker killed in
            # between re-reads the record and, its node unchanged, derives the holds again (one
            # record each, deterministic ids). The other order lost them: the node recovered
            # with the hold, nothing changed, nothing derived.
            delivered = [await self._send_now(self._dlq, output) for output in letters]
            delivered += [await self._send_now(self._derived, output) for output in derived]
            for pending in delivered:
                await pending
            for code, node in result.nodes.items():
                self.lots[code.encode()] = state.encode_node(node)
            if self.probe is not None:
                oldest = event.message.timestamp * 1000
                outputs = [*letters, *derived]
                self.probe.buffer("streams.genealogy", [record], oldest, started, outputs)

    async def _send_now(self, topic: faust.TopicT, output: Output) -> Awaitable[Any]:
        """Hand ``output`` to the producer; the returned awaitable resolves on the broker's ack."""
        return await topic.send(key=output.key, value=output.value, headers=output.headers)

    # -- reconciliation deadlines ---------------------------------------------------------
    async def _send_due(self) -> None:
        now = now_ms()
        for key, value in list(self.pending.items()):
            code = key.decode()
            if code in self._due_sent or int(value) > now:
                continue
            await self._send_now(self._derived, self.io.reconciliation_due(code, now))
            self._due_sent.add(code)


def _faust_app(settings: Settings) -> faust.App:
    """The faust application: at-least-once, raw topics, state under the worker's folder."""
    ws = settings.worker
    datadir = state_dir(settings)
    datadir.parent.mkdir(parents=True, exist_ok=True)
    return faust.App(
        ws.app_id,
        broker=f"kafka://{settings.kafka.bootstrap_servers}",
        broker_credentials=_credentials(settings),
        store=ws.store,
        datadir=str(datadir),
        processing_guarantee="at_least_once",
        topic_replication_factor=ws.replication_factor,
        topic_partitions=settings.source_partitions,
        topic_allow_declare=True,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        broker_session_timeout=ws.session_timeout_ms / 1000,
        web_enabled=False,
        autodiscover=False,
        producer_acks=-1,
        # chains are published (and their records acked) by a timer that stops before the
        # consumer does, so waiting at shutdown for every record to be acked can hang until the
        # supervisor kills the worker; un-acked records are re-read after a restart
        # (at-least-once, merges are idempotent), and a rebalance publishes first (_on_revoked)
        stream_wait_empty=False,
    )


def _incoming(event: faust.EventT[bytes]) -> Incoming:
    message = event.message
    return Incoming(message.key, message.value, message.topic, message.partition, message.offset)


def _credentials(settings: Settings) -> faust.SASLCredentials | None:
    """TLS and SASL/SCRAM for aiokafka, from the one Kafka-settings module (None: PLAINTEXT)."""
    login = aiokafka_security(settings.kafka)
    return faust.SASLCredentials(**login) if login else None
