"""Reading one EPCIS 2.0 event for the capture mapping: times, lots, quantities, parties.

:class:`EventReader` wraps one JSON-LD event; each accessor raises :class:`EventProblemError`
naming the field (``quantityList[0].epcClass``) and the reason, which
:mod:`producers.epcis` reports per event. ``tracesync:units`` (written by our export) tells which
source unit each UN/CEFACT code stands for.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from tracesync.gs1.identifiers import Identifiers, LotRef
from tracesync.gs1.vocabulary import PREFIX, UNIT_CODES

Envelope = dict[str, Any]
ID_SPACE = uuid.UUID("6f1b2d4e-8c3a-5e7f-9a0b-1c2d3e4f5a6b")
_UNIT_OF_CODE = {code: unit for unit, code in reversed(UNIT_CODES.items())}
PARTIES = ("owning_party", "possessing_party")


class EventProblemError(Exception):
    """One field of one event is unusable."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


def parse_time(text: Any, field: str) -> tuple[datetime, int]:
    if not isinstance(text, str):
        raise EventProblemError(field, "missing or not a date-time")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise EventProblemError(field, f"not an ISO 8601 date-time: {text!r}") from exc
    if moment.tzinfo is None:
        raise EventProblemError(field, "a date-time needs a time zone offset")
    moment = moment.astimezone(UTC)
    return moment, int(moment.timestamp() * 1000)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class EventReader:
    """Reads one EPCIS event; every accessor raises :class:`EventProblemError` naming the field."""

    def __init__(self, event: Mapping[str, Any], ids: Identifiers, plant: str, epcis_id: str):
        self.e = event
        self.ids = ids
        self.epcis_id = epcis_id
        self.at, at_ms = parse_time(event.get("eventTime"), "eventTime")
        recorded = event.get("recordTime")
        self.recorded_at: datetime | None = None
        self.seq = at_ms
        if recorded:
            self.recorded_at, self.seq = parse_time(recorded, "recordTime")
        location = event.get("bizLocation", {}).get("id") if event.get("bizLocation") else None
        self.plant = plant
        if isinstance(location, str):
            with contextlib.suppress(ValueError):
                self.plant = ids.parse_place(location)[0]
        self.units: Mapping[str, str] = self.ext("units") or {}

    def ext(self, name: str) -> Any:
        return self.e.get(f"{PREFIX}:{name}")

    def envelope(
        self, kind: str, system: str, ref: str, lot: str, payload: dict[str, Any], **kw: Any
    ) -> Envelope:
        occurred: datetime = kw.get("at") or self.at
        return {
            "event_id": str(uuid.uuid5(ID_SPACE, f"{self.epcis_id}|{kind}|{ref}")),
            "event_type": kind,
            "source_system": system,
            "source_ref": ref,
            "source_seq": self.seq,
            "batch_code": lot,
            "occurred_at": iso(occurred),
            "recorded_at": iso(self.recorded_at or occurred),
            "plant": self.plant,
            "payload": payload,
        }

    def lots(self, field: str, *, quantities: bool) -> list[tuple[LotRef, dict[str, Any] | None]]:
        """(lot, quantity) of each element of a quantity list."""
        elements = self.e.get(field) or []
        if not isinstance(elements, list):
            raise EventProblemError(field, "expected an array")
        found = []
        for i, element in enumerate(elements):
            if not isinstance(element, Mapping) or not isinstance(element.get("epcClass"), str):
                raise EventProblemError(f"{field}[{i}].epcClass", "missing")
            try:
                lot = self.ids.parse_lot_class(element["epcClass"])
            except ValueError as exc:
                raise EventProblemError(f"{field}[{i}].epcClass", str(exc)) from exc
            quantity = self.quantity(element, f"{field}[{i}]", required=quantities)
            found.append((lot, quantity))
        if self.e.get("epcList") and not found and field == "quantityList":
            raise EventProblemError("epcList", "units without a lot: give a quantityList of lots")
        return found

    def quantity(self, element: Mapping[str, Any], field: str, *, required: bool) -> Any:
        value = element.get("quantity")
        if value is None:
            if required:
                raise EventProblemError(f"{field}.quantity", "missing")
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise EventProblemError(f"{field}.quantity", "expected a number")
        code = element.get("uom")
        unit = self.units.get(code) or _UNIT_OF_CODE.get(code, code) if code else "EA"
        return {"value": str(value), "uom": unit}

    def party(
        self, field: str, kinds: tuple[str, ...] = ("owning_party", "possessing_party")
    ) -> str:
        for item in self.e.get(field) or []:
            kind = str(item.get("type", "")).rsplit("-", 1)[-1]
            key = "source" if field == "sourceList" else "destination"
            if kind in kinds and isinstance(item.get(key), str):
                try:
                    return (
                        self.ids.parse_party(item[key])
                        if "party" in kind
                        else self.ids.parse_place(item[key])[0]
                    )
                except ValueError as exc:
                    raise EventProblemError(field, str(exc)) from exc
        raise EventProblemError(field, f"no {' or '.join(kinds)} entry")

    def transaction(self, kinds: tuple[str, ...]) -> str | None:
        for item in self.e.get("bizTransactionList") or []:
            kind = str(item.get("type", "")).rsplit("-", 1)[-1]
            if kind in kinds and isinstance(item.get("bizTransaction"), str):
                return self.ids.parse_tail(item["bizTransaction"], "bt")
        return None
