"""The evaluation sheet (选型评估表) of an assessment, as an xlsx workbook or as Markdown.

Both carry the same tables: a summary, the five steps' findings, the four-dimension comparison
(in the workbook the weights are cells and the weighted totals are formulas over them, so a
reader can re-weigh), the costs, the systems with their edges and the plan per flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from tracesync.assess.assessment import Assessment
from tracesync.assess.compare import DIMENSION_NAMES, DIMENSIONS
from tracesync.assess.costs import APPROACH_NAMES, APPROACHES, links, mesh
from tracesync.assess.edges import EDGE_NAMES
from tracesync.assess.latency import describe
from tracesync.assess.steps import interfaces_text
from tracesync.errors import ConfigurationError

Table = tuple[list[str], list[list[Any]]]


def summary_rows(a: Assessment) -> list[list[Any]]:
    org = a.inventory.organization
    line = a.timeline
    rows: list[list[Any]] = [
        ["Organization", org.name],
        ["Industry", org.industry],
        ["Plants today", ", ".join(org.plants)],
        ["Systems today (N)", line.today],
        [f"Systems in {line.years} years", line.future],
        ["Point-to-point: all pairs today, N·(N−1)/2", mesh(line.today)],
        ["Point-to-point interfaces the flows need today", line.pairs],
        [f"Point-to-point interfaces in {line.years} years", links("p2p", line.future, line)],
        [f"Point-to-point: all pairs in {line.years} years", mesh(line.future)],
        ["Crossover (systems)", a.crossover if a.crossover is not None else "none"],
        ["Best approach", APPROACH_NAMES[a.comparison.best]],
    ]
    rows += [["Verdict", v] for v in a.verdict()]
    return rows


def step_table(a: Assessment) -> Table:
    rows = [
        [f"{s.number}. {s.title}", f.rule, f.level, f.subject or "", f.text]
        for s in a.steps
        for f in s.findings
    ]
    return ["Step", "Rule", "Level", "Subject", "Finding"], rows


def comparison_table(a: Assessment) -> Table:
    c = a.comparison
    weights = {w.dimension: w for w in c.weights}
    rows = [
        [DIMENSION_NAMES[d], weights[d].value, *(c.score(x, d).value for x in APPROACHES)]
        for d in DIMENSIONS
    ]
    return ["Dimension", "Weight", *(APPROACH_NAMES[x] for x in APPROACHES)], rows


def working_table(a: Assessment) -> Table:
    c = a.comparison
    rows: list[list[Any]] = [
        [DIMENSION_NAMES[d], APPROACH_NAMES[x], c.score(x, d).working]
        for d in DIMENSIONS
        for x in APPROACHES
    ]
    rows += [
        [f"weight of {w.dimension}", w.value, "; ".join(w.reasons) or "default"] for w in c.weights
    ]
    rows += [[f.rule, "", f.text] for f in c.fit]
    rows += [
        ["G1", APPROACH_NAMES[x], f"ruled out: misses {', '.join(m)}"]
        for x, m in c.ruled_out.items()
    ]
    return ["Item", "Approach", "Working"], rows


def cost_table(a: Assessment) -> Table:
    budget = a.inventory.budget
    rows = []
    for x in APPROACHES:
        cost = a.costs[x]
        rate = budget.day_rate
        rows.append(
            [
                APPROACH_NAMES[x],
                cost.initial_days,
                cost.total_days,
                cost.initial_days * rate if rate else "",
                cost.total_days * rate if rate else "",
                f"{cost.initial_working}; {cost.total_working}",
            ]
        )
    money = f"({budget.currency})"
    head = [
        "Approach",
        "Initial (d)",
        f"{a.timeline.years}-year total (d)",
        f"Initial {money}",
        f"Total {money}",
        "Working",
    ]
    return head, rows


def system_table(a: Assessment) -> Table:
    rows = []
    for s in a.inventory.systems:
        choice = a.choices.get(s.id)
        option = choice.option if choice else None
        chosen = f"{option.rule} {EDGE_NAMES[option.kind]} ({option.mode})" if option else ""
        if choice is None:
            chosen = "(no outgoing flow)"
        rows.append([s.id, s.kind, s.vendor, s.plant or "", interfaces_text(s), chosen])
    return ["System", "Kind", "Vendor", "Plant", "Interfaces", "Edge"], rows


def flow_table(a: Assessment) -> Table:
    rows = []
    for p in a.plans:
        edge = f"{p.edge.rule} {EDGE_NAMES[p.edge.kind]} ({p.edge.mode})" if p.edge else ""
        rows.append(
            [
                p.flow,
                p.source,
                ", ".join(p.targets),
                p.scenario,
                describe(p.need.seconds),
                p.need.grade,
                edge,
                p.edge.command if p.edge else "",
                describe(p.latency_s) if p.latency_s is not None else "no path",
                "met" if p.meets else "FLAGGED",
                "\n".join(f"[{c.rule}] {c.text}" for c in p.why),
                "\n".join(f"[{c.rule}] {c.text}" for c in p.problems),
                "\n".join(p.fixes),
            ]
        )
    head = [
        "Flow",
        "From",
        "To",
        "Scenario",
        "Need",
        "Grade",
        "Edge",
        "Command",
        "Estimate",
        "Status",
        "Why",
        "Problems",
        "Fixes",
    ]
    return head, rows


# -- xlsx ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Formats:
    """The workbook's cell formats (xlsxwriter Format objects)."""

    bold: Any
    wrap: Any
    number: Any


