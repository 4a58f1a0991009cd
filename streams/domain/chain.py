"""The trace chain of one batch and the pure merge ``(chain, events) -> (chain, conflicts)``.

A chain keeps one version of every source record that concerns its batch; everything a person
asks of the batch (production, materials, quality, warehouse, ERP, reconciliation) is derived from
those records by :mod:`streams.domain.view`. Which version a record keeps is decided by its
``source_seq``: a higher one replaces the held version, a lower one is stale and changes nothing,
and one with the held ``source_seq`` is either the same version again (changes nothing) or a
conflict (:mod:`streams.domain.conflicts`): the chain keeps the version it holds and
:func:`merge_split` returns the newcomer beside the chain, an ok/err split the worker turns into
dead letters.

So the merge is idempotent (an event already seen changes nothing, and neither does a whole
sequence merged again), and, for input without conflicts, commutative up to how a version
travelled: whatever the arrival order, each record holds its highest ``source_seq`` with the same
content; only the event id and ``recorded_at`` are those of the copy that arrived first. With a
conflict the first version to arrive wins. That is deterministic where it matters: a source
record's events travel on one topic partition (its system's topic, keyed by batch), whose order a
replay keeps, so replaying a topic yields the same chains and the same dead letters. ``version``
counts effective changes and orders the chain's publications for the sinks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from streams.domain.conflicts import SeqConflict, conflict_between
from streams.domain.events import Event

_EMPTY: Mapping[str, Event] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TraceChain:
    """Everything known about one batch (or material lot): the held version of each record."""

    batch_code: str
    version: int = 0
    records: Mapping[str, Event] = field(default_factory=lambda: _EMPTY)

    def events(self) -> Iterable[Event]:
        """The held events, in a stable order (by record key)."""
        return (self.records[k] for k in sorted(self.records))

    def content_equals(self, other: TraceChain) -> bool:
        """Same batch and same records, whatever the version (which depends on arrival order)."""
        return self.batch_code == other.batch_code and dict(self.records) == dict(other.records)


@dataclass(frozen=True, slots=True)
class Merged:
    """What a merge made, split: the chain (ok) and the events it refused, in arrival order."""

    chain: TraceChain
    conflicts: tuple[SeqConflict, ...] = ()


def merge_split(chain: TraceChain, events: Iterable[Event]) -> Merged:
    """Apply events in arrival order; the chain is ``chain`` itself when none changes it.

    Raises ``ValueError`` when an event belongs to another batch: the caller routes by key, so a
    mismatch means a routing bug, not bad input. The records are copied once, not once per event.
    """
    records: dict[str, Event] | None = None
    changes = 0
    conflicts: list[SeqConflict] = []
    for event in events:
        _check_batch(chain, event)
        key = event.record_key
        held = (chain.records if records is None else records).get(key)
        if held is not None and event.source_seq <= held.source_seq:
            if event.source_seq == held.source_seq:
                conflict = conflict_between(held, event)
                if conflict is not None:
                    conflicts.append(conflict)
            continue
        if records is None:
            records = dict(chain.records)
        records[key] = event
        changes += 1
    if records is not None:
        chain = TraceChain(chain.batch_code, chain.version + changes, MappingProxyType(records))
    return Merged(chain, tuple(conflicts))


def merge(chain: TraceChain, event: Event) -> TraceChain:
    """Apply one event; ``chain`` itself when it changes nothing (as a conflict never does)."""
    return merge_split(chain, (event,)).chain


def merge_all(chain: TraceChain, events: Iterable[Event]) -> TraceChain:
    """The chain of :func:`merge_split`, for input known to be free of conflicts (tests, tools).

    The worker calls :func:`merge_split`, so that no conflict goes unreported.
    """
    return merge_split(chain, events).chain


def _check_batch(chain: TraceChain, event: Event) -> None:
    if event.batch_code != chain.batch_code:
        raise ValueError(f"event for {event.batch_code!r} merged into chain {chain.batch_code!r}")
