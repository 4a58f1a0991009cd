"""Reading an inventory: TOML -> :class:`~tracesync.assess.model.Inventory`, or every problem.

A bad inventory raises :class:`InventoryError` with one ``(path, reason)`` per bad field, the
path written the way the file is (``systems[2].rest_api.docs``, with the system's id when it has
one). Structure and types are checked by the model; that the ids a file refers to exist (a flow's
``from`` and ``to``, a planned system's ``replaces``, a system's ``plant``) is checked on the raw
document, so both kinds of problems are reported together.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args, get_origin

from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from tracesync.assess.model import Inventory
from tracesync.errors import ConfigurationError

Problem = tuple[str, str]


class InventoryError(ConfigurationError):
    """An inventory that cannot be assessed; ``problems`` names each bad field."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  {path}: {reason}" for path, reason in self.problems)
        count = len(self.problems)
        super().__init__(f"{source}: {count} problem{'s' if count != 1 else ''}\n{lines}")


def load_inventory(path: Path) -> Inventory:
    """Read and check an inventory file (TOML)."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InventoryError(str(path), [("<file>", f"cannot read: {exc}")]) from exc
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InventoryError(str(path), [("<file>", f"not valid TOML: {exc}")]) from exc
    return parse_inventory(document, str(path))


def parse_inventory(document: Mapping[str, Any], source: str = "<inventory>") -> Inventory:
    """Check a parsed document; every problem (structure, types, references) at once."""
    problems: list[Problem] = []
    inventory: Inventory | None = None
    try:
        inventory = Inventory.model_validate(document)
    except PydanticValidationError as exc:
        errors = _without_consequences(exc.errors())
        problems.extend(_problem(document, error) for error in errors)
    problems.extend(reference_problems(document))
    if problems or inventory is None:
        raise InventoryError(source, _unique(problems))
    return inventory


def _unique(problems: Sequence[Problem]) -> list[Problem]:
    seen: dict[Problem, None] = {}
    for problem in problems:
        seen.setdefault(problem, None)
    return list(seen)


# -- pydantic errors as (path, reason) ------------------------------------------------------


def _without_consequences(errors: Sequence[Any]) -> list[Any]:
    """Drop "too short" on a list whose items failed: the items' own errors say it all."""
    lists_with_bad_items = {
        tuple(e["loc"][:i])
        for e in errors
        for i, part in enumerate(e["loc"])
        if isinstance(part, int)
    }
    return [
        e
        for e in errors
        if not (e["type"] == "too_short" and tuple(e["loc"]) in lists_with_bad_items)
    ]


def _problem(document: Mapping[str, Any], error: Mapping[str, Any]) -> Problem:
    loc = tuple(error["loc"])
    path = format_path(document, loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        known = known_keys(loc[:-1])
        return path, f"unknown key; known here: {', '.join(known)}" if known else "unknown key"
    if kind == "missing":
        return path, "missing (required)"
    message = str(error["msg"]).removeprefix("Value error, ")
    if "input" in error and kind not in ("model_type", "dict_type", "value_error"):
        return path, f"{message} (got {error['input']!r})"
    return path, message


def format_path(document: Mapping[str, Any], loc: Sequence[str | int]) -> str:
    """``("systems", 2, "rest_api", "docs")`` -> ``systems[2] (wms).rest_api.docs``."""
    text = ""
    node: Any = document
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
            node = node[part] if isinstance(node, list) and part < len(node) else None
            ident = node.get("id") if isinstance(node, dict) else None
            if isinstance(ident, str) and ident:
                text += f" ({ident})"
        else:
            text += f".{part}" if text else part
            node = node.get(part) if isinstance(node, dict) else None
    return text or "<top>"


def known_keys(loc: Sequence[str | int]) -> list[str]:
    """The keys the model allows at ``loc`` (the table holding an unknown key)."""
    model: Any = Inventory
    for part in loc:
        if isinstance(part, int):
            continue
        field = _fields(model).get(str(part))
        if field is None:
            return []
        model = _model_in(field.annotation)
        if model is None:
            return []
    return sorted(field.alias or name for name, field in _fields(model).items())


def _fields(model: Any) -> dict[str, Any]:
    if isinstance(model, type) and issubclass(model, BaseModel):
        by_alias = {f.alias or n: f for n, f in model.model_fields.items()}
        return by_alias
    return {}


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The model class inside ``X | None``, ``tuple[X, ...]`` or ``Annotated[...]``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) is not None or get_args(annotation):
        for arg in get_args(annotation):
            found = _model_in(arg)
            if found is not None:
                return found
    return None


