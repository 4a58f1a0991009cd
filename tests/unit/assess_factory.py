"""Small inventories for the assessment's rule tests, built from plain dicts like a TOML file."""

from __future__ import annotations

from typing import Any

from tracesync.assess.loader import parse_inventory
from tracesync.assess.model import Inventory


def system(ident: str, kind: str, **interfaces: Any) -> dict[str, Any]:
    """A system table; ``interfaces`` are rest_api / database / file_export / plant / vendor."""
    return {"id": ident, "kind": kind, "vendor": interfaces.pop("vendor", "V"), **interfaces}


def rest(docs: str = "good", webhooks: bool = True) -> dict[str, Any]:
    return {"docs": docs, "webhooks": webhooks}


def database(tracking: str = "outbox", engine: str = "postgresql") -> dict[str, Any]:
    return {"engine": engine, "change_tracking": tracking}


def files(every: str = "1h", formats: tuple[str, ...] = ("csv",), imports: bool = False) -> Any:
    return {"formats": list(formats), "every": every, "imports": imports}


def flow(ident: str, source: str, to: str | list[str], scenario: str, latency: str | None) -> Any:
    table: dict[str, Any] = {"id": ident, "from": source, "to": to, "scenario": scenario}
    if latency is not None:
        table["latency"] = latency
    return table


def document(
    systems: list[dict[str, Any]], flows: list[dict[str, Any]], **tables: Any
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "organization": {"name": "Test plant", "industry": "food", "plants": ["P1"]},
        "systems": systems,
        "flows": flows,
        "team": {"developers": 2, "operations": 1, "skills": ["sql", "linux", "kafka", "rest"]},
        "budget": {"model": "balanced"},
        "vendor": {"name": "In-house", "in_house": True},
    }
    doc.update(tables)
    return doc


def inventory(
    systems: list[dict[str, Any]], flows: list[dict[str, Any]], **tables: Any
) -> Inventory:
    return parse_inventory(document(systems, flows, **tables))
