"""Process a buffer of records from the source and derived topics into chain updates.

Framework-free: the faust agent hands over :class:`Incoming` records (bytes plus their origin) and
performs the returned :class:`StepResult` — tables to write, chain views, alerts and genealogy
messages to publish, records to dead-letter. Decoding failures and domain failures are data here
(dead letters carrying the reason), never exceptions escaping to the agent, with one exception:
an :class:`~tracesync.errors.InfrastructureError` while decoding (the schema registry cannot be
reached for a schema not cached yet) is not the record's fault. It escapes, so the engine commits
nothing (quix: the worker stops and its restart reads the record again; faust: the engine retries
the buffer until the registry answers); dead-lettering it would drop a good event from its chain.

Re-delivery after a crash: a record that is already the winning version of its chain changes
nothing, yet its chain's outputs may not have reached Kafka before the crash. So when a buffer
holds such a record, the chain's current view, alerts and genealogy messages are emitted again;
every consumer of them is idempotent (version-guarded upserts, stable alert ids).

Conflicts: an event that claims the ``source_seq`` its record already holds in the chain, with
other content (:mod:`streams.domain.conflicts`), is dead-lettered with the reason; the chain keeps
the version it holds. Within a buffer the records of one partition keep their arrival order, so
the first version to arrive wins, on every replay alike.

Size limits (:class:`ChainLimits`, docs/streams.md): a record larger than ``max_event_bytes`` or
with a text value larger than ``max_field_bytes`` is dead-lettered before it is merged; so is an
event that would grow its chain's encoded state beyond ``max_chain_bytes`` (the chain stays as it
was without it). The processor encodes every changed chain (``StepResult.encoded``), so the state
an engine stores is exactly what was measured, and state, changelog and chain topic stay in step.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import orjson

from streams import state
from streams.domain import reconcile
from streams.domain.alerts import Alert, alerts_between
from streams.domain.chain import TraceChain, merge_split
from streams.domain.conflicts import SeqConflict
from streams.domain.events import Event
from streams.domain.genealogy import GenealogyMessage, messages_for_change
from streams.domain.limits import code_problem, oversized_field
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import ChainView, Derivation, derive, rederive
from streams.stages import DECODE, LOAD, MERGE, NO_CLOCK, VIEW, StageClock
from tracesync.errors import InfrastructureError, RecordError, RecordOrigin

STAGE = "streams"
_T = TypeVar("_T")


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
    encoded: dict[str, bytes] = field(default_factory=dict)
    """The state to store for each chain of ``chains``, as measured against the chain limit."""


@dataclass(frozen=True, slots=True)
class ChainLimits:
    """How much one record and one chain may hold (``worker.max_*_bytes`` in the settings)."""

    max_field_bytes: int = 64 * 1024
    max_event_bytes: int = 768 * 1024
    max_chain_bytes: int = 900_000


Decoder = Callable[[Incoming], Event]
Loader = Callable[[str], TraceChain | None]
ChainEncoder = Callable[[TraceChain], bytes]
_Group = list[tuple[Incoming, Event]]


class ChainCache:
    """A bounded LRU of chains with their views, so hot batches skip loading and re-deriving."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._items: OrderedDict[str, Derivation] = OrderedDict()

    def get(self, code: str) -> Derivation | None:
        item = self._items.get(code)
        if item is not None:
            self._items.move_to_end(code)
        return item

    def put(self, code: str, derivation: Derivation) -> None:
        self._items[code] = derivation
        self._items.move_to_end(code)
        while len(self._items) > self._size:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()


@dataclass(frozen=True, slots=True)
class _Current:
    """A chain before the buffer, and its derivation (None while it has no records)."""

    chain: TraceChain
    derivation: Derivation | None


