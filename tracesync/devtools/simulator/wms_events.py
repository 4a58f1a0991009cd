"""WMS events of the ground truth: goods received and issued, stock transfers, stock counts
(a recount of the same count is a later version of its record).

The drafts come in a fixed order (receipts, issues, transfers, counts): the recording delays are
drawn in this order, so it keeps runs equal.
"""

from __future__ import annotations

from tracesync.devtools.simulator.drafts import Draft, qty
from tracesync.devtools.simulator.model import GoodsIssue, GoodsReceipt, Plant, StockCount, Transfer


def wms_drafts(plant: Plant) -> list[Draft]:
    drafts = [_received(r) for r in plant.receipts]
    drafts.extend(_issued(g) for g in plant.issues)
    drafts.extend(_transferred(t) for t in plant.transfers)
    for count in plant.counts:
        drafts.extend(_counted(count))
    return drafts


def _received(r: GoodsReceipt) -> Draft:
    payload = {
        "receipt_id": r.receipt_id,
        "quantity": qty(r.quantity, r.uom),
        "location": r.location,
        "handling_unit": r.handling_unit,
    }
    return Draft("WMS", "GOODS_RECEIVED", f"WMS:GR:{r.receipt_id}", 1, r.code, r.at, None, payload)


def _issued(g: GoodsIssue) -> Draft:
    payload = {
        "issue_id": g.issue_id,
        "order_ref": g.order_ref,
        "quantity": qty(g.quantity, g.uom),
        "location": g.location,
    }
    return Draft("WMS", "GOODS_ISSUED", f"WMS:GI:{g.issue_id}", 1, g.code, g.at, None, payload)


def _transferred(t: Transfer) -> Draft:
    payload = {
        "transfer_id": t.transfer_id,
        "from_location": t.from_location,
        "to_location": t.to_location,
        "quantity": qty(t.quantity, t.uom),
        "handling_unit": t.handling_unit,
    }
    ref = f"WMS:ST:{t.transfer_id}"
    return Draft("WMS", "STOCK_TRANSFERRED", ref, 1, t.code, t.at, None, payload)


def _counted(s: StockCount) -> list[Draft]:
    """One draft per version of the count; versions after the first carry their update time."""
    drafts = []
    for seq, value in enumerate(s.versions, start=1):
        recorded = s.updated_at if seq > 1 else None
        payload = {"count_id": s.count_id, "location": s.location, "quantity": qty(value, s.uom)}
        ref = f"WMS:SC:{s.count_id}"
        drafts.append(Draft("WMS", "STOCK_COUNTED", ref, seq, s.code, s.at, recorded, payload))
    return drafts