def write_xlsx(a: Assessment, path: Path) -> None:
    """The evaluation sheet as a workbook (re-weighable totals)."""
    book = xlsxwriter.Workbook(str(path))
    formats = _Formats(
        bold=book.add_format(
            {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"}
        ),
        wrap=book.add_format({"text_wrap": True, "valign": "top"}),
        number=book.add_format({"num_format": "0.0", "valign": "top"}),
    )
    summary = book.add_worksheet("Summary")
    summary.set_column(0, 0, 44)
    summary.set_column(1, 1, 100, formats.wrap)
    for r, row in enumerate(summary_rows(a)):
        summary.write_row(r, 0, row)
    _compare_sheet(book, a, formats)
    for name, table, widths in (
        ("Steps", step_table(a), [40, 6, 8, 18, 110]),
        ("Working", working_table(a), [34, 34, 120]),
        ("Costs", cost_table(a), [36, 12, 16, 14, 14, 110]),
        ("Systems", system_table(a), [14, 8, 16, 14, 60, 40]),
        ("Flows", flow_table(a), [22, 12, 22, 20, 8, 8, 30, 24, 10, 9, 70, 60, 60]),
    ):
        _table_sheet(book, name, table, widths, formats)
    try:
        book.close()  # the file is written here
    except (OSError, XlsxWriterException) as exc:
        raise ConfigurationError(f"cannot write {path}: {exc}") from exc


def _compare_sheet(book: Any, a: Assessment, formats: _Formats) -> None:
    bold, number, wrap = formats.bold, formats.number, formats.wrap
    sheet = book.add_worksheet("Comparison")
    head, rows = comparison_table(a)
    sheet.set_column(0, 0, 44)
    sheet.set_column(1, 1, 8)
    sheet.set_column(2, 4, 30)
    sheet.write_row(0, 0, head, bold)
    for r, row in enumerate(rows, start=1):
        sheet.write(r, 0, row[0], wrap)
        sheet.write_number(r, 1, row[1])
        for col, value in enumerate(row[2:], start=2):
            sheet.write_number(r, col, value, number)
    total_row = len(rows) + 1
    sheet.write(total_row, 0, "Weighted total (edit the weights to re-weigh)", bold)
    last = len(rows) + 1
    for col, approach in enumerate(APPROACHES, start=2):
        letter = chr(ord("A") + col)
        formula = f"=SUMPRODUCT($B$2:$B${last},{letter}2:{letter}{last})/SUM($B$2:$B${last})"
        sheet.write_formula(total_row, col, formula, number, a.comparison.totals[approach])
    sheet.write(total_row + 2, 0, "Best (rule G1 applied)", bold)
    sheet.write(total_row + 2, 1, APPROACH_NAMES[a.comparison.best])


def _table_sheet(
    book: Any, name: str, table: Table, widths: Sequence[int], formats: _Formats
) -> None:
    head, rows = table
    bold, wrap = formats.bold, formats.wrap
    sheet = book.add_worksheet(name)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, width, wrap)
    sheet.write_row(0, 0, head, bold)
    for r, row in enumerate(rows, start=1):
        sheet.write_row(r, 0, row)
    sheet.freeze_panes(1, 0)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(head) - 1)


# -- Markdown -----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    text = f"{value:.1f}" if isinstance(value, float) else str(value)
    return text.replace("|", "\\|").replace("\n", "<br>")


def _md_table(head: Sequence[str], rows: Sequence[Sequence[Any]]) -> list[str]:
    lines = ["| " + " | ".join(_cell(h) for h in head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return lines


def markdown(a: Assessment) -> str:
    """The evaluation sheet as Markdown."""
    c = a.comparison
    head, rows = comparison_table(a)
    totals = ["**weighted total**", "", *(f"**{c.totals[x]:.2f}**" for x in APPROACHES)]
    lines = [f"# Evaluation sheet: {a.inventory.organization.name}", ""]
    lines += _md_table(["Item", "Value"], summary_rows(a))
    lines += ["", "## Four dimensions", "", *_md_table(head, [*rows, totals])]
    lines += ["", f"Best for this plant: **{APPROACH_NAMES[c.best]}**", ""]
    lines += _md_table(*working_table(a))
    lines += ["", "## Five steps", "", *_md_table(*step_table(a))]
    lines += ["", "## Costs (person-days)", "", *_md_table(*cost_table(a))]
    lines += ["", "## Systems", "", *_md_table(*system_table(a))]
    lines += ["", "## Flows", "", *_md_table(*flow_table(a))]
    return "\n".join(lines) + "\n"


def write_sheet(a: Assessment, path: Path) -> None:
    """``.xlsx`` or ``.md`` by the file's suffix."""
    if path.suffix == ".xlsx":
        write_xlsx(a, path)
    elif path.suffix == ".md":
        try:
            path.write_text(markdown(a), encoding="utf-8")
        except OSError as exc:
            raise ConfigurationError(f"cannot write {path}: {exc}") from exc
    else:
        raise ConfigurationError(f"--sheet {path}: use a .xlsx or .md file name")
