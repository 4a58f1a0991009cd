"""The routes file (``deploy/routes`` format) for the downstream side of the assessed flows.

One target per receiving system: ``http`` (D1; its URL is a placeholder to replace or override with
``--target ID.url=...``), ``table`` (D2; SQLite under the home until a ``url`` is given) or
``file`` (D3; CSV files in ``targets/<id>-inbox``). One route per target and recipe, shared by the
flows that need it, so a fact is never notified twice; a route to a plant's own system, or from
sources of known plants, matches ``chain.plant``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tracesync.assess.assessment import Assessment
from tracesync.assess.routes import Delivery, Recipe
from tracesync.assess.skeleton import toml_key, toml_value


@dataclass
class _Route:
    target: str
    recipe: Recipe
    flows: list[str] = field(default_factory=list)
    plants: set[str] | None = field(default_factory=set)


def _collect(a: Assessment) -> tuple[dict[str, Delivery], list[_Route]]:
    targets: dict[str, Delivery] = {}
    routes: dict[tuple[str, str], _Route] = {}
    for plan in a.plans:
        source_plant = a.inventory.system(plan.source).plant
        for delivery in plan.deliveries:
            if delivery.transport is None or not plan.recipes:
                continue
            targets.setdefault(delivery.target, delivery)
            kind = a.inventory.system(delivery.target).kind
            for recipe in (r for r in plan.recipes if r.applies_to(kind)):
                route = routes.setdefault(
                    (delivery.target, recipe.name), _Route(delivery.target, recipe)
                )
                route.flows.append(plan.flow)
                if delivery.plant is not None:
                    route.plants = {delivery.plant}
                elif route.plants is not None:
                    route.plants = None if source_plant is None else route.plants | {source_plant}
    return targets, list(routes.values())


def _target_lines(a: Assessment, delivery: Delivery) -> list[str]:
    system = a.inventory.system(delivery.target)
    lines = [
        f"[targets.{toml_key(delivery.target)}]   # {system.kind} {system.vendor} "
        f"[{delivery.rule}]",
        f'transport = "{delivery.transport}"',
    ]
    if delivery.transport == "http":
        lines += [
            f'url = "https://{delivery.target}.example.invalid/tracesync/notices"   # replace, or '
            f"--target {delivery.target}.url=...",
            "timeout_s = 10.0",
            'headers = { "X-Source" = "tracesync" }',
        ]
    elif delivery.transport == "table":
        engine = system.database.engine if system.database else "postgresql"
        lines += [
            f'table = "tracesync_notices"   # the interface table {delivery.target} reads',
            f"# url = ...   the {engine} database of {delivery.target} (default: a SQLite file "
            "under the home)",
        ]
    else:
        lines += [
            f'directory = "targets/{delivery.target}-inbox"   # the folder it imports from',
            'format = "csv"',
            'prefix = "tracesync-notices"',
        ]
    return lines


def _route_lines(route: _Route) -> list[str]:
    recipe = route.recipe
    lines = [
        f"# for {', '.join(route.flows)}: {recipe.what}",
        "[[routes]]",
        f"name = {toml_value(f'{route.target}-{recipe.name}')}",
        f"target = {toml_value(route.target)}",
        f"when = {toml_value(recipe.when)}",
    ]
    if recipe.params:
        lines.append(f"params = {toml_value(dict(recipe.params))}")
    chain_route = recipe.when != "alert_kind"
    if route.plants and chain_route:
        lines.append(f"match = {toml_value({'chain.plant': sorted(route.plants)})}")
    lines.append("[routes.payload]")
    lines += [f"{toml_key(k)} = {toml_value(v)}" for k, v in recipe.payload.items()]
    return lines


def routes_toml(a: Assessment) -> str | None:
    """The routes file text, or None when no flow needs a route."""
    targets, routes = _collect(a)
    if not routes:
        return None
    lines = [
        f"# Routes for {a.inventory.organization.name}, from tracesync assess.",
        "# tracesync sink targets --routes routes.toml [--target ID.url=https://...]",
        "",
        "[retry]",
        "attempts = 5",
        "initial_backoff_s = 0.2",
        "max_backoff_s = 10.0",
        "jitter = 0.5",
    ]
    for delivery in targets.values():
        lines += ["", *_target_lines(a, delivery)]
    for route in routes:
        lines += ["", *_route_lines(route)]
    return "\n".join(lines) + "\n"
