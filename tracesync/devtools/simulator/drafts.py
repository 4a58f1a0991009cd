"""A draft event: everything of an envelope but its event id and (mostly) its recording time.

Each source system's module (:mod:`.mes_events`, :mod:`.qms_events`, :mod:`.wms_events`,
:mod:`.erp_events`) turns its part of the ground truth into drafts; :mod:`.events` draws the
recording delays and event ids and orders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class Draft:
    """One event of one source record: ``recorded_at`` None means "draw a recording delay"."""

    system: str
    event_type: str
    source_ref: str
    source_seq: int
    code: str
    occurred_at: datetime
    recorded_at: datetime | None
    payload: dict[str, Any]


def qty(value: Decimal, uom: str) -> dict[str, Any]:
    """A ``Quantity`` record."""
    return {"value": value, "uom": uom}
