"""FSMA 204 electronic sortable spreadsheet (21 CFR 1.1455(c)(3)(ii)) from the trace store.

Sheet "Critical tracking events": one row per CTE with the key data elements of
21 CFR 1.1345 (receiving: a purchased lot, its supplier as ship-from and TLC source, the
supplier's lot code as traceability lot code), 1.1350 (transformation: the batch made, where and
when, with every input lot and the quantity used) and 1.1340 (shipping: each delivery line with
ship-from, ship-to and the delivery as reference document). Sheet "Lot genealogy": one row per
input lot of each transformation. Header row frozen with filters, dates and quantities typed.

The three row streams of :mod:`sinks.exports.store_reads` are ordered by batch code and merged in
one pass, and XlsxWriter runs in constant-memory mode, so memory stays flat however large the
window. ``--format csv`` writes the same rows to ``FILE`` and ``FILE.genealogy.csv``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter
from sqlalchemy import Connection, Engine

from sinks.exports.store_reads import Window, fsma_batches, fsma_edges, fsma_shipments

CTE_HEADER = (
    "Critical tracking event",
    "Event date (UTC)",
    "Traceability lot code (TLC)",
    "Product code",
    "Product description",
    "Quantity",
    "Unit of measure",
    "Location of the event",
    "Ship-from location",
    "Ship-to location",
    "TLC source location",
    "Reference document type",
    "Reference document number",
    "Input lots used (internal code: quantity unit)",
    "Internal lot code",
)
GENEALOGY_HEADER = (
    "Output TLC",
    "Output product",
    "Transformation date (UTC)",
    "Input lot (internal code)",
    "Input material",
    "Quantity used",
    "Unit of measure",
)
_DATE_COLUMNS = (1,)
_GENEALOGY_DATE_COLUMNS = (2,)
_WIDTHS = (16, 18, 22, 16, 30, 12, 10, 18, 18, 22, 18, 24, 22, 48, 18)

Row = list[Any]


@dataclass(frozen=True)
class Fsma204Result:
    """What an export wrote."""

    paths: tuple[Path, ...]
    events: int
    genealogy_rows: int


def _qty(value: Decimal | str | None) -> float | None:
    return None if value is None else float(value)


def _product(code: str | None, name: str | None) -> str:
    if name and code and name != code:
        return name
    return name or code or ""


def _by_code(rows: Iterable[Any], key: str) -> Iterator[tuple[str, list[Any]]]:
    """Group an ordered row stream by its batch code."""
    current: str | None = None
    group: list[Any] = []
    for row in rows:
        code = getattr(row, key)
        if code != current:
            if current is not None:
                yield current, group
            current, group = code, []
        group.append(row)
    if current is not None:
        yield current, group


class _Merge:
    """Pairs each batch row with its edges and shipments (all three streams by batch code)."""

    def __init__(self, edges: Iterable[Any], shipments: Iterable[Any]) -> None:
        self._edges = _by_code(edges, "child_code")
        self._ships = _by_code(shipments, "batch_code")
        self._next_edges = next(self._edges, None)
        self._next_ships = next(self._ships, None)

    def take(self, code: str) -> tuple[list[Any], list[Any]]:
        while self._next_edges is not None and self._next_edges[0] < code:
            self._next_edges = next(self._edges, None)
        while self._next_ships is not None and self._next_ships[0] < code:
            self._next_ships = next(self._ships, None)
        edges: list[Any] = []
        ships: list[Any] = []
        if self._next_edges is not None and self._next_edges[0] == code:
            edges = self._next_edges[1]
            self._next_edges = next(self._edges, None)
        if self._next_ships is not None and self._next_ships[0] == code:
            ships = self._next_ships[1]
            self._next_ships = next(self._ships, None)
        return edges, ships


def cte_rows(conn: Connection, window: Window) -> Iterator[tuple[list[Row], list[Row]]]:
    """Per batch: its CTE rows and its genealogy rows (for the window)."""
    merge = _Merge(fsma_edges(conn, window), fsma_shipments(conn, window))
    for b in fsma_batches(conn, window):
        edges, ships = merge.take(b.batch_code)
        events: list[Row] = []
        genealogy: list[Row] = []
        product = _product(b.product_code or b.material_code, b.product_name)
        item = b.product_code or b.material_code or ""
        if b.supplier_id is not None and window.covers(b.first_event_at):
            events.append(_receiving(b, item, product))
        made_at = b.completed_at or b.started_at
        if (edges or b.order_id) and made_at is not None and window.covers(made_at):
            events.append(_transformation(b, item, product, made_at, edges))
            genealogy.extend(
                [
                    b.batch_code,
                    item,
                    made_at,
                    e.parent_lot,
                    e.material_code,
                    _qty(e.quantity),
                    e.uom,
                ]
                for e in edges
            )
        for s in ships:
            if window.covers(s.ship_date):
                events.append(_shipping(b, item, product, s))
        yield events, genealogy


def _receiving(b: Any, item: str, product: str) -> Row:
    tlc = b.supplier_lot or b.batch_code
    return [
        "Receiving",
        b.first_event_at,
        tlc,
        item,
        product,
        _qty(b.receipt_quantity),
        b.receipt_uom,
        b.plant,
        b.supplier_id,
        b.plant,
        b.supplier_id,
        "Lot receipt record",
        b.batch_code,
        None,
        b.batch_code,
    ]


def _transformation(b: Any, item: str, product: str, made_at: datetime, edges: list[Any]) -> Row:
    inputs = "; ".join(f"{e.parent_lot}: {_qty(e.quantity):g} {e.uom}" for e in edges)
    where = f"{b.plant} line {b.line_id}" if b.line_id else b.plant
    return [
        "Transformation",
        made_at,
        b.batch_code,
        item,
        product,
        _qty(b.produced_quantity),
        b.uom,
        where,
        None,
        None,
        b.plant,
        "Production order",
        b.order_id,
        inputs or None,
        b.batch_code,
    ]


def _shipping(b: Any, item: str, product: str, s: Any) -> Row:
    tlc = b.supplier_lot or b.batch_code
    source = b.supplier_id or b.plant
    return [
        "Shipping",
        s.ship_date,
        tlc,
        item,
        product,
        _qty(s.quantity),
        b.uom or b.receipt_uom,
        b.plant,
        b.plant,
        f"{s.customer_id} / {s.ship_to}",
        source,
        "Delivery (despatch advice)",
        s.delivery_id,
        None,
        b.batch_code,
    ]


def write_fsma204(engine: Engine, window: Window, out: Path, fmt: str = "xlsx") -> Fsma204Result:
    """Write the spreadsheet (``xlsx``) or the two CSV files (``csv``) for the window."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with engine.connect() as conn:
        rows = cte_rows(conn, window)
        if fmt == "csv":
            return _write_csv(rows, out)
        return _write_xlsx(rows, out)


