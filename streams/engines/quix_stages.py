"""The quix engine's stages: buffers that run the processors once per checkpoint, and the timer.

Quix Streams calls every sink's ``flush()`` when it commits a checkpoint, before it produces the
state changelogs, flushes the producer and commits the offsets (in one Kafka transaction with
exactly-once). A stage is such a sink: it keeps the records of the checkpoint, and its flush
merges them (one processor call per partition: each changed chain is viewed, stored and published
once per checkpoint), writes the partition's state through the checkpoint's store transaction and
sends the outputs through the application's producer. A crash before the commit loses nothing:
the records are read again and the state is recovered to the committed offsets.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from quixstreams.processing import ProcessingContext
from quixstreams.sinks import BaseSink
from quixstreams.state.base import PartitionTransaction, StorePartition

from streams import state
from streams.domain.chain import TraceChain
from streams.domain.genealogy import LotNode
from streams.engines.base import Output, RecordIO, now_ms
from streams.engines.deadlines import Deadlines
from streams.lineage import LineageProcessor
from streams.observe import WorkerProbe
from streams.processor import ChainProcessor, Incoming

log = logging.getLogger(__name__)

CHAIN = b"chain"
DEADLINE = b"deadline"
LOT = b"lot"


class Prefixed:
    """A store transaction's keys under one prefix, bytes in and out."""

    def __init__(self, transaction: PartitionTransaction[Any, Any], prefix: bytes) -> None:
        self._tx = transaction
        self._prefix = prefix

    def get(self, key: bytes) -> bytes | None:
        return self._tx.get_bytes(key, prefix=self._prefix)

    def set(self, key: bytes, value: bytes) -> None:
        self._tx.set_bytes(key, value, prefix=self._prefix)

    def delete(self, key: bytes) -> None:
        self._tx.delete(key, prefix=self._prefix)


class Stage(BaseSink):
    """Records of the open checkpoint of one stream, processed when it commits."""

    def __init__(self, context: ProcessingContext, stream_id: str, store_name: str) -> None:
        super().__init__(on_client_connect_success=lambda: None)
        self._context = context
        self._stream_id = stream_id
        self._store_name = store_name
        self._records: list[Incoming] = []
        self._assignment: dict[int, StorePartition] = {}
        self.probe: WorkerProbe | None = None
        """Set by the engine: metrics of every flushed buffer."""
        self._oldest_ms = 0
        self._sent: list[Output] = []

    def __repr__(self) -> str:
        return f"<Stage {self._stream_id}>"

    def add(  # noqa: PLR0917 (Quix Streams' signature)
        self,
        value: Any,
        key: Any,
        timestamp: int,
        headers: Any,
        topic: str,
        partition: int,
        offset: int,
    ) -> None:
        self._records.append(Incoming(key, value, topic, partition, offset))
        if timestamp and (timestamp < self._oldest_ms or not self._oldest_ms):
            self._oldest_ms = timestamp

    def flush(self) -> None:
        started = time.perf_counter()
        records, self._records = self._records, []
        self._process_all(records)
        oldest, self._oldest_ms = self._oldest_ms, 0
        sent, self._sent = self._sent, []
        if self.probe is not None and records:
            self.probe.buffer(f"streams.{self._stream_id}", records, oldest, started, sent)

    def _process_all(self, records: list[Incoming]) -> None:
        assigned = self._assigned()
        by_partition: dict[int, list[Incoming]] = {}
        for record in records:
            by_partition.setdefault(record.partition, []).append(record)
        for partition, batch in sorted(by_partition.items()):
            if partition not in assigned:  # lost in a rebalance: its new owner reads them again
                log.warning(
                    "%s: partition %d no longer assigned, %d records left",
                    self,
                    partition,
                    len(batch),
                )
                continue
            transaction = self._context.checkpoint.get_store_transaction(
                self._stream_id, partition, self._store_name
            )
            self.process(partition, batch, transaction)

    def on_paused(self) -> None:
        self._records.clear()
        self._oldest_ms = 0

    def process(
        self, partition: int, records: list[Incoming], transaction: PartitionTransaction[Any, Any]
    ) -> None:
        raise NotImplementedError

    def reassigned(self) -> None:
        """Called when the store's partitions changed since the last flush."""

    def send(self, output: Output) -> None:
        self._context.producer.produce(
            topic=output.topic, key=output.key, value=output.value, headers=output.headers
        )
        if self.probe is not None:
            self._sent.append(output)

    def _assigned(self) -> set[int]:
        store = self._context.state_manager.get_store(self._stream_id, self._store_name)
        assignment = dict(store.partitions)
        # a partition given up and assigned again has a new StorePartition (the references kept
        # here keep old ones alive, so identity cannot be confused by a reused address)
        same = assignment.keys() == self._assignment.keys() and all(
            assignment[p] is self._assignment[p] for p in assignment
        )
        if not same:
            self._assignment = assignment
            self.reassigned()
        return set(assignment)


