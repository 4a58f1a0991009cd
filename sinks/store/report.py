"""Render trace and recall answers as plain text for people, or as JSON-ready dicts."""

from __future__ import annotations

import dataclasses
from typing import Any

from sinks.store.queries import BatchDetail, Link, RecallReport, TraceReport
from sinks.store.rows import jsonable


def report_dict(report: object) -> Any:
    """A trace or recall answer as plain JSON-ready data."""
    if dataclasses.is_dataclass(report) and not isinstance(report, type):
        return jsonable(dataclasses.asdict(report))
    return jsonable(report)


def _opt(value: object) -> str:
    return "-" if value is None or value == "" else str(value)


def _batch_lines(b: BatchDetail) -> list[str]:
    lines = [
        f"batch {b.batch_code}  (version {b.version})",
        f"  product      {_opt(b.product_code)} {_opt(b.product_name)}",
        f"  order        {_opt(b.order_id)}   line {_opt(b.line_id)}   shift {_opt(b.shift)}"
        f"   team {_opt(b.team)}",
        f"  produced     {_opt(b.produced_quantity)} {_opt(b.uom)}"
        f"   reconciliation {b.reconciliation_status}",
        f"  equipment    {', '.join(b.equipment) or '-'}",
        f"  operators    {', '.join(b.operators) or '-'}",
        f"  trace codes  {len(b.trace_codes)}"
        + (f" ({', '.join(b.trace_codes[:5])}{' …' if len(b.trace_codes) > 5 else ''})"),
        f"  on hold      {'YES' if b.on_hold else 'no'}",
    ]
    if b.material_code:
        lines.append(f"  material     {b.material_code}")
    for p in b.parameters_out_of_limit:
        lines.append(
            f"  OUT OF LIMIT {p['equipment_id']} {p['parameter']} = {p['value']} {p['unit']}"
            f" (limits {_opt(p['lower_limit'])}..{_opt(p['upper_limit'])}) at {p['recorded_at']}"
        )
    for i in b.inspections:
        failed = f" failed: {i['failed_characteristics']}" if i["failed_characteristics"] else ""
        lines.append(f"  inspection   {i['inspection_id']} {i['plan']} {i['verdict']}{failed}")
    for h in b.holds:
        state = "ACTIVE" if h["active"] else "released"
        own = f"inherited from {h['origin_code']}" if h["inherited"] else "own"
        lines.append(f"  hold         {h['hold_id']} {state} ({own}): {h['reason']}")
    for s in b.shipments:
        lines.append(
            f"  shipped      {s['delivery_id']} to {s['customer_id']} ({s['ship_to']})"
            f" {s['quantity']} on {s['ship_date']}"
        )
    for c in b.complaints:
        lines.append(
            f"  complaint    {c['complaint_id']} from {c['customer_id']} {c['severity']}:"
            f" {c['defect']} (trace code {_opt(c['trace_code'])})"
        )
    return lines


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


def trace_text(report: TraceReport) -> str:
    """A backward trace as text."""
    q = report.query
    lines = [f"trace {q.code} ({q.kind}) -> {', '.join(q.batch_codes)}"]
    for one in report.traces:
        lines.append("")
        lines.extend(_batch_lines(one.batch))
        lines.append(f"  upstream lots ({len(one.upstream)} links, level 1 = consumed directly):")
        lines.extend(_link_line(link, "into") for link in one.upstream)
        lines.append(f"  raw materials: {', '.join(one.raw_materials) or '-'}")
        if one.depth_limited:
            lines.append("  (walk stopped at --max-depth; there may be more levels)")
    lines.append("")
    lines.append(f"query time {report.elapsed_ms:.1f} ms")
    return "\n".join(lines)


def recall_text(report: RecallReport) -> str:
    """A forward trace (recall) as text."""
    lines = [f"recall {report.lot}"]
    if report.lot_detail is not None:
        lines.extend(_batch_lines(report.lot_detail))
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
