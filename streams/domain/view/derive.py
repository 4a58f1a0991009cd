"""A chain's view, derived all at once (:func:`view_of`) or from the last one (:func:`rederive`).

:func:`view_of` is a pure function of the chain's records (and the rules): two chains with the
same records in the same order always have the same view. A :class:`Derivation` keeps, with the
view, the records grouped by event type and the bookkeeping it came from. :func:`rederive` takes
the previous derivation and the chain after merging more events, and re-derives only the sections
whose event types the merged records touch; the result is the view :func:`view_of` gives, field
for field. Anything it cannot follow (a record changing its event type, records it was not told
of) makes it derive the whole view again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Reversible
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any, cast

from streams.domain import events as ev
from streams.domain.chain import TraceChain
from streams.domain.events import Event
from streams.domain.reconcile import Reconciliation, ReconciliationRules, reconcile
from streams.domain.view.model import ChainView
from streams.domain.view.sections import SECTIONS, Grouped, Section

_FIELDS = tuple(name for section in SECTIONS for name in section.fields)
_RECONCILED_FROM = frozenset({"production", "warehouse", "erp_received_quantity"})


@dataclass(frozen=True, slots=True)
class Bookkeeping:
    """What the view says about the source records themselves (derived events not counted)."""

    plant: str = ""
    sources: tuple[str, ...] = ()
    event_count: int = 0
    first_event_at: datetime | None = None
    last_event_at: datetime | None = None


def bookkeeping(records: Iterable[Event]) -> Bookkeeping:
    source = [e for e in records if e.source_system != ev.TRACESYNC]
    if not source:
        return Bookkeeping()
    times = [e.occurred_at for e in source]
    return Bookkeeping(
        plant=min(e.plant for e in source),
        sources=tuple(sorted({e.source_system for e in source})),
        event_count=len(source),
        first_event_at=min(times),
        last_event_at=max(times),
    )


def _with_added(books: Bookkeeping, added: list[Event]) -> Bookkeeping:
    """``books`` after new records were added (none replaced): what ``bookkeeping`` would say."""
    source = [e for e in added if e.source_system != ev.TRACESYNC]
    if not source:
        return books
    if books.event_count == 0:
        return bookkeeping(source)
    if books.first_event_at is None or books.last_event_at is None:  # counted events have times
        return bookkeeping(source)
    times = [e.occurred_at for e in source]
    systems = {e.source_system for e in source}
    return Bookkeeping(
        plant=min(books.plant, *(e.plant for e in source)),
        sources=books.sources
        if systems.issubset(books.sources)
        else tuple(sorted(systems.union(books.sources))),
        event_count=books.event_count + len(source),
        first_event_at=min(books.first_event_at, *times),
        last_event_at=max(books.last_event_at, *times),
    )


@dataclass(frozen=True, slots=True)
class Derivation:
    """A chain's view, with what an incremental re-derivation needs to go on from it."""

    chain: TraceChain
    view: ChainView
    grouped: Mapping[str, tuple[Event, ...]]
    books: Bookkeeping
    rules: ReconciliationRules


def group_by_type(records: Iterable[Event]) -> dict[str, tuple[Event, ...]]:
    lists: dict[str, list[Event]] = {}
    for event in records:
        lists.setdefault(event.event_type, []).append(event)
    return {kind: tuple(events) for kind, events in lists.items()}


def derive(chain: TraceChain, rules: ReconciliationRules) -> Derivation:
    """Derive the full view of ``chain`` from all its records."""
    grouped = group_by_type(chain.records.values())
    parts: dict[str, Any] = {}
    for section in SECTIONS:
        _put(parts, section, section.derive(chain.batch_code, grouped))
    books = bookkeeping(chain.records.values())
    view = _assemble(chain, parts, books, _reconciliation(parts, grouped, rules))
    return Derivation(chain, view, grouped, books, rules)


def view_of(chain: TraceChain, rules: ReconciliationRules) -> ChainView:
    """Derive the full view of ``chain``."""
    return derive(chain, rules).view


