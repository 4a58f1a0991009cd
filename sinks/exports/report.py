"""Regulator trace report: one HTML or PDF document for a batch, trace code, delivery or complaint.

For each batch the code stands for: production (order, line, shift, team, equipment, every
process parameter with its limits, out-of-limit ones marked), quality (inspections, holds with
their origin, complaints), the genealogy upstream and downstream as a drawn graph and as tables,
stock by location and shipments to customers, the reconciliation verdict, and when the data was
last heard from each source system. HTML from the Jinja2 template ``templates/report.html.j2``;
PDF rendered from the same HTML by WeasyPrint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import Connection, Engine

from sinks.exports.report_graph import genealogy_svg
from sinks.exports.resolve import UnknownCodeError, store_code
from sinks.exports.store_reads import stored_chains
from sinks.store.queries import DEFAULT_MAX_DEPTH, Link, recall, resolve, trace
from tracesync.gs1.identifiers import MasterData

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class BatchSection:
    """What the report shows for one batch."""

    code: str
    chain: dict[str, Any]
    stored_at: datetime
    upstream: tuple[Link, ...]
    downstream: tuple[Link, ...]
    raw_materials: tuple[str, ...]
    customers: tuple[str, ...]
    graph_svg: str
    last_heard: dict[str, str | None]


@dataclass(frozen=True)
class TraceReportData:
    """The whole report: what was asked, what it resolved to, one section per batch."""

    asked: str
    code: str
    kind: str
    generated_at: datetime
    batches: tuple[BatchSection, ...] = field(default_factory=tuple)


def _latest(*values: Any) -> str | None:
    present = [str(v) for v in values if v]
    return max(present) if present else None


def last_heard(chain: dict[str, Any]) -> dict[str, str | None]:
    """Per source system, the latest time among the facts of it the chain keeps.

    The chain keeps no receipt time for WMS facts nor a posting time for ERP ones, so WMS shows
    only whether it was heard from, and ERP the latest ship date.
    """
    p = chain["production"]
    own_holds = [h["changed_at"] for h in chain["holds"] if not h["inherited"]]
    heard = set(chain.get("sources", ()))
    times = {
        "MES": _latest(
            p.get("started_at"),
            p.get("completed_at"),
            *(r["recorded_at"] for r in chain["parameters"]),
        ),
        "QMS": _latest(
            *(i["recorded_at"] for i in chain["inspections"]),
            *own_holds,
            *(c["received_at"] for c in chain["complaints"]),
        ),
        "ERP": _latest(*(s["ship_date"] for s in chain["shipments"])),
        "WMS": None,
    }
    return {
        system: (times[system] or "heard, time not kept") if system in heard else None
        for system in ("MES", "ERP", "WMS", "QMS")
    }


def gather(
    conn: Connection,
    asked: str,
    master: MasterData | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> TraceReportData:
    """Everything the report shows for ``asked`` (a code, or a GS1 code)."""
    code = store_code(conn, asked, master)
    resolved = resolve(conn, code)
    if resolved is None:
        raise UnknownCodeError(f"{asked!r} is not a batch, lot, trace code, delivery or complaint")
    traced = trace(conn, code, max_depth)
    by_batch = {t.batch.batch_code: t for t in (traced.traces if traced else ())}
    sections = []
    for stored in stored_chains(conn, resolved.batch_codes):
        forward = recall(conn, stored.batch_code, max_depth)
        one = by_batch.get(stored.batch_code)
        upstream = one.upstream if one else ()
        p = stored.chain["production"]
        label = p.get("product_name") or p.get("product_code") or ""
        on_hold = any(h["active"] for h in stored.chain["holds"])
        svg = genealogy_svg(stored.batch_code, label, upstream, forward.downstream, on_hold=on_hold)
        sections.append(
            BatchSection(
                code=stored.batch_code,
                chain=stored.chain,
                stored_at=stored.stored_at,
                upstream=upstream,
                downstream=forward.downstream,
                raw_materials=one.raw_materials if one else (),
                customers=forward.customers,
                graph_svg=svg,
                last_heard=last_heard(stored.chain),
            )
        )
    return TraceReportData(asked, code, resolved.kind, datetime.now(UTC), tuple(sections))


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("sinks.exports", "templates"),
        autoescape=select_autoescape(["html", "j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(data: TraceReportData) -> str:
    """The report as one self-contained HTML page."""
    return _environment().get_template("report.html.j2").render(report=data)


def write_report(
    engine: Engine,
    asked: str,
    out: Path,
    fmt: str = "html",
    *,
    master: MasterData | None = None,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> TraceReportData:
    """Gather, render and write the report as ``html`` or ``pdf``."""
    with engine.connect() as conn:
        data = gather(conn, asked, master, max_depth)
    html = render_html(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "pdf":
        from weasyprint import HTML  # noqa: PLC0415 - 2 s to import; only PDF needs it

        HTML(string=html).write_pdf(str(out))
    else:
        out.write_text(html, encoding="utf-8")
    return data
