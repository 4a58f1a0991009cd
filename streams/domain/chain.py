"""The trace chain of one batch and the pure merge ``(chain, event) -> chain``.

A chain keeps the latest version of every source record that concerns its batch; everything a
person asks of the batch (production, materials, quality, warehouse, ERP, reconciliation) is
derived from those records by :mod:`streams.domain.view`. Because a record's winner is chosen by
``(source_seq, event_id)`` alone, the merge is idempotent (an event already seen changes nothing),
commutative (arrival order does not matter) and deterministic, so replaying a topic yields the same
chains. ``version`` counts effective changes and orders the chain's publications for the sinks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType

from streams.domain.events import Event

_EMPTY: Mapping[str, Event] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class TraceChain:
    """Everything known about one batch (or material lot): the winning version of each record."""

    batch_code: str
    version: int = 0
    records: Mapping[str, Event] = field(default_factory=lambda: _EMPTY)

    def events(self) -> Iterable[Event]:
        """The winning events, in a stable order (by record key)."""
        return (self.records[k] for k in sorted(self.records))

    def content_equals(self, other: TraceChain) -> bool:
        """Same batch and same records, whatever the version (which depends on arrival order)."""
        return self.batch_code == other.batch_code and dict(self.records) == dict(other.records)


def merge(chain: TraceChain, event: Event) -> TraceChain:
    """Apply one event; return ``chain`` itself when the event changes nothing.

    Raises ``ValueError`` when the event belongs to another batch: the caller routes by key, so a
    mismatch means a routing bug, not bad input.
    """
    _check_batch(chain, event)
    current = chain.records.get(event.record_key)
    if current is not None and not event.supersedes(current):
        return chain
    records = dict(chain.records)
    records[event.record_key] = event
    return replace(chain, version=chain.version + 1, records=MappingProxyType(records))


def _check_batch(chain: TraceChain, event: Event) -> None:
    if event.batch_code != chain.batch_code:
        raise ValueError(f"event for {event.batch_code!r} merged into chain {chain.batch_code!r}")


def merge_all(chain: TraceChain, events: Iterable[Event]) -> TraceChain:
    """Apply several events in order; the result does not depend on that order.

    The same as :func:`merge` event by event, with the records copied once, not once per event.
    """
    records: dict[str, Event] | None = None
    changes = 0
    for event in events:
        _check_batch(chain, event)
        key = event.record_key
        current = (chain.records if records is None else records).get(key)
        if current is not None and not event.supersedes(current):
            continue
        if records is None:
            records = dict(chain.records)
        records[key] = event
        changes += 1
    if records is None:
        return chain
    return TraceChain(chain.batch_code, chain.version + changes, MappingProxyType(records))
