"""The derived view of a trace chain: what people and target systems read.

A chain's winning records become production, materials, quality, warehouse, ERP and
reconciliation facts, plus bookkeeping: :mod:`~streams.domain.view.model` holds the view's data,
:mod:`~streams.domain.view.sections` derives each section from the records of its event types,
and :mod:`~streams.domain.view.derive` assembles the view, all at once (:func:`view_of`) or from
the previous view of the same chain (:func:`rederive`), with the same result either way.
"""

from streams.domain.view.derive import Bookkeeping, Derivation, derive, rederive, view_of
from streams.domain.view.model import (
    ChainView,
    Complaint,
    Consumption,
    Hold,
    Inspection,
    MaterialReceipt,
    ParameterReading,
    Production,
    Shipment,
    Warehouse,
)
from streams.domain.view.sections import ZERO

__all__ = [
    "ZERO",
    "Bookkeeping",
    "ChainView",
    "Complaint",
    "Consumption",
    "Derivation",
    "Hold",
    "Inspection",
    "MaterialReceipt",
    "ParameterReading",
    "Production",
    "Shipment",
    "Warehouse",
    "derive",
    "rederive",
    "view_of",
]