class MergeStage(Stage):
    """Source and derived records into chains, their outputs, and the waiting batches."""

    def __init__(
        self,
        context: ProcessingContext,
        stream_id: str,
        store_name: str,
        *,
        io: RecordIO,
        make_processor: Callable[[Callable[[str], TraceChain | None]], ChainProcessor],
        settle_ms: int,
    ) -> None:
        super().__init__(context, stream_id, store_name)
        self._io = io
        self._settle_ms = settle_ms
        self._chains: Prefixed | None = None
        self.processor = make_processor(self._load)

    def reassigned(self) -> None:
        # chains cached from partitions this worker gave up may be stale when they come back
        self.processor.cache.clear()

    def _load(self, code: str) -> TraceChain | None:
        if self._chains is None:  # loads happen only inside process()
            raise RuntimeError("chain state read outside a partition transaction")
        data = self._chains.get(code.encode())
        return state.decode_chain(data) if data is not None else None

    def process(
        self, partition: int, records: list[Incoming], transaction: PartitionTransaction[Any, Any]
    ) -> None:
        self._chains = chains = Prefixed(transaction, CHAIN)
        result = self.processor.process(records)
        for code in result.chains:
            chains.set(code.encode(), result.encoded[code])
        if result.pending:
            deadlines = Deadlines(Prefixed(transaction, DEADLINE))
            deadlines.track(result.pending, now_ms() + self._settle_ms)
        for output in self._io.outputs(result):
            self.send(output)


class LineageStage(Stage):
    """Genealogy messages into the lots' where-used nodes, and the events derived for children."""

    def __init__(
        self, context: ProcessingContext, stream_id: str, store_name: str, io: RecordIO
    ) -> None:
        super().__init__(context, stream_id, store_name)
        self._io = io
        self._lots: Prefixed | None = None
        self.processor = LineageProcessor(load=self._load)

    def _load(self, lot_code: str) -> LotNode | None:
        if self._lots is None:  # loads happen only inside process()
            raise RuntimeError("lot state read outside a partition transaction")
        data = self._lots.get(lot_code.encode())
        return state.decode_node(data) if data is not None else None

    def process(
        self, partition: int, records: list[Incoming], transaction: PartitionTransaction[Any, Any]
    ) -> None:
        self._lots = lots = Prefixed(transaction, LOT)
        result = self.processor.process(records)
        for code, node in result.nodes.items():
            lots.set(code.encode(), state.encode_node(node))
        for letter in result.dead_letters:
            self.send(self._io.dead_letter(letter))
        for event in result.derived:
            self.send(self._io.derived(event))


class DeadlineTimer:
    """A periodic task of the run loop: ``RECONCILIATION_DUE`` to every batch that fell due.

    It runs between polls, in the open checkpoint: the emptied buckets and the sent events are
    committed with it.
    """

    def __init__(
        self,
        context: ProcessingContext,
        stream_id: str,
        store_name: str,
        *,
        io: RecordIO,
        every_s: float,
    ) -> None:
        self._context = context
        self._stream_id = stream_id
        self._store_name = store_name
        self._io = io
        self._every_s = every_s
        self._next = 0.0

    def tick(self) -> None:
        if time.monotonic() < self._next:
            return
        self._next = time.monotonic() + self._every_s
        manager = self._context.state_manager
        if manager.recovery_required:  # a partition's state is not recovered yet
            return
        now = now_ms()
        for partition in sorted(manager.get_store(self._stream_id, self._store_name).partitions):
            transaction = self._context.checkpoint.get_store_transaction(
                self._stream_id, partition, self._store_name
            )
            for code in Deadlines(Prefixed(transaction, DEADLINE)).take_due(now):
                output = self._io.reconciliation_due(code, now)
                self._context.producer.produce(
                    topic=output.topic, key=output.key, value=output.value
                )
