"""A sample REST event (JSON as a source system posts it) for the REST ingest tests."""

from __future__ import annotations

from typing import Any


def mes_event(
    batch_code: str = "B-000123", event_id: str | None = None, **overrides: Any
) -> dict[str, Any]:
    """A valid MES ``BATCH_STARTED`` event; ``overrides`` replace top-level fields."""
    event: dict[str, Any] = {
        "event_type": "BATCH_STARTED",
        "source_ref": f"MES:BS:{batch_code}",
        "source_seq": 1,
        "batch_code": batch_code,
        "occurred_at": "2025-03-01T06:00:00Z",
        "payload": {
            "order_id": "PO-1",
            "product_code": "P-100",
            "line_id": "L1",
            "shift": "A",
            "team": "T1",
            "operators": ["op-1"],
            "equipment": ["MIX-1"],
        },
    }
    if event_id is not None:
        event["event_id"] = event_id
    event.update(overrides)
    return event
