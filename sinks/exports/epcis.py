"""EPCIS 2.0 export: stored trace chains as an ``EPCISDocument`` in JSON-LD (pure, no I/O).

Per batch: an ObjectEvent ``receiving`` for a purchased lot (source = supplier), a
TransformationEvent ``commissioning`` for production (inputs = the consumed lots with their
quantities, outputs = the batch and its trace codes, process parameters as sensor reports, the
production order as business transaction, the line as read point), an ObjectEvent ``inspecting``
per QMS inspection (disposition conformant / non_conformant), an ObjectEvent ``holding`` per own
hold (placed or released with its disposition) and an ObjectEvent ``shipping`` per delivery line
(destination = customer and ship-to). What EPCIS has no field for travels as ``tracesync:``
extensions, so :mod:`producers.epcis` can capture the document back into the same facts. Every
event's ``eventID`` is its EPCIS event hash (:mod:`tracesync.gs1.epcis_hash`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import IO, Any

import orjson

from sinks.exports.store_reads import StoredChain, Window
from tracesync.gs1.epcis_hash import event_hash, utc_millis
from tracesync.gs1.identifiers import Identifiers
from tracesync.gs1.vocabulary import (
    CONTEXT,
    MEASUREMENT_TYPES,
    NAMESPACE,
    PREFIX,
    RELEASE_DISPOSITION,
    UNIT_CODES,
    UTC_OFFSET,
    VERDICT_DISPOSITION,
)


def ext(name: str) -> str:
    """The JSON-LD key of one of our extension fields."""
    return f"{PREFIX}:{name}"


def epcis_time(value: datetime | date | str) -> str:
    """An EPCIS ``eventTime``: UTC, milliseconds, ``Z``."""
    if isinstance(value, str):
        return utc_millis(value)
    if isinstance(value, datetime):
        return utc_millis(value.isoformat())
    return f"{value.isoformat()}T00:00:00.000Z"


def unit_code(uom: str | None) -> str | None:
    """The UN/CEFACT code of a unit, or the unit itself when it already is one; else ``None``."""
    if not uom:
        return None
    code = UNIT_CODES.get(uom.upper(), uom.upper())
    return code if 2 <= len(code) <= 3 and code.isalnum() else None


def _number(value: Any) -> int | float:
    number = Decimal(str(value))
    return int(number) if number == number.to_integral_value() else float(number)


class EpcisBuilder:
    """Builds the events of stored chains with one set of identifiers."""

    def __init__(self, ids: Identifiers) -> None:
        self.ids = ids

    def events(self, stored: StoredChain, window: Window | None = None) -> list[dict[str, Any]]:
        """Every event of one batch (within the window's dates), each with its ``eventID``."""
        c = stored.chain
        record_time = epcis_time(stored.stored_at)
        found = [
            *self._receiving(c),
            *self._transformation(c),
            *self._inspections(c),
            *self._holds(c),
            *self._shipments(c),
        ]
        chosen = [e for e in found if window is None or window.covers(_parse_time(e["eventTime"]))]
        for event in chosen:
            event["recordTime"] = record_time
            event["eventID"] = event_hash(event, {PREFIX: NAMESPACE})
        chosen.sort(key=lambda e: (e["eventTime"], e["type"], e["eventID"]))
        return chosen

    # -- one event kind each ---------------------------------------------------------------

    def _base(self, kind: str, at: Any, plant: str, sub: str | None = None) -> dict[str, Any]:
        return {
            "type": kind,
            "eventTime": epcis_time(at),
            "eventTimeZoneOffset": UTC_OFFSET,
            "readPoint": {"id": self.ids.location(plant, sub)},
            "bizLocation": {"id": self.ids.location(plant)},
        }

    def _quantity(self, item: str | None, lot: str, qty: Any, uom: str | None) -> dict[str, Any]:
        element: dict[str, Any] = {"epcClass": self.ids.lot_class(item, lot)}
        if qty is not None:
            element["quantity"] = _number(qty)
            code = unit_code(uom)
            if code is not None:
                element["uom"] = code
        return element

    def _receiving(self, c: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        receipt = c.get("material_receipt")
        if not receipt or not c.get("first_event_at"):
            return
        event = self._base("ObjectEvent", c["first_event_at"], c["plant"])
        event |= {
            "action": "OBSERVE",
            "bizStep": "receiving",
            "disposition": "in_progress",
            "quantityList": [
                self._quantity(
                    receipt["material_code"], c["batch_code"], receipt["quantity"], receipt["uom"]
                )
            ],
            "sourceList": [
                {"type": "owning_party", "source": self.ids.party(receipt["supplier_id"])}
            ],
            "destinationList": [
                {"type": "owning_party", "destination": self.ids.party(c["plant"])}
            ],
            ext("supplierLot"): receipt["supplier_lot"],
            ext("units"): _units(receipt["uom"]),
        }
        yield event

    def _transformation(self, c: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        p = c["production"]
        at = p.get("completed_at") or p.get("started_at")
        if at is None or not (p.get("order_id") or c["consumptions"]):
            return
        event = self._base("TransformationEvent", at, c["plant"], p.get("line_id"))
        inputs = [
            self._quantity(x["material_code"], x["parent_lot"], x["quantity"], x["uom"])
            for x in c["consumptions"]
        ]
        if inputs:
            event["inputQuantityList"] = inputs
        produced = p.get("produced_quantity")
        event["outputQuantityList"] = [
            self._quantity(p["product_code"], c["batch_code"], produced, p["uom"])
        ]
        if p.get("trace_codes"):
            event["outputEPCList"] = [self.ids.unit(p["product_code"], t) for t in p["trace_codes"]]
        event |= {
            "transformationID": self.ids.transaction("transformation", c["batch_code"]),
            "bizStep": "commissioning",
            "disposition": "active",
        }
        if p.get("order_id"):
            order = self.ids.transaction("prodorder", p["order_id"])
            event["bizTransactionList"] = [{"type": "prodorder", "bizTransaction": order}]
        if c["parameters"]:
            event["sensorElementList"] = [self._reading(c["plant"], r) for r in c["parameters"]]
        event |= _production_extensions(c)
        yield event

    def _reading(self, plant: str, r: Mapping[str, Any]) -> dict[str, Any]:
        measured = MEASUREMENT_TYPES.get(r["parameter"].lower())
        report: dict[str, Any] = {
            "type": measured or ext(f"parameter-{r['parameter']}".replace(" ", "_")),
            "value": r["value"],
            "uom": r["unit"],
            ext("parameter"): r["parameter"],
            ext("outOfLimit"): bool(r["out_of_limit"]),
        }
        for key, name in (("lower_limit", "lowerLimit"), ("upper_limit", "upperLimit")):
            if r.get(key) is not None:
                report[ext(name)] = r[key]
        return {
            "sensorMetadata": {
                "time": epcis_time(r["recorded_at"]),
                "deviceID": self.ids.equipment(plant, r["equipment_id"]),
            },
            "sensorReport": [report],
        }

    def _inspections(self, c: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for i in c["inspections"]:
            event = self._base("ObjectEvent", i["recorded_at"], c["plant"])
            event |= {"action": "OBSERVE", "bizStep": "inspecting"}
            if i["verdict"] in VERDICT_DISPOSITION:
                event["disposition"] = VERDICT_DISPOSITION[i["verdict"]]
            event["quantityList"] = [self._quantity(_item(c), c["batch_code"], None, None)]
            event |= {
                ext("inspectionID"): i["inspection_id"],
                ext("plan"): i["plan"],
                ext("inspector"): i["inspector"],
                ext("verdict"): i["verdict"],
                ext("failedCharacteristics"): list(i["failed_characteristics"]),
            }
            yield event

    def _holds(self, c: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        for h in c["holds"]:
            if h["inherited"]:  # re-derived by the pipeline from the genealogy, not a fact here
                continue
            event = self._base("ObjectEvent", h["changed_at"], c["plant"])
            event |= {"action": "OBSERVE", "bizStep": "holding"}
            if h["active"]:
                event["disposition"] = "non_sellable_other"
            elif h.get("disposition") in RELEASE_DISPOSITION:
                event["disposition"] = RELEASE_DISPOSITION[h["disposition"]]
            event["quantityList"] = [self._quantity(_item(c), c["batch_code"], None, None)]
            event |= {
                ext("holdID"): h["hold_id"],
                ext("holdState"): "placed" if h["active"] else "released",
                ext("reason"): h["reason"],
            }
            if h.get("disposition"):
                event[ext("holdDisposition")] = h["disposition"]
            yield event

    def _shipments(self, c: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
        uom = c["production"].get("uom") or (c.get("material_receipt") or {}).get("uom")
        for sh in c["shipments"]:
            event = self._base("ObjectEvent", date.fromisoformat(sh["ship_date"]), c["plant"])
            delivery = self.ids.transaction("desadv", sh["delivery_id"])
            event |= {
                "action": "OBSERVE",
                "bizStep": "shipping",
                "disposition": "in_transit",
                "quantityList": [self._quantity(_item(c), c["batch_code"], sh["quantity"], uom)],
                "bizTransactionList": [{"type": "desadv", "bizTransaction": delivery}],
                "sourceList": [{"type": "owning_party", "source": self.ids.party(c["plant"])}],
                "destinationList": [
                    {"type": "owning_party", "destination": self.ids.party(sh["customer_id"])},
                    {"type": "location", "destination": self.ids.location(sh["ship_to"])},
                ],
                ext("units"): _units(uom),
            }
            yield event


def _item(c: Mapping[str, Any]) -> str | None:
    receipt = c.get("material_receipt") or {}
    item = c["production"].get("product_code") or receipt.get("material_code")
    return str(item) if item else None


def _units(*uoms: str | None) -> dict[str, str]:
    """Which source unit each UN/CEFACT code of the event stands for (so capture restores it)."""
    return {code: u for u in uoms if u and (code := unit_code(u)) is not None}


def _production_extensions(c: Mapping[str, Any]) -> dict[str, Any]:
    p = c["production"]
    values = {
        "productCode": p.get("product_code"),
        "productName": p.get("product_name"),
        "line": p.get("line_id"),
        "shift": p.get("shift"),
        "team": p.get("team"),
        "operators": list(p.get("operators") or []),
        "equipment": list(p.get("equipment") or []),
        "plannedQuantity": p.get("planned_quantity"),
        "scrappedQuantity": p.get("scrapped_quantity"),
        "startedAt": epcis_time(p["started_at"]) if p.get("started_at") else None,
        "consumptionIDs": [x["consumption_id"] for x in c["consumptions"]],
        "units": _units(p.get("uom"), *(x["uom"] for x in c["consumptions"])),
    }
    if p.get("completed_at") is None:
        values["inProgress"] = True
    return {ext(k): v for k, v in values.items() if v not in (None, [], {})}


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def document_head(creation: datetime | None = None) -> dict[str, Any]:
    """The document around the event list."""
    return {
        "@context": CONTEXT,
        "id": f"urn:uuid:{uuid.uuid4()}",
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": epcis_time(creation or datetime.now(UTC)),
    }


def build_document(events: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """A whole document in memory (small exports, tests)."""
    return document_head() | {"epcisBody": {"eventList": list(events)}}


def write_document(out: IO[bytes], events: Iterable[Mapping[str, Any]]) -> int:
    """Stream a document to ``out`` event by event; returns the number of events."""
    head = orjson.dumps(document_head())
    out.write(head[:-1] + b',"epcisBody":{"eventList":[')
    count = 0
    for event in events:
        out.write((b"," if count else b"") + orjson.dumps(event))
        count += 1
    out.write(b"]}}")
    return count
