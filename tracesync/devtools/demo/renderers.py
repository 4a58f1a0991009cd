"""What each source system would write for one simulated event, in the shape its edge reads.

The simulator speaks in envelopes; the legacy edges read rows. These renderers write, per event
type, exactly the columns the mapping files of ``deploy/mappings`` read, with the envelope's
values (nothing invented): WMS goods receipts as CSV rows, QMS inspections as XML elements, ERP
receipts and shipments as outbox rows. Every other event type goes over REST as the envelope
itself.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

Envelope = Mapping[str, Any]
Row = dict[str, Any]

WMS_ZONE = ZoneInfo("Europe/Berlin")
"""The WMS exports plant-local times (deploy/mappings/wms_receipts.csv.toml)."""
QMS_VERDICT_CODES = {"PASS": "OK", "FAIL": "NOK", "CONDITIONAL": "COND"}
"""The QMS export's verdict codes (the mapping translates them back)."""


class Edge(StrEnum):
    """The three ways into the pipeline."""

    REST = "rest"
    DB = "db"
    FILE = "file"


EDGE_OF_EVENT = {
    "GOODS_RECEIVED": Edge.FILE,
    "INSPECTION_RECORDED": Edge.FILE,
    "MATERIAL_RECEIPT_POSTED": Edge.DB,
    "PRODUCTION_RECEIPT_POSTED": Edge.DB,
    "SHIPMENT_DISPATCHED": Edge.DB,
}


def edge_of(envelope: Envelope) -> Edge:
    return EDGE_OF_EVENT.get(str(envelope["event_type"]), Edge.REST)


def _iso_utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _text(value: Decimal | float | int) -> str:
    return str(value)


# -- WMS: CSV export -------------------------------------------------------------------------

WMS_RECEIPT_COLUMNS = (
    "receipt_no",
    "revision",
    "lot",
    "qty",
    "uom",
    "location",
    "hu",
    "received_at",
)


def wms_receipt_row(envelope: Envelope) -> Row:
    p = envelope["payload"]
    local = envelope["occurred_at"].astimezone(WMS_ZONE)
    return {
        "receipt_no": p["receipt_id"],
        "revision": envelope["source_seq"],
        "lot": envelope["batch_code"],
        "qty": _text(p["quantity"]["value"]),
        "uom": p["quantity"]["uom"],
        "location": p["location"],
        "hu": p["handling_unit"],
        # local plant time; the offset keeps the one ambiguous hour a year unambiguous
        "received_at": local.isoformat(sep=" ", timespec="milliseconds"),
    }


# -- QMS: XML export -------------------------------------------------------------------------


def qms_inspection_element(envelope: Envelope) -> ET.Element:
    p = envelope["payload"]
    element = ET.Element(
        "Inspection",
        {
            "id": p["inspection_id"],
            "batch": envelope["batch_code"],
            "revision": str(envelope["source_seq"]),
            "inspectedAt": _iso_utc(envelope["occurred_at"]),
        },
    )
    ET.SubElement(element, "Plan").text = p["plan"]
    ET.SubElement(element, "Verdict").text = QMS_VERDICT_CODES.get(p["verdict"], p["verdict"])
    ET.SubElement(element, "Inspector").text = p["inspector"]
    characteristics = ET.SubElement(element, "Characteristics")
    for c in p["characteristics"]:
        attributes = {
            "name": c["name"],
            "value": repr(c["value"]),
            "unit": c["unit"],
            "ok": "true" if c["passed"] else "false",
        }
        for name, limit in (("lower", c["lower_limit"]), ("upper", c["upper_limit"])):
            if limit is not None:
                attributes[name] = repr(limit)
        ET.SubElement(characteristics, "Characteristic", attributes)
    return element


def qms_export(elements: list[ET.Element], plant: str, exported: dt.datetime) -> bytes:
    root = ET.Element("InspectionExport", {"plant": plant, "exported": _iso_utc(exported)})
    root.extend(elements)
    ET.indent(root)
    data: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return data


