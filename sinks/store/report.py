"""Render trace and recall answers as plain text for people, or as JSON-ready dicts.

Times are shown in the plant's time zone with their UTC offset (``zone``, UTC by default), never as
a bare local-looking time; in the dicts too (ISO-8601 with the offset).
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime, tzinfo
from decimal import Decimal
from typing import Any

from sinks.store.lot_facts import LotFacts
from sinks.store.queries import BatchDetail, Link, RecallReport, Reconciliation, TraceReport
from tracesync.plant_time import in_zone, shown


def report_dict(report: object, zone: tzinfo = UTC) -> Any:
    """A trace or recall answer as plain JSON-ready data, its times in ``zone``: the same as
    ``jsonable(zoned(dataclasses.asdict(report), zone))`` in one pass (no deep copy of every
    leaf; the three passes cost more than the queries of a large trace)."""
    return _plain(report, zone)


@functools.cache
def _field_names(kind: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(kind))


_LEAVES = (str, int, float, type(None))


def _plain(value: Any, zone: tzinfo) -> Any:
    if isinstance(value, _LEAVES):
        return value
    if isinstance(value, datetime):
        return in_zone(value, zone).isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _plain(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v, zone) for v in value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {name: _plain(getattr(value, name), zone) for name in _field_names(type(value))}
    return value


def _opt(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _signed(value: object) -> str:
    text = _opt(value)
    return text if text.startswith(("-", "+")) else f"+{text}"


def reconciliation_line(rec: Reconciliation) -> str:
    """``MISMATCH: MES 100.000, WMS 98.000 (-2.000), ERP - (missing)`` for people."""
    if rec.status == "NOT_APPLICABLE":
        return rec.status
    parts = [f"MES {_opt(rec.mes_quantity)}"]
    for system, quantity, delta in (
        ("WMS", rec.wms_quantity, rec.wms_delta),
        ("ERP", rec.erp_quantity, rec.erp_delta),
    ):
        if quantity is None:
            parts.append(f"{system} - (missing)")
        else:
            parts.append(f"{system} {quantity} ({_signed(delta) if delta is not None else '?'})")
    return f"{rec.status}: {', '.join(parts)}"


def supplier_text(supplier_id: str | None, supplier_lot: str | None) -> str:
    """``supplier SUP-1, supplier lot S-77`` or an empty string for a lot without receipt."""
    if supplier_id is None and supplier_lot is None:
        return ""
    return f"supplier {_opt(supplier_id)}, supplier lot {_opt(supplier_lot)}"


def _quality_lines(item: BatchDetail | LotFacts, zone: tzinfo, indent: str) -> list[str]:
    lines = []
    for i in item.inspections:
        failed = f" failed: {i['failed_characteristics']}" if i["failed_characteristics"] else ""
        lines.append(
            f"{indent}inspection   {i['inspection_id']} {i['plan']} {i['verdict']}{failed}"
            f" at {shown(i['recorded_at'], zone)}"
        )
    for h in item.holds:
        state = "ACTIVE" if h["active"] else "released"
        own = f"inherited from {h['origin_code']}" if h["inherited"] else "own"
        lines.append(
            f"{indent}hold         {h['hold_id']} {state} ({own}): {h['reason']}"
            f" since {shown(h['changed_at'], zone)}"
        )
    return lines


def _batch_lines(b: BatchDetail, zone: tzinfo) -> list[str]:
    lines = [
        f"batch {b.batch_code}  (version {b.version})",
        f"  product      {_opt(b.product_code)} {_opt(b.product_name)}",
        f"  order        {_opt(b.order_id)}   line {_opt(b.line_id)}   shift {_opt(b.shift)}"
        f"   team {_opt(b.team)}",
        f"  produced     {_opt(b.produced_quantity)} {_opt(b.uom)}"
        f"   from {shown(b.started_at, zone)} to {shown(b.completed_at, zone)}",
        f"  reconciled   {reconciliation_line(b.reconciliation)}",
        f"  equipment    {', '.join(b.equipment) or '-'}",
        f"  operators    {', '.join(b.operators) or '-'}",
        f"  trace codes  {len(b.trace_codes)}"
        + (f" ({', '.join(b.trace_codes[:5])}{' …' if len(b.trace_codes) > 5 else ''})"),
        f"  on hold      {'YES' if b.on_hold else 'no'}",
    ]
    if b.material_code:
        lines.append(f"  material     {b.material_code}")
    if supplier_text(b.supplier_id, b.supplier_lot):
        lines.append(f"  received     {supplier_text(b.supplier_id, b.supplier_lot)}")
    for p in b.parameters_out_of_limit:
        lines.append(
            f"  OUT OF LIMIT {p['equipment_id']} {p['parameter']} = {p['value']} {p['unit']}"
            f" (limits {_opt(p['lower_limit'])}..{_opt(p['upper_limit'])})"
            f" at {shown(p['recorded_at'], zone)}"
        )
    lines.extend(_quality_lines(b, zone, "  "))
    for s in b.shipments:
        lines.append(
            f"  shipped      {s['delivery_id']} to {s['customer_id']} ({s['ship_to']})"
            f" {s['quantity']} on {s['ship_date']}"
        )
    for c in b.complaints:
        lines.append(
            f"  complaint    {c['complaint_id']} from {c['customer_id']} {c['severity']}:"
            f" {c['defect']} (trace code {_opt(c['trace_code'])})"
            f" received {shown(c['received_at'], zone)}"
        )
    return lines


def _lot_lines(lot: LotFacts, zone: tzinfo) -> list[str]:
    what = lot.product_code or lot.material_code or "?"
    head = f"    {lot.code} ({what})"
    received = supplier_text(lot.supplier_id, lot.supplier_lot)
    if received:
        head += f"  {received}"
    if lot.on_hold:
        head += "  [ON HOLD]"
    quality = _quality_lines(lot, zone, "      ")
    return [head, *(quality or ["      no inspection, no hold"])]


def _link_line(link: Link, arrow: str) -> str:
    what = link.product_code or link.lot_material or "?"
    notes = [] if link.stored else ["not in store"]
    if link.on_hold:
        notes.append("ON HOLD")
    extra = f"  [{', '.join(notes)}]" if notes else ""
    return (
        f"  {'  ' * (link.level - 1)}L{link.level} {link.code} ({what}) {arrow} {link.via}"
        f"  {link.material_code} {link.quantity} {link.uom}{extra}"
    )


def _zone_line(zone: tzinfo) -> str:
    return f"times in {zone}, with the UTC offset"


def trace_text(report: TraceReport, zone: tzinfo = UTC) -> str:
    """A backward trace as text, times in ``zone``."""
    q = report.query
    lines = [f"trace {q.code} ({q.kind}) -> {', '.join(q.batch_codes)}", _zone_line(zone)]
    for one in report.traces:
        lines.append("")
        lines.extend(_batch_lines(one.batch, zone))
        lines.append(f"  upstream lots ({len(one.upstream)} links, level 1 = consumed directly):")
        lines.extend(_link_line(link, "into") for link in one.upstream)
        lines.append(f"  raw materials: {', '.join(one.raw_materials) or '-'}")
        if one.upstream_lots:
            lines.append("  upstream quality, holds and suppliers:")
            for lot in one.upstream_lots:
                lines.extend(_lot_lines(lot, zone))
        if one.depth_limited:
            lines.append("  (walk stopped at --max-depth; there may be more levels)")
    lines.append("")
    lines.append(f"query time {report.elapsed_ms:.1f} ms")
    return "\n".join(lines)


def recall_text(report: RecallReport, zone: tzinfo = UTC) -> str:
    """A forward trace (recall) as text, times in ``zone``."""
    lines = [f"recall {report.lot}", _zone_line(zone)]
    if report.lot_detail is not None:
        lines.extend(_batch_lines(report.lot_detail, zone))
    lines.append(f"downstream batches ({len({link.code for link in report.downstream})}):")
    lines.extend(_link_line(link, "from") for link in report.downstream)
    lines.append("stock now:")
    lines.extend(f"  {s['batch_code']} at {s['location']}: {s['quantity']}" for s in report.stock)
    lines.append("shipped:")
    lines.extend(
        f"  {s['delivery_id']} {s['batch_code']} -> {s['customer_id']} ({s['ship_to']})"
        f" {s['quantity']} on {s['ship_date']}"
        for s in report.shipments
    )
    lines.append(f"customers: {', '.join(report.customers) or '-'}")
    lines.append(f"deliveries: {', '.join(report.deliveries) or '-'}")
    if report.depth_limited:
        lines.append("(walk stopped at --max-depth; there may be more levels)")
    lines.append(f"query time {report.elapsed_ms:.1f} ms")
    return "\n".join(lines)
