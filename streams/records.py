"""Avro records the worker publishes: a chain view as ``TraceChain``, an alert as ``Alert``.

The shapes follow ``avro/TraceChain.avsc`` and ``avro/Alert.avsc`` field for field.
:func:`chain_record` is the plain form (dicts and lists all the way down, as fastavro writes and
reads them); :func:`chain_value` is what the worker hands its compiled writer
(:mod:`tracesync.contracts.avro_writer`, which reads a record from a dict or from an object's
attributes): the view's own frozen parts wherever their fields are the schema's, so that
publishing a chain copies almost nothing. Both encode to the same bytes.
"""

from __future__ import annotations

from dataclasses import fields
from decimal import Decimal
from typing import Any

from streams.domain.alerts import Alert
from streams.domain.view import ChainView

_FIELD_NAMES: dict[type, tuple[str, ...]] = {}


def asdict(obj: Any) -> dict[str, Any]:
    """A flat dataclass as a dict; unlike ``dataclasses.asdict`` it copies nothing (hot path)."""
    cls = type(obj)
    names = _FIELD_NAMES.get(cls)
    if names is None:
        names = _FIELD_NAMES[cls] = tuple(f.name for f in fields(cls))
    return {name: getattr(obj, name) for name in names}


def _locations(pairs: tuple[tuple[str, Decimal], ...]) -> list[dict[str, Any]]:
    return [{"location": loc, "quantity": qty} for loc, qty in pairs]


def chain_record(view: ChainView) -> dict[str, Any]:
    """The ``TraceChain`` record of a view."""
    production = asdict(view.production)
    production["operators"] = list(view.production.operators)
    production["equipment"] = list(view.production.equipment)
    production["trace_codes"] = list(view.production.trace_codes)
    rec = view.reconciliation
    return {
        "batch_code": view.batch_code,
        "version": view.version,
        "plant": view.plant,
        "production": production,
        "parameters": [asdict(p) | {"out_of_limit": p.out_of_limit} for p in view.parameters],
        "consumptions": [asdict(c) for c in view.consumptions],
        "inspections": [
            asdict(i) | {"failed_characteristics": list(i.failed_characteristics)}
            for i in view.inspections
        ],
        "holds": [asdict(h) for h in view.holds],
        "warehouse": {
            "received_quantity": view.warehouse.received_quantity,
            "issued_quantity": view.warehouse.issued_quantity,
            "stock": _locations(view.warehouse.stock_by_location),
            "last_counts": _locations(view.warehouse.last_counts),
        },
        "material_receipt": asdict(view.material_receipt) if view.material_receipt else None,
        "erp_received_quantity": view.erp_received_quantity,
        "production_cost": view.production_cost,
        "cost_currency": view.cost_currency,
        "shipments": [asdict(s) for s in view.shipments],
        "complaints": [asdict(c) for c in view.complaints],
        "reconciliation": {
            "status": rec.status,
            "mes_quantity": rec.mes_quantity,
            "wms_quantity": rec.wms_quantity,
            "erp_quantity": rec.erp_quantity,
            "wms_delta": rec.wms_delta,
            "erp_delta": rec.erp_delta,
            "missing": list(rec.missing),
        },
        "sources": list(view.sources),
        "event_count": view.event_count,
        "first_event_at": view.first_event_at,
        "last_event_at": view.last_event_at,
    }


def chain_value(view: ChainView) -> dict[str, Any]:
    """The ``TraceChain`` record of a view for the compiled writer (see the module's doc)."""
    warehouse = view.warehouse
    return {
        "batch_code": view.batch_code,
        "version": view.version,
        "plant": view.plant,
        "production": view.production,
        "parameters": view.parameters,
        "consumptions": view.consumptions,
        "inspections": view.inspections,
        "holds": view.holds,
        "warehouse": {
            "received_quantity": warehouse.received_quantity,
            "issued_quantity": warehouse.issued_quantity,
            "stock": _locations(warehouse.stock_by_location),
            "last_counts": _locations(warehouse.last_counts),
        },
        "material_receipt": view.material_receipt,
        "erp_received_quantity": view.erp_received_quantity,
        "production_cost": view.production_cost,
        "cost_currency": view.cost_currency,
        "shipments": view.shipments,
        "complaints": view.complaints,
        "reconciliation": view.reconciliation,
        "sources": view.sources,
        "event_count": view.event_count,
        "first_event_at": view.first_event_at,
        "last_event_at": view.last_event_at,
    }


def alert_record(alert: Alert) -> dict[str, Any]:
    """The ``Alert`` record of an alert."""
    return asdict(alert)
