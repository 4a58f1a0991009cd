"""What a backward trace shows of every upstream lot and intermediate batch, not only of the
batch asked about: supplier and supplier lot (raw materials), inspections with their verdict and
failed characteristics, and holds (own and inherited) with their origin.

Everything is derived from what the store already keeps: the ``batches`` row (the supplier columns
hold the ERP material receipt's supplier and supplier lot), and the ``inspections`` and ``holds``
child tables, read for all lots of a trace in two statements.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection

from sinks.store import schema as s
from sinks.store import trace_sql as sql
from tracesync.plant_time import as_utc

_IN_CHUNK = 500
_SHOWN = tuple(
    tuple(
        (sql.slot(name, c.name), c.name)
        for c in s.metadata.tables[name].columns
        if c.name not in ("batch_code", "seq")
    )
    for name in sql.LOT_TABLES
)


@dataclass(frozen=True)
class LotFacts:
    """One stored upstream lot or intermediate batch as a trace shows it."""

    code: str
    product_code: str | None
    material_code: str | None
    supplier_id: str | None
    supplier_lot: str | None
    on_hold: bool
    reconciliation_status: str
    inspections: tuple[dict[str, Any], ...]
    holds: tuple[dict[str, Any], ...]


def aware_item(item: Mapping[str, Any]) -> dict[str, Any]:
    """A child row with its times made aware (SQLite returns the stored UTC without zone)."""
    return {k: as_utc(v) if isinstance(v, datetime) else v for k, v in item.items()}


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _IN_CHUNK):
        yield items[start : start + _IN_CHUNK]


def lot_facts(conn: Connection, codes: Sequence[str]) -> dict[str, LotFacts]:
    """The facts of each stored lot among ``codes``, by code."""
    children: dict[str, dict[str, list[dict[str, Any]]]] = {}
    facts: dict[str, LotFacts] = {}
    dialect = conn.dialect.name
    for chunk in _chunks(list(codes)):
        params = {"codes": list(chunk)}
        for row in conn.execute(sql.children_statement(dialect, sql.LOT_TABLES), params).mappings():
            tag = row["tag"]
            item = aware_item({name: row[label] for label, name in _SHOWN[tag]})
            own = children.setdefault(row["owner"], {})
            own.setdefault(sql.LOT_TABLES[tag], []).append(item)
        for row in conn.execute(sql.lot_facts_statement(dialect), params).mappings():
            own = children.get(row["batch_code"], {})
            facts[row["batch_code"]] = LotFacts(
                code=row["batch_code"],
                product_code=row["product_code"],
                material_code=row["material_code"],
                supplier_id=row["supplier_id"],
                supplier_lot=row["supplier_lot"],
                on_hold=bool(row["on_hold"]),
                reconciliation_status=row["reconciliation_status"],
                inspections=tuple(own.get("inspections", ())),
                holds=tuple(own.get("holds", ())),
            )
    return facts