class ChainProcessor:
    """Decode, group by batch, merge, and derive the outputs of one buffer of records.

    A buffer goes through four stages, each over all its chains: decode every record, load each
    chain (cache, else ``load``), merge each chain's events, and derive each changed chain's view
    once (incrementally from the cached one) with its alerts and genealogy messages. ``clock``
    times the stages (for the benchmark).
    """

    def __init__(
        self,
        *,
        decode: Decoder,
        load: Loader,
        rules: ReconciliationRules,
        encode_chain: ChainEncoder = state.encode_chain,
        limits: ChainLimits = ChainLimits(),
        cache_size: int = 2048,
        clock: StageClock = NO_CLOCK,
    ) -> None:
        self._decode = decode
        self._load = load
        self._rules = rules
        self._encode_chain = encode_chain
        self.limits = limits
        self.cache = ChainCache(cache_size)
        self._clock = clock

    def process(self, records: Sequence[Incoming]) -> StepResult:
        result = StepResult()
        clock = self._clock
        started = clock.now()
        groups: dict[str, _Group] = {}
        for record in records:
            event = self._decode_one(record, result)
            if event is not None:
                groups.setdefault(event.batch_code, []).append((record, event))
        started = clock.lap(DECODE, started)
        current = self._each(groups, result, lambda code, _: self._current(code))
        started = clock.lap(LOAD, started)
        encoded: dict[str, bytes] = {}
        merged = self._each(
            groups,
            result,
            lambda code, items: self._merge_bounded(current[code].chain, items, encoded, result),
        )
        started = clock.lap(MERGE, started)
        self._each(
            groups,
            result,
            lambda code, items: self._apply(current[code], merged[code], items, encoded, result),
        )
        clock.lap(VIEW, started)
        return result

    def _each(
        self, groups: dict[str, _Group], result: StepResult, step: Callable[[str, _Group], _T]
    ) -> dict[str, _T]:
        """``step`` for every group; a group whose step fails is dead-lettered and dropped."""
        out: dict[str, _T] = {}
        for code, items in list(groups.items()):
            try:
                out[code] = step(code, items)
            except Exception as exc:  # a domain bug must not stop the worker: park the records
                reason = f"merge failed: {type(exc).__name__}: {exc}"
                result.dead_letters.extend(DeadLetter(r, reason) for r, _ in items)
                del groups[code]
        return out

    def _merge_bounded(
        self, chain: TraceChain, items: _Group, encoded: dict[str, bytes], result: StepResult
    ) -> TraceChain:
        """``chain`` with the group's events, within the chain limit; ``items`` keeps the merged.

        An event that conflicts with the version its record holds is dead-lettered with the
        reason. When all events together would make the chain too large, they are merged one by
        one (in arrival order) and each that would push it over the limit is dead-lettered.
        """
        merged = merge_split(chain, _events(items))
        after = merged.chain
        if after is not chain:
            data = self._encode_chain(after)
            if len(data) > self.limits.max_chain_bytes:
                return self._merge_one_by_one(chain, items, encoded, result)
            encoded[after.batch_code] = data
        if merged.conflicts:
            _refuse(merged.conflicts, items, result)
        return after

    def _merge_one_by_one(
        self, chain: TraceChain, items: _Group, encoded: dict[str, bytes], result: StepResult
    ) -> TraceChain:
        kept: _Group = []
        after, data, limit = chain, b"", self.limits.max_chain_bytes
        for record, event in items:
            candidate = merge_split(after, [event])
            if candidate.conflicts:
                (conflict,) = candidate.conflicts
                result.dead_letters.append(DeadLetter(record, conflict.reason))
                continue
            if candidate.chain is after:
                kept.append((record, event))
                continue
            candidate_data = self._encode_chain(candidate.chain)
            if len(candidate_data) > limit:
                reason = (
                    f"chain {chain.batch_code!r} would grow to {len(candidate_data)} bytes with "
                    f"this event, beyond the limit of {limit} bytes (worker.max_chain_bytes)"
                )
                result.dead_letters.append(DeadLetter(record, reason))
                continue
            after, data = candidate.chain, candidate_data
            kept.append((record, event))
        items[:] = kept
        if after is not chain:
            encoded[after.batch_code] = data
        return after

    def _decode_one(self, record: Incoming, result: StepResult) -> Event | None:
        size, limits = len(record.value or b""), self.limits
        if size > limits.max_event_bytes:
            reason = (
                f"event of {size} bytes exceeds the limit of {limits.max_event_bytes} bytes "
                "(worker.max_event_bytes)"
            )
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        try:
            event = self._decode(record)
        except RecordError as exc:
            result.dead_letters.append(DeadLetter(record, exc.describe()))
            return None
        except InfrastructureError:
            raise  # the registry is away: the record is good, it must be read again, not parked
        except Exception as exc:
            reason = f"undecodable: {type(exc).__name__}: {exc}"
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        key = record.key.decode("utf-8", "replace") if record.key is not None else None
        if key != event.batch_code:
            reason = f"key {key!r} does not match batch_code {event.batch_code!r}"
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        problem = _field_problem(event, limits.max_field_bytes)
        if problem is not None:
            reason = f"{problem} (worker.max_field_bytes)" if "limit" in problem else problem
            result.dead_letters.append(DeadLetter(record, reason))
            return None
        return event

    def _current(self, code: str) -> _Current:
        cached = self.cache.get(code)
        if cached is not None:
            return _Current(cached.chain, cached)
        chain = self._load(code) or TraceChain(code)
        return _Current(chain, derive(chain, self._rules) if chain.records else None)

    def _apply(
        self,
        before: _Current,
        after: TraceChain,
        items: _Group,
        encoded: dict[str, bytes],
        result: StepResult,
    ) -> None:
        code, previous = after.batch_code, before.derivation
        if after is before.chain:
            if previous is not None:
                if _redelivers_a_winner(before.chain, _events(items)):
                    self._emit(previous.view, None, result)
                self.cache.put(code, previous)
            return
        if previous is None:
            derivation = derive(after, self._rules)
        else:
            touched = [event.record_key for _, event in items]
            derivation = rederive(previous, after, self._rules, touched)
        self.cache.put(code, derivation)
        result.chains[code] = after
        result.encoded[code] = encoded[code]
        self._emit(derivation.view, previous.view if previous is not None else None, result)

    def _emit(self, view: ChainView, before: ChainView | None, result: StepResult) -> None:
        result.views.append(view)
        result.alerts.extend(alerts_between(before, view))
        result.genealogy.extend(messages_for_change(before, view))
        awaiting = view.reconciliation.status == reconcile.PENDING
        was_awaiting = before is not None and before.reconciliation.status == reconcile.PENDING
        if awaiting != was_awaiting or before is None:
            result.pending[view.batch_code] = awaiting


