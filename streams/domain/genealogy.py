"""Genealogy: the where-used index of a lot and hold propagation down to every batch made from it.

Each lot (any batch or material lot that something consumed) has a :class:`LotNode`, kept on the
partition of the lot's own code: the batches that consumed it, and the hold statuses in force on
it (its own holds and those it inherited). Two messages change a node:

- :class:`ChildLinked` — a batch consumed the lot (sent when a consumption record appears);
- :class:`HoldsChanged` — the lot's hold statuses changed (sent when its chain's holds change).

Either may come first. The node answers with derived ``HOLD_INHERITED`` events for its children;
a child whose holds change in turn sends :class:`HoldsChanged` for itself, so a hold on a raw
material lot reaches every descendant, transitively, marked with its origin. Every step is
idempotent, so at-least-once delivery and replays converge to the same state.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from types import MappingProxyType

from streams.domain import events as ev
from streams.domain.events import Event
from streams.domain.view import ChainView, Hold

_NAMESPACE = uuid.UUID("6f1c2b0e-8f3a-4a57-9d0e-3c1b7a5e2d11")


@dataclass(frozen=True, slots=True)
class HoldStatus:
    """One hold as seen on a code: where it was placed, why, whether it is still in force."""

    hold_id: str
    origin_code: str
    reason: str
    active: bool
    changed_at: datetime
    plant: str

    @property
    def key(self) -> tuple[str, str]:
        return (self.origin_code, self.hold_id)


@dataclass(frozen=True, slots=True)
class ChildLinked:
    """``child_code`` consumed ``lot_code``."""

    lot_code: str
    child_code: str


@dataclass(frozen=True, slots=True)
class HoldsChanged:
    """The complete set of hold statuses now known on ``lot_code``."""

    lot_code: str
    statuses: tuple[HoldStatus, ...]


GenealogyMessage = ChildLinked | HoldsChanged

_NO_HOLDS: Mapping[tuple[str, str], HoldStatus] = MappingProxyType({})


@dataclass(frozen=True, slots=True)
class LotNode:
    """Where-used state of one lot."""

    lot_code: str
    children: frozenset[str] = frozenset()
    holds: Mapping[tuple[str, str], HoldStatus] = field(default_factory=lambda: _NO_HOLDS)


def hold_statuses(view: ChainView) -> tuple[HoldStatus, ...]:
    """The hold statuses a chain passes on to what was made from it."""
    return tuple(
        HoldStatus(h.hold_id, h.origin_code, h.reason, h.active, h.changed_at, view.plant)
        for h in view.holds
    )


def messages_for_change(before: ChainView | None, after: ChainView) -> list[GenealogyMessage]:
    """What a chain's change tells the genealogy: new parent links, and changed holds."""
    if before is not None and _same_links_and_holds(before, after):
        return []
    old_parents = set(before.parent_lots) if before is not None else set()
    out: list[GenealogyMessage] = [
        ChildLinked(parent, after.batch_code)
        for parent in after.parent_lots
        if parent not in old_parents and parent != after.batch_code
    ]
    old_holds = _hold_states(before.holds) if before is not None else {}
    if _hold_states(after.holds) != old_holds:
        out.append(HoldsChanged(after.batch_code, hold_statuses(after)))
    return out


def _same_links_and_holds(before: ChainView, after: ChainView) -> bool:
    """Neither parents nor holds changed (cheap for an incremental view: the same sections)."""
    return before.consumptions == after.consumptions and before.holds == after.holds


def _hold_states(holds: Iterable[Hold]) -> dict[tuple[str, str], bool]:
    return {(h.origin_code, h.hold_id): h.active for h in holds}


def apply(node: LotNode, message: GenealogyMessage) -> tuple[LotNode, list[Event]]:
    """Apply one message to a lot's node; return the new node and the events for its children."""
    if isinstance(message, ChildLinked):
        return _link(node, message.child_code)
    return _update_holds(node, message.statuses)


def _link(node: LotNode, child: str) -> tuple[LotNode, list[Event]]:
    if child in node.children:
        return node, []
    node = replace(node, children=node.children | {child})
    return node, [inherited_hold_event(child, s) for s in node.holds.values() if s.active]


def _update_holds(node: LotNode, statuses: Iterable[HoldStatus]) -> tuple[LotNode, list[Event]]:
    incoming = {s.key: s for s in statuses}
    changed = [
        s
        for key, s in incoming.items()
        if key not in node.holds or node.holds[key].active != s.active
    ]
    if not changed:
        return node, []
    merged = dict(node.holds) | {s.key: s for s in changed}
    node = replace(node, holds=MappingProxyType(merged))
    derived = [inherited_hold_event(child, s) for child in sorted(node.children) for s in changed]
    return node, derived


def inherited_hold_event(child_code: str, status: HoldStatus) -> Event:
    """The derived event that puts ``status`` on ``child_code``'s chain.

    One source record per (origin, hold) on the child, version 1 while active and 2 once released,
    with a deterministic event id: the same hold reaching a child by several paths is one record.
    """
    seq = 1 if status.active else 2
    event_id = uuid.uuid5(_NAMESPACE, f"{child_code}|{status.origin_code}|{status.hold_id}|{seq}")
    return Event(
        event_id=str(event_id),
        event_type=ev.HOLD_INHERITED,
        source_system=ev.TRACESYNC,
        source_ref=f"INHERIT:{status.origin_code}:{status.hold_id}",
        source_seq=seq,
        batch_code=child_code,
        occurred_at=status.changed_at,
        recorded_at=status.changed_at,
        plant=status.plant,
        payload=MappingProxyType(
            {
                "hold_id": status.hold_id,
                "origin_code": status.origin_code,
                "reason": status.reason,
                "active": status.active,
            }
        ),
    )


def reconciliation_due_event(batch_code: str, plant: str, due_at: datetime) -> Event:
    """The derived event that tells a chain its settle time for reconciliation has passed."""
    return Event(
        event_id=str(uuid.uuid5(_NAMESPACE, f"{batch_code}|RECONCILIATION_DUE")),
        event_type=ev.RECONCILIATION_DUE,
        source_system=ev.TRACESYNC,
        source_ref="RECONCILIATION_DUE",
        source_seq=1,
        batch_code=batch_code,
        occurred_at=due_at,
        recorded_at=due_at,
        plant=plant,
        payload=MappingProxyType({}),
    )