def rederive(
    previous: Derivation, chain: TraceChain, rules: ReconciliationRules, touched: Iterable[str]
) -> Derivation:
    """The derivation of ``chain``: ``previous.chain`` after merging events keyed ``touched``.

    ``touched`` holds the record keys of the merged events, in merge order (repeats allowed);
    only the sections reading the changed records' event types are derived again.
    """
    if chain is previous.chain and rules == previous.rules:
        return previous
    changes = _changes(previous, chain, touched)
    if changes is None or rules != previous.rules:
        return derive(chain, rules)
    grouped, added, replaced, kinds = changes
    parts = {name: getattr(previous.view, name) for name in _FIELDS}
    redone: set[str] = set()
    for section in SECTIONS:
        if not section.event_types.isdisjoint(kinds):
            _put(parts, section, section.derive(chain.batch_code, grouped))
            redone.update(section.fields)
    books = bookkeeping(chain.records.values()) if replaced else _with_added(previous.books, added)
    if redone.isdisjoint(_RECONCILED_FROM) and ev.RECONCILIATION_DUE not in kinds:
        reconciliation = previous.view.reconciliation
    else:
        reconciliation = _reconciliation(parts, grouped, rules)
    return Derivation(chain, _assemble(chain, parts, books, reconciliation), grouped, books, rules)


_Changes = tuple[dict[str, tuple[Event, ...]], list[Event], bool, set[str]]


def _changes(previous: Derivation, chain: TraceChain, touched: Iterable[str]) -> _Changes | None:
    """The regrouped records, the added events, whether any was replaced, the changed types.

    None when the change is not one :func:`rederive` can follow.
    """
    old, new = previous.chain.records, chain.records
    grouped = dict(previous.grouped)
    added: list[Event] = []
    replaced = False
    kinds: set[str] = set()
    for key in dict.fromkeys(touched):
        event, before = new.get(key), old.get(key)
        if event is None:
            return None
        if event is before:
            continue
        if before is None:
            added.append(event)
            grouped[event.event_type] = (*grouped.get(event.event_type, ()), event)
        elif before.event_type != event.event_type:
            return None
        else:
            replaced = True
            group = grouped[event.event_type]
            grouped[event.event_type] = tuple(event if e is before else e for e in group)
        kinds.add(event.event_type)
    if len(new) != len(old) + len(added) or not _ends_with(new, added):
        return None  # records changed that ``touched`` did not name, or in another order
    return grouped, added, replaced, kinds


def _ends_with(records: Mapping[str, Event], added: list[Event]) -> bool:
    """Whether the last keys of ``records`` are those of ``added``, in that order."""
    if not added:
        return True
    keys = cast("Reversible[str]", records.keys())  # a dict's or mappingproxy's keys are
    tail = list(islice(reversed(keys), len(added)))
    return tail == [e.record_key for e in reversed(added)]


def _put(parts: dict[str, Any], section: Section, value: Any) -> None:
    if len(section.fields) == 1:
        parts[section.fields[0]] = value
    else:
        parts.update(zip(section.fields, value, strict=True))


def _reconciliation(
    parts: Mapping[str, Any], grouped: Grouped, rules: ReconciliationRules
) -> Reconciliation:
    return reconcile(
        mes=parts["production"].produced_quantity,
        wms=parts["warehouse"].received_quantity,
        erp=parts["erp_received_quantity"],
        due=ev.RECONCILIATION_DUE in grouped,
        rules=rules,
    )


def _assemble(
    chain: TraceChain, parts: Mapping[str, Any], books: Bookkeeping, rec: Reconciliation
) -> ChainView:
    return ChainView(
        batch_code=chain.batch_code,
        version=chain.version,
        plant=books.plant,
        production=parts["production"],
        parameters=parts["parameters"],
        consumptions=parts["consumptions"],
        inspections=parts["inspections"],
        holds=parts["holds"],
        warehouse=parts["warehouse"],
        material_receipt=parts["material_receipt"],
        erp_received_quantity=parts["erp_received_quantity"],
        production_cost=parts["production_cost"],
        cost_currency=parts["cost_currency"],
        shipments=parts["shipments"],
        complaints=parts["complaints"],
        reconciliation=rec,
        sources=books.sources,
        event_count=books.event_count,
        first_event_at=books.first_event_at,
        last_event_at=books.last_event_at,
    )
