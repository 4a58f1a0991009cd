"""Process a buffer of records from the source and derived topics into chain updates.

Framework-free: the faust agent hands over :class:`Incoming` records (bytes plus their origin) and
performs the returned :class:`StepResult` — tables to write, chain views, alerts and genealogy
messages to publish, records to dead-letter. Decoding failures and domain failures are data here
(dead letters carrying the reason), never exceptions escaping to the agent.

Re-delivery after a crash: a record that is already the winning version of its chain changes
nothing, yet its chain's outputs may not have reached Kafka before the crash. So when a buffer
holds such a record, the chain's current view, alerts and genealogy messages are emitted again;
every consumer of them is idempotent (version-guarded upserts, stable alert ids).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from streams.domain import reconcile
from streams.domain.alerts import Alert, alerts_between
from streams.domain.chain import TraceChain, merge_all
from streams.domain.events import Event
from streams.domain.genealogy import GenealogyMessage, messages_for_change
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import ChainView, view_of
from tracesync.errors import RecordError, RecordOrigin

STAGE = "streams"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One record as consumed: raw key and value, and where it was read."""

    key: bytes | None
    value: bytes | None
    topic: str
    partition: int
    offset: int

    @property
    def origin(self) -> RecordOrigin:
        return RecordOrigin(self.topic, self.partition, self.offset)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """A record that could not be processed, and why."""

    record: Incoming
    reason: str
    stage: str = STAGE


@dataclass
class StepResult:
    """What the agent must do after one buffer."""

    chains: dict[str, TraceChain] = field(default_factory=dict)
    views: list[ChainView] = field(default_factory=list)
    alerts: list[Alert] = field(default_factory=list)
    genealogy: list[GenealogyMessage] = field(default_factory=list)
    pending: dict[str, bool] = field(default_factory=dict)
    dead_letters: list[DeadLetter] = field(default_factory=list)


Decoder = Callable[[Incoming], Event]
Loader = Callable[[str], TraceChain | None]


class ChainCache:
    """A bounded LRU of chains and their views, so hot batches skip decoding and re-deriving."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, tuple[TraceChain, ChainView | None]] = OrderedDict()

    def get(self, code: str) -> tuple[TraceChain, ChainView | None] | None:
        item = self._items.get(code)
        if item is not None:
            self._items.move_to_end(code)
        return item

    def put(self, code: str, chain: TraceChain, view: ChainView | None) -> None:
        self._items[code] = (chain, view)
        self._items.move_to_end(code)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


class ChainProcessor:
    """Decode, group by batch, merge, and derive the outputs of one buffer of records."""

    def __init__(
        self,
        *,
        decode: Decoder,
        load: Loader,
        rules: ReconciliationRules,
        cache_size: int = 2048,
    ) -> None:
        self._decode = decode
        self._load = load
        self._rules = rules
        self.cache = ChainCache(cache_size)

    def process(self, records: Sequence[Incoming]) -> StepResult:
        result = StepResult()
        groups: dict[str, list[tuple[Incoming, Event]]] = {}
        for record in records:
            event = self._decode_one(record, result)
            if event is not None:
                groups.setdefault(event.batch_code, []).append((record, event))
        for code, items in groups.items():
            try:
                self._apply(code, [e for _, e in items], result)
            except Exception as exc:  # a domain bug must not stop the worker: park the records
                reason = f"merge failed: {type(exc).__name__}: {exc}"
                result.dead_letters.extend(DeadLetter(r, reason) for r, _ in items)
        return result

    def _decode_one(self, record: Incoming, result: StepResult) -> Event | None:
        try:
            event = self._decode(record)
        except RecordError as exc:
            result.dead_letters.append(DeadLetter(record, exc.describe()))
            return None
        except Exception as exc:
            reason = f"undecodable: {type(exc).__name__}: {exc}"
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        if key != event.batch_code:
            reason = f"key {key!r} does not match batch_code {event.batch_code!r}"
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        return event

    def _current(self, code: str) -> tuple[TraceChain, ChainView | None]:
        cached = self.cache.get(code)
        if cached is not None:
            return cached
        chain = self._load(code) or TraceChain(code)
        view = view_of(chain, self._rules) if chain.records else None
        return chain, view

    def _apply(self, code: str, events: list[Event], result: StepResult) -> None:
        before, before_view = self._current(code)
        after = merge_all(before, events)
        if after is before:
            if before_view is not None and _redelivers_a_winner(before, events):
                self._emit(before_view, None, result)
            self.cache.put(code, before, before_view)
            return
        after_view = view_of(after, self._rules)
        self.cache.put(code, after, after_view)
        result.chains[code] = after
        self._emit(after_view, before_view, result)

    def _emit(self, view: ChainView, before: ChainView | None, result: StepResult) -> None:
        result.views.append(view)
        result.alerts.extend(alerts_between(before, view))
        result.genealogy.extend(messages_for_change(before, view))
        awaiting = view.reconciliation.status == reconcile.PENDING
        was_awaiting = before is not None and before.reconciliation.status == reconcile.PENDING
        if awaiting != was_awaiting or before is None:
            result.pending[view.batch_code] = awaiting


def _redelivers_a_winner(chain: TraceChain, events: list[Event]) -> bool:
    for event in events:
        current = chain.records.get(event.record_key)
        if current is not None and current.event_id == event.event_id:
            return True
    return False