def _write_xlsx(rows: Iterator[tuple[list[Row], list[Row]]], out: Path) -> Fsma204Result:
    options = {
        "constant_memory": True,
        "strings_to_numbers": False,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "remove_timezone": True,
        "default_date_format": "yyyy-mm-dd hh:mm",
    }
    book = xlsxwriter.Workbook(str(out), options)
    bold = book.add_format(
        {"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#DDEBF7"}
    )
    dated = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    qty = book.add_format({"num_format": "#,##0.###"})
    ctes = book.add_worksheet("Critical tracking events")
    tree = book.add_worksheet("Lot genealogy")
    for sheet, header, dates, qty_col in (
        (ctes, CTE_HEADER, _DATE_COLUMNS, 5),
        (tree, GENEALOGY_HEADER, _GENEALOGY_DATE_COLUMNS, 5),
    ):
        for col, width in enumerate(_WIDTHS[: len(header)]):
            fmt = dated if col in dates else qty if col == qty_col else None
            sheet.set_column(col, col, width, fmt)
        sheet.write_row(0, 0, header, bold)
        sheet.freeze_panes(1, 0)
    n_events = n_tree = 0
    write_cte, write_tree = ctes.write_row, tree.write_row
    for events, genealogy in rows:
        for row in events:
            n_events += 1
            write_cte(n_events, 0, row)
        for row in genealogy:
            n_tree += 1
            write_tree(n_tree, 0, row)
    ctes.autofilter(0, 0, max(n_events, 1), len(CTE_HEADER) - 1)
    tree.autofilter(0, 0, max(n_tree, 1), len(GENEALOGY_HEADER) - 1)
    book.close()
    return Fsma204Result((out,), n_events, n_tree)


def _csv_cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _write_csv(rows: Iterator[tuple[list[Row], list[Row]]], out: Path) -> Fsma204Result:
    tree_path = out.with_name(out.name.removesuffix(".csv") + ".genealogy.csv")
    n_events = n_tree = 0
    with (
        out.open("w", newline="", encoding="utf-8") as events_file,
        tree_path.open("w", newline="", encoding="utf-8") as tree_file,
    ):
        events_csv, tree_csv = csv.writer(events_file), csv.writer(tree_file)
        events_csv.writerow(CTE_HEADER)
        tree_csv.writerow(GENEALOGY_HEADER)
        for events, genealogy in rows:
            events_csv.writerows([_csv_cell(v) for v in row] for row in events)
            tree_csv.writerows([_csv_cell(v) for v in row] for row in genealogy)
            n_events += len(events)
            n_tree += len(genealogy)
    return Fsma204Result((out, tree_path), n_events, n_tree)
