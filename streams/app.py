"""The faust-streaming worker: thin agents around :mod:`streams.processor` and the genealogy.

Agents (``concurrency=1``, at-least-once):

- ``merge`` reads the four source topics and the derived topic — all co-partitioned, keyed by
  batch code — in buffers, and merges them into the ``chains`` table (one chain per batch). It
  publishes each changed chain to the chain topic, raises alerts, tells the genealogy about new
  parent links and changed holds, and remembers batches awaiting reconciliation.
- ``genealogy`` reads the genealogy topic (keyed by lot code) into the ``lots`` table, the
  where-used index, and sends inherited holds to the children on the derived topic.
- a timer sends ``RECONCILIATION_DUE`` to batches whose settle time has passed.

The merge agent's outputs go through a librdkafka producer flushed once per buffer
(:mod:`streams.output`). Anything that fails for one record goes to the streams dead-letter topic
with the reason, the stage and the origin (topic, partition, offset) in its headers; the agents
never stop for it.
"""

from __future__ import annotations

import contextlib
import logging
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import faust
from faust.streams import _current_event

from streams import state
from streams.domain import genealogy as gen
from streams.domain.alerts import Alert
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import ChainView
from streams.output import OutputProducer
from streams.processor import ChainProcessor, DeadLetter, Incoming, StepResult
from streams.records import alert_record, chain_record
from tracesync.deadletter import dead_letter_headers
from tracesync.settings import Settings

log = logging.getLogger(__name__)

TABLES = ("chains", "lots", "pending")
"""The worker's tables; each has a compacted changelog topic ``<app_id>-<table>-changelog``."""

RecordEncoder = Callable[[dict[str, Any]], bytes]
EventDecoder = Callable[[Incoming], Any]


@dataclass(frozen=True)
class WorkerTopics:
    """Names of the topics the worker reads and writes."""

    sources: tuple[str, ...]
    derived: str
    genealogy: str
    chain: str
    alerts: str
    dead_letter: str


@dataclass(frozen=True)
class WorkerCodecs:
    """How source envelopes are decoded and chain/alert records encoded on the wire."""

    decode_envelope: Callable[[Incoming], dict[str, Any]]
    encode_chain: RecordEncoder
    encode_alert: RecordEncoder


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


