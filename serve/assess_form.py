"""The console's assessment form as data: its fields, form -> inventory document, and back.

Each form field is named with the path of the inventory key it fills, written the way the
inventory loader names a bad field (``systems[2].rest_api.docs``), so each problem of
:func:`tracesync.assess.loader.parse_inventory` lands beside its field. Values stay text: the
inventory model (lax pydantic) turns ``"3"`` into 3 and ``"1h"`` into seconds, and names whatever
it cannot. Empty fields are left out (a default applies, or the model says "missing"), rows left
wholly empty are dropped, and a sub-table (``rest_api``, ``database``, ``file_export``) exists when
one of its fields is filled.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from tracesync.assess import model as m

Kind = Literal["text", "choice", "bool", "multi", "list"]
FormData = Mapping[str, Sequence[str]]


@dataclass(frozen=True)
class FormField:
    """One input: ``key`` is its path inside the table (``rest_api.docs``)."""

    key: str
    label: str
    kind: Kind = "text"
    choices: tuple[str, ...] = ()
    hint: str = ""


@dataclass(frozen=True)
class Section:
    """A table of the inventory (``rows == 0``), or an array of tables shown with ``rows`` rows
    at least."""

    path: str
    title: str
    fields: tuple[FormField, ...]
    rows: int = 0

    def name(self, field: FormField, row: int | None = None) -> str:
        """The form name (= the inventory path) of ``field`` in ``row``."""
        return f"{self.path}.{field.key}" if row is None else f"{self.path}[{row}].{field.key}"


def _choices(literal: Any) -> tuple[str, ...]:
    return tuple(str(v) for v in get_args(literal))


_SYSTEM = (
    FormField("id", "id", hint="lower case, e.g. mes"),
    FormField("kind", "kind", "choice", _choices(m.SystemKind)),
    FormField("vendor", "vendor"),
    FormField("product", "product"),
    FormField("plant", "plant", hint="none = all plants"),
    FormField("rest_api.docs", "REST API docs", "choice", _choices(m.DocsQuality)),
    FormField("rest_api.webhooks", "webhooks", "bool"),
    FormField("database.engine", "database", "choice", _choices(m.DbEngine)),
    FormField("database.change_tracking", "change tracking", "choice", _choices(m.ChangeTracking)),
    FormField("file_export.formats", "file formats", "multi", _choices(m.FileFormat)),
    FormField("file_export.every", "files every", hint="e.g. 1h"),
    FormField("file_export.imports", "reads files", "bool"),
)

SECTIONS = (
    Section(
        "organization",
        "Organization",
        (
            FormField("name", "name"),
            FormField("industry", "industry", "choice", _choices(m.Industry)),
            FormField("plants", "plants", "list", hint="plant codes, comma-separated"),
        ),
    ),
    Section("systems", "Systems and their interfaces (step 1)", _SYSTEM, rows=4),
    Section(
        "flows",
        "Flows and their real-time need (step 2)",
        (
            FormField("id", "id"),
            FormField("from", "from", hint="a system id"),
            FormField("to", "to", "list", hint="system ids, comma-separated"),
            FormField("scenario", "scenario", "choice", _choices(m.Scenario)),
            FormField("latency", "latency", hint="e.g. 30s; empty = the scenario's"),
            FormField("description", "description"),
        ),
        rows=6,
    ),
    Section(
        "team",
        "IT team (step 3)",
        (
            FormField("developers", "developers"),
            FormField("operations", "operations"),
            FormField("skills", "skills", "multi", _choices(m.Skill)),
        ),
    ),
    Section(
        "budget",
        "Budget (step 3)",
        (
            FormField("model", "model", "choice", _choices(m.BudgetModel)),
            FormField("initial_budget", "initial budget"),
            FormField("day_rate", "day rate", hint="money per person-day"),
            FormField("currency", "currency", hint="default EUR"),
        ),
    ),
    Section(
        "growth",
        "Outlook, 3-5 years (step 4)",
        (
            FormField("horizon_years", "horizon (years)", hint="default 5"),
            FormField("new_lines", "new lines at today's plants"),
        ),
    ),
    Section(
        "growth.plants",
        "Planned plants",
        (
            FormField("code", "code"),
            FormField("in_year", "in year"),
            FormField("lines", "lines"),
            FormField("systems", "own systems", "multi", _choices(m.SystemKind)),
        ),
        rows=1,
    ),
    Section(
        "growth.systems",
        "Planned systems",
        (
            *_SYSTEM[:5],
            FormField("in_year", "in year"),
            FormField("replaces", "replaces"),
            *_SYSTEM[5:],
        ),
        rows=1,
    ),
    Section(
        "vendor",
        "Vendor (step 5)",
        (
            FormField("name", "name"),
            FormField("in_house", "in-house team", "bool"),
            FormField("industry_references", "industry references"),
            FormField("references_verified", "references verified", "bool"),
            FormField("services", "services", "multi", _choices(m.Service)),
            FormField("support", "support", "choice", _choices(m.Support)),
            FormField("compliance", "compliance", "list", hint="comma-separated"),
        ),
    ),
)
CARRIED = ("assumptions",)
"""Tables the form has no inputs for; a pasted inventory's are carried along unchanged."""

