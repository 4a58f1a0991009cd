"""ERP events of the ground truth: material receipts posted, production receipts posted (with
their cost), shipments dispatched (one event per delivery line).

The drafts come in a fixed order (material receipts, production receipts, deliveries): the
recording delays are drawn in this order, so it keeps runs equal.
"""

from __future__ import annotations

from tracesync.devtools.simulator.drafts import Draft, qty
from tracesync.devtools.simulator.model import (
    DeliveryLine,
    MaterialReceipt,
    Plant,
    ProductionReceipt,
)


def erp_drafts(plant: Plant) -> list[Draft]:
    drafts = [_material_receipt(m) for m in plant.material_receipts]
    drafts.extend(_production_receipt(p) for p in plant.production_receipts)
    drafts.extend(_shipment(d) for d in plant.deliveries)
    return drafts


def _material_receipt(m: MaterialReceipt) -> Draft:
    payload = {
        "receipt_id": m.receipt_id,
        "supplier_id": m.supplier_id,
        "supplier_lot": m.supplier_lot,
        "material_code": m.material_code,
        "quantity": qty(m.quantity, m.uom),
    }
    ref = f"ERP:MR:{m.receipt_id}"
    return Draft("ERP", "MATERIAL_RECEIPT_POSTED", ref, 1, m.code, m.at, None, payload)


def _production_receipt(p: ProductionReceipt) -> Draft:
    payload = {
        "order_id": p.order_id,
        "quantity": qty(p.quantity, p.uom),
        "cost": p.cost,
        "currency": p.currency,
    }
    ref = f"ERP:PR:{p.receipt_id}"
    return Draft("ERP", "PRODUCTION_RECEIPT_POSTED", ref, 1, p.code, p.at, None, payload)


def _shipment(d: DeliveryLine) -> Draft:
    payload = {
        "delivery_id": d.delivery_id,
        "customer_id": d.customer_id,
        "ship_to": d.ship_to,
        "quantity": qty(d.quantity, d.uom),
        "ship_date": d.ship_date,
    }
    ref = f"ERP:DLV:{d.delivery_id}:L{d.line_no}"
    return Draft("ERP", "SHIPMENT_DISPATCHED", ref, 1, d.code, d.at, None, payload)