# -- ERP: transactional outbox tables ----------------------------------------------------------

ERP_OUTBOX_DDL = (
    # quantities and money as text: SQLite's NUMERIC affinity would keep binary floats
    """CREATE TABLE IF NOT EXISTS erp_outbox (
        outbox_id INTEGER PRIMARY KEY, receipt_id TEXT NOT NULL, version INTEGER NOT NULL,
        lot_code TEXT NOT NULL, supplier_id TEXT, supplier_lot TEXT, material_code TEXT,
        qty TEXT, uom TEXT, posted_at TEXT, published_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS erp_production_receipt_outbox (
        outbox_id INTEGER PRIMARY KEY, receipt_id TEXT NOT NULL, version INTEGER NOT NULL,
        batch_code TEXT NOT NULL, order_id TEXT, qty TEXT, uom TEXT, cost TEXT, currency TEXT,
        posted_at TEXT, recorded_at TEXT)""",
    """CREATE TABLE IF NOT EXISTS erp_shipment_outbox (
        outbox_id INTEGER PRIMARY KEY, delivery_id TEXT NOT NULL, line_no INTEGER NOT NULL,
        version INTEGER NOT NULL, batch_code TEXT NOT NULL, customer_id TEXT, ship_to TEXT,
        qty TEXT, uom TEXT, ship_date TEXT, dispatched_at TEXT, recorded_at TEXT)""",
)


def _material_receipt(envelope: Envelope) -> Row:
    p = envelope["payload"]
    return {
        "receipt_id": p["receipt_id"],
        "version": envelope["source_seq"],
        "lot_code": envelope["batch_code"],
        "supplier_id": p["supplier_id"],
        "supplier_lot": p["supplier_lot"],
        "material_code": p["material_code"],
        "qty": _text(p["quantity"]["value"]),
        "uom": p["quantity"]["uom"],
        "posted_at": _iso_utc(envelope["occurred_at"]),
    }


def _production_receipt(envelope: Envelope) -> Row:
    p = envelope["payload"]
    return {
        "receipt_id": str(envelope["source_ref"]).removeprefix("ERP:PR:"),
        "version": envelope["source_seq"],
        "batch_code": envelope["batch_code"],
        "order_id": p["order_id"],
        "qty": _text(p["quantity"]["value"]),
        "uom": p["quantity"]["uom"],
        "cost": _text(p["cost"]),
        "currency": p["currency"],
        "posted_at": _iso_utc(envelope["occurred_at"]),
        "recorded_at": _iso_utc(envelope["recorded_at"]),
    }


def _shipment(envelope: Envelope) -> Row:
    p = envelope["payload"]
    # the delivery line number is part of ERP's record id: ERP:DLV:<delivery>:L<line>
    line_no = int(str(envelope["source_ref"]).rsplit(":L", 1)[1])
    return {
        "delivery_id": p["delivery_id"],
        "line_no": line_no,
        "version": envelope["source_seq"],
        "batch_code": envelope["batch_code"],
        "customer_id": p["customer_id"],
        "ship_to": p["ship_to"],
        "qty": _text(p["quantity"]["value"]),
        "uom": p["quantity"]["uom"],
        "ship_date": p["ship_date"].isoformat(),
        "dispatched_at": _iso_utc(envelope["occurred_at"]),
        "recorded_at": _iso_utc(envelope["recorded_at"]),
    }


OUTBOX_OF_EVENT: dict[str, tuple[str, Callable[[Envelope], Row]]] = {
    "MATERIAL_RECEIPT_POSTED": ("erp_outbox", _material_receipt),
    "PRODUCTION_RECEIPT_POSTED": ("erp_production_receipt_outbox", _production_receipt),
    "SHIPMENT_DISPATCHED": ("erp_shipment_outbox", _shipment),
}


def outbox_row(envelope: Envelope) -> tuple[str, Row]:
    """The outbox table and row ERP writes in the transaction that posts this document."""
    table, render = OUTBOX_OF_EVENT[str(envelope["event_type"])]
    return table, render(envelope)
