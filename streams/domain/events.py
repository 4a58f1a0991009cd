"""Domain events: a decoded source-system change, and tracesync's own derived events.

A decoded Avro envelope (a plain dict from the serde) becomes an :class:`Event`. Each event is one
version of one *source record* (``source_system`` + ``source_ref``); a higher ``source_seq`` is a
newer version of the same record, and two events with one ``source_seq`` must say the same
(:mod:`streams.domain.conflicts`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# Source systems. ``TRACESYNC`` marks events the pipeline derives itself (inherited holds,
# reconciliation deadlines); they travel on an internal topic, never on a source topic.
MES, ERP, WMS, QMS, TRACESYNC = "MES", "ERP", "WMS", "QMS", "TRACESYNC"

PRODUCTION_ORDER_RELEASED = "PRODUCTION_ORDER_RELEASED"
BATCH_STARTED = "BATCH_STARTED"
BATCH_COMPLETED = "BATCH_COMPLETED"
MATERIAL_CONSUMED = "MATERIAL_CONSUMED"
PROCESS_PARAMETER_RECORDED = "PROCESS_PARAMETER_RECORDED"
INSPECTION_RECORDED = "INSPECTION_RECORDED"
HOLD_PLACED = "HOLD_PLACED"
HOLD_RELEASED = "HOLD_RELEASED"
COMPLAINT_RECEIVED = "COMPLAINT_RECEIVED"
GOODS_RECEIVED = "GOODS_RECEIVED"
GOODS_ISSUED = "GOODS_ISSUED"
STOCK_TRANSFERRED = "STOCK_TRANSFERRED"
STOCK_COUNTED = "STOCK_COUNTED"
MATERIAL_RECEIPT_POSTED = "MATERIAL_RECEIPT_POSTED"
PRODUCTION_RECEIPT_POSTED = "PRODUCTION_RECEIPT_POSTED"
SHIPMENT_DISPATCHED = "SHIPMENT_DISPATCHED"
# Derived by tracesync.
HOLD_INHERITED = "HOLD_INHERITED"
RECONCILIATION_DUE = "RECONCILIATION_DUE"


@dataclass(frozen=True, slots=True)
class Event:
    """One version of one source record, as decoded from the wire (payload kept as a dict)."""

    event_id: str
    event_type: str
    source_system: str
    source_ref: str
    source_seq: int
    batch_code: str
    occurred_at: datetime
    recorded_at: datetime
    plant: str
    payload: Mapping[str, Any]

    @property
    def record_key(self) -> str:
        """Identity of the source record this event is a version of."""
        return f"{self.source_system}|{self.source_ref}"
