"""Successive ``TraceChain`` records of a batch, as the worker publishes them (for sink tests).

Built with the real domain (merge, view) and :func:`streams.records.chain_record`, so the records
have exactly the shape the chain topic carries.
"""

from __future__ import annotations

from typing import Any

from streams.domain import events as ev
from streams.domain.chain import TraceChain, merge_all
from streams.domain.events import Event
from streams.domain.reconcile import ReconciliationRules
from streams.domain.view import view_of
from streams.records import chain_record
from tests.unit import domain_factory as f

RULES = ReconciliationRules()


class ChainBuilder:
    """One batch's chain; each :meth:`add` returns the record of the chain's next version."""

    def __init__(self, batch_code: str) -> None:
        self.chain = TraceChain(batch_code)

    @property
    def batch_code(self) -> str:
        return self.chain.batch_code

    def add(self, *events: Event) -> dict[str, Any]:
        self.chain = merge_all(self.chain, events)
        return chain_record(view_of(self.chain, RULES))


def inspection(batch: str, inspection_id: str, *, failed: bool) -> Event:
    characteristics = [
        {
            "name": "ph",
            "value": 7.9 if failed else 7.0,
            "lower_limit": 6.5,
            "upper_limit": 7.5,
            "unit": "pH",
            "passed": not failed,
        },
    ]
    return f.make(
        ev.INSPECTION_RECORDED,
        batch,
        {
            "inspection_id": inspection_id,
            "plan": "FINAL",
            "characteristics": characteristics,
            "verdict": "FAIL" if failed else "PASS",
            "inspector": "qa1",
        },
        system=ev.QMS,
        ref=f"QMS:INSP:{inspection_id}",
        minute=90,
    )


def life_of(batch_code: str) -> list[dict[str, Any]]:
    """A batch's chain records in version order: completed, on hold, released, ERP receipt,
    failed inspection (each step one new version)."""
    b = ChainBuilder(batch_code)
    return [
        b.add(f.completed(batch_code)),
        b.add(f.hold(batch_code, f"H-{batch_code}")),
        b.add(f.hold(batch_code, f"H-{batch_code}", released=True)),
        b.add(f.erp_receipt(batch_code, "100")),
        b.add(inspection(batch_code, f"I-{batch_code}", failed=True)),
    ]