def _field_problem(event: Event, max_bytes: int) -> str | None:
    """:func:`streams.domain.limits.field_problem`, with a quick pass over the payload first.

    orjson writes a NUL as ``\\u0000`` and every other text as at least its UTF-8 bytes, so a
    payload whose JSON is within ``max_bytes`` and holds no such escape has no text too long nor
    one with a NUL. Any other payload (or one orjson refuses) takes the domain's own walk, which
    decides and names the field.
    """
    for name in _CODES:
        found = code_problem(getattr(event, name))
        if found is not None:
            return f"field {name} {found}"
    head = (event.event_id, event.source_ref, event.batch_code, event.plant)
    if all(type(t) is str and "\x00" not in t and len(t) * 4 <= max_bytes for t in head):
        try:
            data = orjson.dumps(event.payload)
        except TypeError:
            data = None
        if data is not None and len(data) <= max_bytes and _NUL_ESCAPE not in data:
            return None
    return oversized_field(event, max_bytes)


_CODES = ("batch_code", "source_ref")
_NUL_ESCAPE = b"\\u0000"


def _events(items: _Group) -> list[Event]:
    return [event for _, event in items]


def _refuse(conflicts: Sequence[SeqConflict], items: _Group, result: StepResult) -> None:
    """Dead-letter the records of the refused events and take them out of ``items``."""
    refused = {id(conflict.refused): conflict for conflict in conflicts}
    kept: _Group = []
    for record, event in items:
        conflict = refused.get(id(event))
        if conflict is None:
            kept.append((record, event))
        else:
            result.dead_letters.append(DeadLetter(record, conflict.reason))
    items[:] = kept


def _redelivers_a_winner(chain: TraceChain, events: list[Event]) -> bool:
    for event in events:
        current = chain.records.get(event.record_key)
        if current is not None and current.event_id == event.event_id:
            return True
    return False
