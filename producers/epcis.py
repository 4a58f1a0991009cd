"""EPCIS 2.0 capture: the events of an ``EPCISDocument`` as tracesync envelopes (pure, no I/O).

:func:`map_document` maps each event on its own: a TransformationEvent becomes the MES events of
production (order released, batch started and completed, one material consumption per input, one
parameter reading per sensor report), ObjectEvents by business step become ERP material receipts
(``receiving``) and shipments (``shipping``), QMS inspections (``inspecting``) and holds placed or
released (``holding``). Lots are read from the EPC class of each quantity (GS1 Digital Link
``/01/{GTIN}/10/{lot}``, LGTIN URN, or ours); ``tracesync:`` extensions written by
:mod:`sinks.exports.epcis` restore what EPCIS has no field for. An event that cannot be mapped
comes back as :class:`Unmapped` with each problem by field path; the others still map.

Envelope ids are UUID5 of the EPCIS event id (its event hash when the document has none) and the
part, source refs come from business ids (``EPCIS:BC:{batch}``...), the source sequence from
``recordTime`` (else ``eventTime``) in milliseconds: capturing a document twice changes nothing,
a later export of the same batch supersedes the earlier one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from producers.epcis_reader import Envelope, EventProblemError, EventReader, iso, parse_time
from tracesync.errors import TracesyncError
from tracesync.gs1.epcis_hash import context_prefixes, event_hash
from tracesync.gs1.identifiers import Identifiers
from tracesync.gs1.vocabulary import NAMESPACE, PREFIX, RELEASE_DISPOSITION

Problem = tuple[str, str]
_RELEASED_BY_DISPOSITION = {v: k for k, v in RELEASE_DISPOSITION.items()}
_SUPPORTED = "receiving, shipping, inspecting, holding (ObjectEvent) and TransformationEvent"


class EpcisDocumentError(TracesyncError):
    """The body is not an EPCIS document at all; ``problems`` name the fields."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))


@dataclass(frozen=True)
class Mapped:
    """One EPCIS event and the envelopes it became."""

    index: int
    epcis_event_id: str
    envelopes: tuple[Envelope, ...]


@dataclass(frozen=True)
class Unmapped:
    """One EPCIS event that could not be mapped, and why."""

    index: int
    epcis_event_id: str | None
    problems: tuple[Problem, ...]


def event_list(document: Any) -> list[Any]:
    """The events of an ``EPCISDocument`` (or a single event object)."""
    if not isinstance(document, Mapping):
        raise EpcisDocumentError([("<body>", "expected a JSON object (an EPCISDocument)")])
    if document.get("type") != "EPCISDocument":
        found = document.get("type")
        raise EpcisDocumentError([("type", f"expected 'EPCISDocument', got {found!r}")])
    body = document.get("epcisBody")
    events = body.get("eventList") if isinstance(body, Mapping) else None
    if not isinstance(events, list):
        raise EpcisDocumentError([("epcisBody.eventList", "missing or not an array")])
    if not events:
        raise EpcisDocumentError([("epcisBody.eventList", "no events")])
    return events


def map_document(document: Any, ids: Identifiers, plant: str) -> list[Mapped | Unmapped]:
    """Each event of the document, mapped or not (document-level errors raise)."""
    events = event_list(document)
    prefixes = context_prefixes(document.get("@context")) | {PREFIX: NAMESPACE}
    return [_map_one(i, e, ids, plant, prefixes) for i, e in enumerate(events)]


def _map_one(
    index: int, event: Any, ids: Identifiers, plant: str, prefixes: Mapping[str, str]
) -> Mapped | Unmapped:
    where = f"epcisBody.eventList[{index}]"
    if not isinstance(event, Mapping):
        return Unmapped(index, None, ((where, "expected an event object"),))
    given = event.get("eventID")
    try:
        epcis_id = str(given) if given else event_hash(event, prefixes)
        reader = EventReader(event, ids, plant, epcis_id)
        envelopes = tuple(_envelopes(reader))
    except EventProblemError as exc:
        return Unmapped(index, given, ((f"{where}.{exc.field}", exc.reason),))
    if not envelopes:
        return Unmapped(index, given, ((where, "the event names no lot to record"),))
    return Mapped(index, epcis_id, envelopes)


