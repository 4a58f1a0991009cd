"""Bad input, shown once: a REST request refused with the field named, a CSV row rejected.

The demo's plant sends no malformed records; instead it shows the two ways bad input is answered
at the edge: the REST caller gets a 4xx naming the offending field, and a dropped CSV file with
one bad row is published without that row, which is listed in the file's error report.
"""

from __future__ import annotations

import copy
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tracesync.contracts.serde import envelope_to_json
from tracesync.devtools.demo.renderers import Envelope, wms_receipt_row

TYPO_QUANTITY = "1.2OO,5"
"""A quantity as a tired clerk types it (letter O, decimal comma)."""


@dataclass(frozen=True)
class RestRefusal:
    status: int
    body: dict[str, Any]

    @property
    def refused(self) -> bool:
        return 400 <= self.status < 500 and bool(self.body.get("errors"))

    def lines(self) -> list[str]:
        out = [f"  answered {self.status}: {self.body.get('detail')}"]
        out += [f"    field {e['field']}: {e['reason']}" for e in self.body.get("errors", [])]
        return out


def send_bad_rest_event(
    http: httpx.Client, rest_url: str, api_key: str, example: Envelope
) -> RestRefusal:
    """POST one MES event whose planned quantity is not a number; it must not be published."""
    event = copy.deepcopy(envelope_to_json(example))
    event["event_id"] = str(uuid.uuid4())
    event["payload"]["planned_quantity"]["value"] = TYPO_QUANTITY
    response = http.post(f"{rest_url}/v1/mes/events", json=event, headers={"X-API-Key": api_key})
    return RestRefusal(response.status_code, response.json())


def typo_receipt_row(example: Envelope) -> dict[str, Any]:
    """A WMS receipt row like ``example``'s but with a mistyped quantity and its own number."""
    row = wms_receipt_row(example)
    row["receipt_no"] = f"{row['receipt_no']}-MANUAL"
    row["qty"] = TYPO_QUANTITY
    return row


def wait_for_error_report(drop: Path, file_name: str, timeout_s: float) -> str | None:
    """The error report the file adapter wrote next to the handled file (None if not yet)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        for sub in ("processed", "rejected"):
            report = drop / sub / f"{file_name}.errors.csv"
            if report.exists():
                return report.read_text()
        time.sleep(0.2)
    return None