_ROW = re.compile(r"^(?P<path>[a-z_.]+)\[(?P<row>\d+)\]\.")


def _value(field: FormField, values: Sequence[str]) -> Any:
    """The document value of a field's posted ``values``; None when it is left empty."""
    if field.kind == "bool":
        return True if any(v in ("true", "on", "1") for v in values) else None
    if field.kind == "multi":
        chosen = [v for v in values if v.strip()]
        return chosen or None
    text = (values[-1] if values else "").strip()
    if not text:
        return None
    if field.kind == "list":
        return [part.strip() for part in text.split(",") if part.strip()]
    return text


def _put(table: dict[str, Any], key: str, value: Any) -> None:
    *parents, last = key.split(".")
    for part in parents:
        table = table.setdefault(part, {})
    table[last] = value


def _table(section: Section, form: FormData, row: int | None) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for field in section.fields:
        value = _value(field, form.get(section.name(field, row), ()))
        if value is not None:
            _put(table, field.key, value)
    return table


def _row_count(section: Section, form: FormData) -> int:
    rows = [
        int(match["row"]) + 1
        for name in form
        if (match := _ROW.match(name)) is not None and match["path"] == section.path
    ]
    return max(rows, default=0)


def document_from_form(form: FormData, carried: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The inventory document the form describes (not yet checked)."""
    document: dict[str, Any] = {}
    for section in SECTIONS:
        if section.rows:
            rows = [_table(section, form, i) for i in range(_row_count(section, form))]
            value: Any = [row for row in rows if row] or None
        else:
            value = _table(section, form, None) or None
        if value is not None:
            _put(document, section.path, value)
    for key in CARRIED:
        if carried and isinstance(carried.get(key), dict):
            document[key] = dict(carried[key])
    return document


def _get(table: Any, key: str) -> Any:
    for part in key.split("."):
        table = table.get(part) if isinstance(table, Mapping) else None
    return table


def _shown(field: FormField, value: Any) -> Any:
    """A document value as the form shows it: text, a list of choices, or a flag."""
    if field.kind == "bool":
        return value is True
    if field.kind == "multi":
        return [str(v) for v in value] if isinstance(value, list | tuple) else []
    if value is None:
        return ""
    if field.kind == "list" and isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def form_values(document: Mapping[str, Any]) -> dict[str, Any]:
    """The form's values for ``document``, by field name."""
    values: dict[str, Any] = {}
    for section in SECTIONS:
        found = _get(document, section.path)
        if section.rows:
            rows = found if isinstance(found, list) else []
            for i, row in enumerate(rows):
                for field in section.fields:
                    values[section.name(field, i)] = _shown(field, _get(row, field.key))
        else:
            for field in section.fields:
                values[section.name(field)] = _shown(field, _get(found, field.key))
    return values


def rows_shown(section: Section, document: Mapping[str, Any]) -> int:
    """Rows of an array section: its filled rows and two empty ones, at least ``section.rows``."""
    found = _get(document, section.path)
    filled = len(found) if isinstance(found, list) else 0
    return max(section.rows, filled + 2) if filled else section.rows


_ID_NOTE = re.compile(r"\] \([^)]*\)")


def field_of(path: str, names: set[str]) -> str | None:
    """The form field a problem's ``path`` is about (``systems[2] (wms).rest_api.docs`` ->
    ``systems[2].rest_api.docs``), or the nearest one above it; None for the whole form."""
    plain = _ID_NOTE.sub("]", path)
    while plain:
        if plain in names:
            return plain
        cut = max(plain.rfind("."), plain.rfind("["))
        if cut <= 0:
            return None
        plain = plain[:cut]
    return None