def _envelopes(r: EventReader) -> Iterator[Envelope]:
    kind = r.e.get("type")
    if kind == "TransformationEvent":
        yield from _production(r)
        return
    if kind != "ObjectEvent":
        raise EventProblemError("type", f"{kind!r} is not mapped; supported: {_SUPPORTED}")
    step = str(r.e.get("bizStep", "")).rsplit("-", 1)[-1].rsplit("/", 1)[-1]
    handler = _OBJECT_STEPS.get(step)
    if handler is None:
        raise EventProblemError(
            "bizStep", f"{step or 'none'!r} is not mapped; supported: {_SUPPORTED}"
        )
    yield from handler(r)


def _production(r: EventReader) -> Iterator[Envelope]:
    outputs = r.lots("outputQuantityList", quantities=False)
    if not outputs:
        raise EventProblemError("outputQuantityList", "no output lot: the produced batch is needed")
    out_lot, produced = outputs[0]
    batch, product = out_lot.lot, r.ext("productCode") or out_lot.item or ""
    line = r.ext("line") or _line(r)
    order = r.transaction(("prodorder",)) or ""
    crew = {
        "order_id": order,
        "product_code": product,
        "line_id": line,
        "shift": r.ext("shift") or "",
        "team": r.ext("team") or "",
        "operators": list(r.ext("operators") or []),
        "equipment": list(r.ext("equipment") or []),
    }
    planned = r.ext("plannedQuantity")
    uom = produced["uom"] if produced else _first_unit(r)
    if order and planned is not None:
        yield r.envelope(
            "PRODUCTION_ORDER_RELEASED",
            "MES",
            f"EPCIS:PO:{order}",
            batch,
            {
                "order_id": order,
                "product_code": product,
                "product_name": r.ext("productName") or product,
                "line_id": line,
                "planned_quantity": {"value": str(planned), "uom": uom},
            },
        )
    started = r.ext("startedAt")
    if started:
        at, _ = parse_time(started, f"{PREFIX}:startedAt")
        yield r.envelope("BATCH_STARTED", "MES", f"EPCIS:BS:{batch}", batch, crew, at=at)
    if produced is not None and not r.ext("inProgress"):
        units = [_unit(r, u, i) for i, u in enumerate(r.e.get("outputEPCList") or [])]
        scrapped = r.ext("scrappedQuantity") or "0"
        done = crew | {
            "trace_codes": units,
            "produced_quantity": produced,
            "scrapped_quantity": {"value": str(scrapped), "uom": produced["uom"]},
        }
        yield r.envelope("BATCH_COMPLETED", "MES", f"EPCIS:BC:{batch}", batch, done)
    yield from _consumptions(r, batch)
    yield from _readings(r, batch)


def _line(r: EventReader) -> str:
    point = (r.e.get("readPoint") or {}).get("id")
    if isinstance(point, str):
        try:
            return r.ids.parse_place(point)[1] or ""
        except ValueError:
            return ""
    return ""


def _first_unit(r: EventReader) -> str:
    return next(iter(r.units.values()), "EA")


def _unit(r: EventReader, uri: Any, i: int) -> str:
    try:
        return r.ids.parse_unit(str(uri))
    except ValueError as exc:
        raise EventProblemError(f"outputEPCList[{i}]", str(exc)) from exc


def _consumptions(r: EventReader, batch: str) -> Iterator[Envelope]:
    ids = r.ext("consumptionIDs") or []
    for i, (lot, qty) in enumerate(r.lots("inputQuantityList", quantities=True)):
        consumption = ids[i] if i < len(ids) else f"{r.epcis_id}#input{i}"
        payload = {
            "consumption_id": consumption,
            "parent_lot": lot.lot,
            "material_code": lot.item or "",
            "quantity": qty,
        }
        ref = f"EPCIS:CONS:{consumption}"
        yield r.envelope("MATERIAL_CONSUMED", "MES", ref, batch, payload)


