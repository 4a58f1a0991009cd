"""Two events for one version of a source record: when they conflict, and what the reason says.

A source record's versions are numbered by ``source_seq``. An event with the ``source_seq`` its
chain already holds for the record is either the same version again or a conflict:

- **the same version** when its *content* is the held one's: ``event_type``, ``occurred_at``,
  ``plant`` and ``payload``. The event id and ``recorded_at`` are left out: they say how the
  version travelled, not what it says (the REST ingest gives an event without them a new UUID4 and
  the time of the request, so a record posted twice differs in both). A payload field that only one
  of the two has is left out too: only two schema versions differ so (a state written before a
  field was added, an event decoded after), never two events decoded with one schema.
- **a conflict** otherwise: the source sent two different versions under one number. The chain
  keeps the version it holds and the merge reports the newcomer as a :class:`SeqConflict`.

The pipeline's own derived records (``source_system`` ``TRACESYNC``: inherited holds,
``RECONCILIATION_DUE``) never conflict: each is one fact re-derived, with a deterministic event
id, and its incidental fields may differ between derivations (a ``RECONCILIATION_DUE`` sent again
carries the later time it was sent; a hold inherited along two paths carries the plant of the last
hop). The version held is kept, as for any repeat.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from streams.domain.events import TRACESYNC, Event

_HEAD = ("event_type", "occurred_at", "plant")
REASON = "conflicting source_seq"
"""How every conflict's dead-letter reason begins (its class in the dead-letter metrics)."""


@dataclass(frozen=True, slots=True)
class SeqConflict:
    """``refused`` claims the ``source_seq`` of the version ``held`` with other content."""

    held: Event
    refused: Event
    difference: str
    """The first field whose value differs, by path (``payload.produced_quantity.value``)."""

    @property
    def reason(self) -> str:
        held, refused = self.held, self.refused
        return (
            f"{REASON}: record {held.record_key!r} of batch {held.batch_code!r} already holds "
            f"source_seq {held.source_seq} with other content (event id {held.event_id}); this "
            f"event (id {refused.event_id}) differs in {self.difference}. The held version is "
            "kept; a correction needs a higher source_seq"
        )


def conflict_between(held: Event, newcomer: Event) -> SeqConflict | None:
    """The conflict when ``newcomer``, with ``held``'s ``source_seq``, says something else.

    None when it is the same version again, or a derived record of the pipeline's own.
    """
    if newcomer.source_system == TRACESYNC:
        return None
    difference = content_difference(held, newcomer)
    return None if difference is None else SeqConflict(held, newcomer, difference)


def content_difference(a: Event, b: Event) -> str | None:
    """The path of the first content field in which ``a`` and ``b`` differ (None: the same)."""
    for name in _HEAD:
        if getattr(a, name) != getattr(b, name):
            return name
    if a.payload == b.payload:
        return None
    return _difference(a.payload, b.payload, "payload")


def _difference(a: Any, b: Any, path: str) -> str | None:
    if isinstance(a, Mapping) and isinstance(b, Mapping):
        for key, value in a.items():
            if key in b:  # a field only one side has: two schema versions, not two contents
                found = _difference(value, b[key], f"{path}.{key}")
                if found is not None:
                    return found
        return None
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        if len(a) != len(b):
            return path
        for index, (x, y) in enumerate(zip(a, b, strict=True)):
            found = _difference(x, y, f"{path}[{index}]")
            if found is not None:
                return found
        return None
    return None if a == b else path
