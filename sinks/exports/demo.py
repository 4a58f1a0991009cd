"""The compliance files ``tracesync demo`` ends with: FSMA 204 spreadsheet, EPCIS, PDF report."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

from sinks.exports.epcis_export import write_epcis
from sinks.exports.fsma204 import write_fsma204
from sinks.exports.report import write_report
from sinks.exports.store_reads import Window
from tracesync.gs1.identifiers import Identifiers, MasterData


def write_demo_exports(
    engine: Engine, out_dir: Path, complaint_code: str, master: MasterData | None = None
) -> list[Path]:
    """Write the whole store's FSMA 204 spreadsheet and EPCIS document, and the PDF trace
    report of ``complaint_code``, into ``out_dir``; returns their paths."""
    out_dir.mkdir(parents=True, exist_ok=True)
    sheet = write_fsma204(engine, Window(), out_dir / "fsma204.xlsx").paths[0]
    epcis = out_dir / "epcis.jsonld"
    write_epcis(engine, epcis, Identifiers(master), Window())
    report = out_dir / f"trace-report-{complaint_code}.pdf"
    write_report(engine, complaint_code, report, "pdf", master=master)
    return [sheet, epcis, report]