def _readings(r: EventReader, batch: str) -> Iterator[Envelope]:
    for i, element in enumerate(r.e.get("sensorElementList") or []):
        meta = element.get("sensorMetadata") or {}
        for j, report in enumerate(element.get("sensorReport") or []):
            where = f"sensorElementList[{i}].sensorReport[{j}]"
            value = report.get("value")
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EventProblemError(f"{where}.value", "a numeric reading is needed")
            device = report.get("deviceID") or meta.get("deviceID") or ""
            equipment = r.ids.parse_tail(device, "equipment") if device else ""
            name = report.get(f"{PREFIX}:parameter") or str(report.get("type", "")).split(":")[-1]
            when = report.get("time") or meta.get("time")
            at = parse_time(when, f"{where}.time")[0] if when else r.at
            payload = {
                "equipment_id": equipment,
                "parameter": name,
                "value": float(value),
                "unit": str(report.get("uom", "")),
                "lower_limit": report.get(f"{PREFIX}:lowerLimit"),
                "upper_limit": report.get(f"{PREFIX}:upperLimit"),
            }
            ref = f"EPCIS:PP:{batch}:{equipment}:{name}:{iso(at)}"
            yield r.envelope("PROCESS_PARAMETER_RECORDED", "MES", ref, batch, payload, at=at)


def _receiving(r: EventReader) -> Iterator[Envelope]:
    supplier = r.party("sourceList")
    for i, (lot, qty) in enumerate(r.lots("quantityList", quantities=True)):
        payload = {
            "receipt_id": r.ext("receiptID") or f"{r.epcis_id}#{i}",
            "supplier_id": supplier,
            "supplier_lot": r.ext("supplierLot") or lot.lot,
            "material_code": lot.item or "",
            "quantity": qty,
        }
        yield r.envelope("MATERIAL_RECEIPT_POSTED", "ERP", f"EPCIS:MR:{lot.lot}", lot.lot, payload)


def _shipping(r: EventReader) -> Iterator[Envelope]:
    delivery = r.transaction(("desadv", "bol", "inv", "po")) or r.epcis_id
    customer = r.party("destinationList")
    try:
        ship_to = r.party("destinationList", ("location",))
    except EventProblemError:
        ship_to = customer
    for lot, qty in r.lots("quantityList", quantities=True):
        payload = {
            "delivery_id": delivery,
            "customer_id": customer,
            "ship_to": ship_to,
            "quantity": qty,
            "ship_date": r.at.date().isoformat(),
        }
        ref = f"EPCIS:DLV:{delivery}:{lot.lot}"
        yield r.envelope("SHIPMENT_DISPATCHED", "ERP", ref, lot.lot, payload)


def _inspecting(r: EventReader) -> Iterator[Envelope]:
    disposition = str(r.e.get("disposition", "")).rsplit("-", 1)[-1]
    verdict = r.ext("verdict") or {"conformant": "PASS", "non_conformant": "FAIL"}.get(
        disposition, "UNKNOWN"
    )
    failed = [
        {"name": str(n), "value": 0.0, "unit": "", "lower_limit": None, "upper_limit": None}
        | {"passed": False}
        for n in r.ext("failedCharacteristics") or []
    ]
    inspection = r.ext("inspectionID") or r.epcis_id
    for lot, _ in r.lots("quantityList", quantities=False):
        payload = {
            "inspection_id": inspection,
            "plan": r.ext("plan") or "",
            "characteristics": failed,
            "verdict": verdict,
            "inspector": r.ext("inspector") or "",
        }
        ref = f"EPCIS:INS:{inspection}:{lot.lot}"
        yield r.envelope("INSPECTION_RECORDED", "QMS", ref, lot.lot, payload)


def _holding(r: EventReader) -> Iterator[Envelope]:
    disposition = str(r.e.get("disposition", "")).rsplit("-", 1)[-1]
    state = r.ext("holdState") or (
        "released" if disposition in _RELEASED_BY_DISPOSITION else "placed"
    )
    hold = r.ext("holdID") or r.epcis_id
    reason = r.ext("reason") or "EPCIS holding event"
    for lot, _ in r.lots("quantityList", quantities=False):
        common = {"hold_id": hold, "target_type": "BATCH", "reason": reason}
        if state == "released":
            given = r.ext("holdDisposition") or _RELEASED_BY_DISPOSITION.get(disposition)
            payload = common | {"released_by": "EPCIS", "disposition": given or "RELEASE"}
            kind = "HOLD_RELEASED"
        else:
            payload = common | {"placed_by": "EPCIS"}
            kind = "HOLD_PLACED"
        yield r.envelope(kind, "QMS", f"EPCIS:HOLD:{hold}:{state}:{lot.lot}", lot.lot, payload)


_OBJECT_STEPS: dict[str, Callable[[EventReader], Iterator[Envelope]]] = {
    "receiving": _receiving,
    "shipping": _shipping,
    "inspecting": _inspecting,
    "holding": _holding,
}
