"""Jinja filters of the console: times with their offset in the plant's zone, the reconciliation.

``{{ value | when(zone) }}`` shows a time as ``2026-11-02 07:00:00+01:00`` (never a bare
local-looking time); ``{{ batch.reconciliation | verdict }}`` the status with each system's
quantity and its delta to MES; ``{{ lot | supplier }}`` the supplier and the supplier's lot.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

from sinks.store.queries import Reconciliation
from sinks.store.report import reconciliation_line, supplier_text
from tracesync.plant_time import shown


def when(value: datetime | None, zone: tzinfo) -> str:
    """A time in ``zone`` with its offset, ``-`` for none."""
    return shown(value, zone)


def verdict(rec: Reconciliation) -> str:
    """The reconciliation status with the MES, WMS and ERP quantities and the deltas."""
    return reconciliation_line(rec)


def supplier(item: Any) -> str:
    """``supplier SUP-1, supplier lot S-77`` of a batch detail or lot, empty without receipt."""
    return supplier_text(getattr(item, "supplier_id", None), getattr(item, "supplier_lot", None))


FILTERS: dict[str, Callable[..., str]] = {"when": when, "verdict": verdict, "supplier": supplier}