# -- references between tables ----------------------------------------------------------------


def _tables(document: Mapping[str, Any], *keys: str) -> list[tuple[int, dict[str, Any]]]:
    node: Any = document
    for key in keys:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, list):
        return []
    return [(i, item) for i, item in enumerate(node) if isinstance(item, dict)]


def _ids(items: list[tuple[int, dict[str, Any]]]) -> list[tuple[int, str]]:
    return [(i, item["id"]) for i, item in items if isinstance(item.get("id"), str)]


def reference_problems(document: Mapping[str, Any]) -> list[Problem]:
    """Ids that are used twice, or used without being defined."""
    problems: list[Problem] = []
    systems = _tables(document, "systems")
    planned = _tables(document, "growth", "systems")
    flows = _tables(document, "flows")
    problems += _duplicates(document, "systems", _ids(systems), "system")
    problems += _duplicates(document, "flows", _ids(flows), "flow")
    known = {ident for _, ident in _ids(systems)}
    for i, ident in _ids(planned):
        if ident in known:
            path = format_path(document, ("growth", "systems", i, "id"))
            problems.append((path, f"{ident!r} is already a system of today"))
    for i, flow in flows:
        problems += _flow_references(document, i, flow, known)
    for i, system in planned:
        replaces = system.get("replaces")
        if isinstance(replaces, str) and replaces not in known:
            path = format_path(document, ("growth", "systems", i, "replaces"))
            problems.append((path, f"no system {replaces!r} today ({_listing(known)})"))
    problems += _plant_references(document, systems)
    problems += _years_within_horizon(document)
    return problems


def _duplicates(
    document: Mapping[str, Any], key: str, ids: list[tuple[int, str]], what: str
) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for i, ident in ids:
        if ident in first:
            path = format_path(document, (key, i, "id"))
            problems.append((path, f"{what} id {ident!r} is already used by {key}[{first[ident]}]"))
        first.setdefault(ident, i)
    return problems


def _flow_references(
    document: Mapping[str, Any], i: int, flow: Mapping[str, Any], known: set[str]
) -> list[Problem]:
    problems = []
    source = flow.get("from")
    if isinstance(source, str) and source not in known:
        path = format_path(document, ("flows", i, "from"))
        problems.append((path, f"no system {source!r} ({_listing(known)})"))
    targets = flow.get("to")
    targets = [targets] if isinstance(targets, str) else targets
    if isinstance(targets, list):
        for j, target in enumerate(targets):
            if not isinstance(target, str):
                continue
            loc: tuple[str | int, ...] = ("flows", i, "to", j)
            if isinstance(flow.get("to"), str):
                loc = ("flows", i, "to")
            if target not in known:
                problems.append((format_path(document, loc), f"no system {target!r}"))
            elif target == source:
                problems.append((format_path(document, loc), "a flow cannot go to its source"))
    if flow.get("scenario") == "other" and flow.get("latency") is None:
        path = format_path(document, ("flows", i, "latency"))
        problems.append((path, "missing: scenario 'other' has no typical latency to assume"))
    return problems


def _plant_references(
    document: Mapping[str, Any], systems: list[tuple[int, dict[str, Any]]]
) -> list[Problem]:
    organization = document.get("organization")
    plants = organization.get("plants") if isinstance(organization, dict) else None
    if not isinstance(plants, list):
        return []
    planned = [p.get("code") for _, p in _tables(document, "growth", "plants")]
    codes = {p for p in [*plants, *planned] if isinstance(p, str)}
    problems = []
    for i, system in systems:
        plant = system.get("plant")
        if isinstance(plant, str) and plant not in codes:
            path = format_path(document, ("systems", i, "plant"))
            problems.append(
                (path, f"no plant {plant!r} in organization.plants ({_listing(codes)})")
            )
    return problems


def _years_within_horizon(document: Mapping[str, Any]) -> list[Problem]:
    growth = document.get("growth")
    if not isinstance(growth, dict):
        return []
    horizon = growth.get("horizon_years", 5)
    if not isinstance(horizon, int) or isinstance(horizon, bool):
        return []
    problems = []
    for key in ("plants", "systems"):
        for i, item in _tables(document, "growth", key):
            year = item.get("in_year")
            if isinstance(year, int) and not isinstance(year, bool) and year > horizon:
                path = format_path(document, ("growth", key, i, "in_year"))
                problems.append((path, f"year {year} is beyond horizon_years = {horizon}"))
    return problems


def _listing(ids: set[str]) -> str:
    return "known: " + ", ".join(sorted(ids)) if ids else "none defined"