class TraceWorker:
    """The faust app with its topics, tables and agents, built from settings."""

    def __init__(self, settings: Settings, topics: WorkerTopics, codecs: WorkerCodecs) -> None:
        ws = settings.worker
        self.settings = settings
        self.topics = topics
        self.codecs = codecs
        self.rules = ReconciliationRules(tolerance=ws.tolerance, settle_seconds=ws.settle_s)
        datadir = (settings.home / "worker" / ws.app_id).resolve()
        datadir.parent.mkdir(parents=True, exist_ok=True)
        self.app = faust.App(
            ws.app_id,
            broker=f"kafka://{settings.kafka.bootstrap_servers}",
            store=ws.store,
            datadir=str(datadir),
            processing_guarantee="at_least_once",
            topic_replication_factor=ws.replication_factor,
            topic_partitions=settings.source_partitions,
            topic_allow_declare=True,
            consumer_auto_offset_reset="earliest",
            broker_commit_interval=1.0,
            web_enabled=False,
            autodiscover=False,
            producer_acks=-1,
        )
        raw: dict[str, Any] = {"key_type": bytes, "value_type": bytes}
        raw |= {"key_serializer": "raw", "value_serializer": "raw"}
        self._inputs = self.app.topic(*topics.sources, topics.derived, **raw)
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
            decode=self._decode, load=self._load, rules=self.rules, cache_size=ws.cache_size
        )
        self._events_by_code: dict[str, faust.EventT[bytes]] = {}
        self._due_sent: set[str] = set()
        self._register()

    # -- wiring ---------------------------------------------------------------------------
    def _register(self) -> None:
        ws = self.settings.worker
        self.app.agent(self._inputs, name="merge", concurrency=1)(self._merge_agent)
        self.app.agent(self._genealogy, name="genealogy", concurrency=1)(self._genealogy_agent)
        self.app.timer(ws.settle_check_s, name="reconciliation-due")(self._send_due)
        self.app.on_partitions_revoked.connect(self._on_revoked)

    async def _on_revoked(self, *_: Any, **__: Any) -> None:
        self.processor.cache.clear()

    # -- merge ----------------------------------------------------------------------------
    def _decode(self, record: Incoming) -> Any:
        if record.topic == self.topics.derived:
            return state.decode_event(record.value or b"")
        return state.event_from_envelope(self.codecs.decode_envelope(record))

    def _load(self, code: str) -> Any:
        with _in_partition_of(self._events_by_code[code]):
            data = self.chains.get(code.encode())
        return state.decode_chain(data) if data is not None else None

    async def _merge_agent(self, stream: faust.StreamT[bytes]) -> None:
        ws = self.settings.worker
        buffers = stream.take_events(ws.take_max, within=ws.take_within_s)  # type: ignore[attr-defined]
        async for events in buffers:
            records = [_incoming(e) for e in events]
            self._events_by_code = {}
            for event, record in zip(events, records, strict=True):
                if record.key is not None:
                    self._events_by_code[record.key.decode("utf-8", "replace")] = event
            result = self.processor.process(records)
            await self._perform(result)

    async def _perform(self, result: StepResult) -> None:
        for code, chain in result.chains.items():
            with _in_partition_of(self._events_by_code[code]):
                self.chains[code.encode()] = state.encode_chain(chain)
        self._track_pending(result.pending)
        for view in result.views:
            self._publish_chain(view)
        for alert in result.alerts:
            self._publish_alert(alert)
        for message in result.genealogy:
            self._out.send(
                self.topics.genealogy, message.lot_code.encode(), state.encode_message(message)
            )
        for letter in result.dead_letters:
            self._dead_letter(letter)
        await self._out.flush()

    def _track_pending(self, pending: dict[str, bool]) -> None:
        now_ms = int(time.time() * 1000)
        due_ms = now_ms + int(self.rules.settle_seconds * 1000)
        for code, awaiting in pending.items():
            key = code.encode()
            with _in_partition_of(self._events_by_code[code]):
                if awaiting and self.pending.get(key) is None:
                    self.pending[key] = str(due_ms).encode()
                elif not awaiting and self.pending.get(key) is not None:
                    del self.pending[key]
                    self._due_sent.discard(code)

    def _publish_chain(self, view: ChainView) -> None:
        try:
            value = self.codecs.encode_chain(chain_record(view))
        except Exception as exc:  # a chain that cannot be encoded is a bug; keep going
            log.exception("cannot encode chain %s", view.batch_code)
            record = Incoming(view.batch_code.encode(), None, self.topics.chain, -1, -1)
            self._dead_letter(DeadLetter(record, f"chain not encodable: {exc}"))
            return
        self._out.send(self.topics.chain, view.batch_code.encode(), value)

    def _publish_alert(self, alert: Alert) -> None:
        value = self.codecs.encode_alert(alert_record(alert))
        self._out.send(self.topics.alerts, alert.batch_code.encode(), value)

    def _dead_letter(self, letter: DeadLetter) -> None:
        log.warning("dead letter from %s: %s", letter.record.origin.describe(), letter.reason)
        self._out.send(
            self.topics.dead_letter,
            letter.record.key,
            letter.record.value,
            dead_letter_headers(letter),
        )

    # -- genealogy ------------------------------------------------------------------------
    async def _genealogy_agent(self, stream: faust.StreamT[bytes]) -> None:
        async for event in stream.events():
            record = _incoming(event)
            try:
                message = state.decode_message(record.value or b"")
                key = message.lot_code.encode()
                data = self.lots.get(key)
                node = (
                    state.decode_node(data) if data is not None else gen.LotNode(message.lot_code)
                )
                new_node, derived = gen.apply(node, message)
                if new_node is not node:
                    self.lots[key] = state.encode_node(new_node)
            except Exception as exc:
                letter = DeadLetter(record, f"genealogy failed: {exc}")
                await self._dlq.send(
                    key=record.key, value=record.value, headers=dead_letter_headers(letter)
                )
                continue
            for child_event in derived:
                await self._derived.send(
                    key=child_event.batch_code.encode(), value=state.encode_event(child_event)
                )

    # -- reconciliation deadlines ---------------------------------------------------------
    async def _send_due(self) -> None:
        now_ms = int(time.time() * 1000)
        for key, value in list(self.pending.items()):
            code = key.decode()
            if code in self._due_sent or int(value) > now_ms:
                continue
            due = gen.reconciliation_due_event(code, self.settings.plant, state.from_millis(now_ms))
            await self._derived.send(key=key, value=state.encode_event(due))
            self._due_sent.add(code)


def _incoming(event: faust.EventT[bytes]) -> Incoming:
    message = event.message
    return Incoming(message.key, message.value, message.topic, message.partition, message.offset)
