"""The recommendation per flow: which edge carries it in, which routes carry it out, and why.

Every flow is carried in by the edge chosen for its source system (:mod:`tracesync.assess.edges`,
one edge per system, chosen for the system's strictest flow) and out by the routes of
:mod:`tracesync.assess.routes`. Its end-to-end latency is estimated as edge + pipeline + the
target's own reading cadence; a flow that no edge can carry fast enough, or that cannot reach a
target, is flagged with the changes that would fix it. Each statement cites its rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from tracesync.assess.edges import EDGE_NAMES, EdgeChoice, EdgeOption, EdgeTimings
from tracesync.assess.latency import SCENARIOS, Need, describe, need_of
from tracesync.assess.model import Flow, Inventory, PlannedSystem, SystemBase
from tracesync.assess.routes import STORE_SCENARIOS, Delivery, Recipe, delivery_to, recipes_for

MIN_EXPORT_INTERVAL_S = 60.0
"""Shorter file cadences are not offered as a fix: at that point a push or capture is the fix."""


@dataclass(frozen=True)
class Citation:
    """A statement and the rule (step.rule, or edge/route rule) that produced it."""

    rule: str
    text: str


@dataclass(frozen=True)
class FlowPlan:
    """The recommendation for one flow."""

    flow: str
    source: str
    targets: tuple[str, ...]
    scenario: str
    need: Need
    edge: EdgeOption | None
    deliveries: tuple[Delivery, ...]
    recipes: tuple[Recipe, ...]
    store_only: bool
    latency_s: float | None
    why: tuple[Citation, ...]
    problems: tuple[Citation, ...]
    fixes: tuple[str, ...]

    @property
    def meets(self) -> bool:
        return not self.problems


def plan_flows(
    inventory: Inventory, choices: Mapping[str, EdgeChoice], timings: EdgeTimings
) -> list[FlowPlan]:
    """Rule-by-rule plan of each flow, in the inventory's order."""
    return [plan_flow(inventory, flow, choices[flow.source], timings) for flow in inventory.flows]


@dataclass
class _Notes:
    """What a flow's plan collects, rule by rule."""

    why: list[Citation] = field(default_factory=list)
    problems: list[Citation] = field(default_factory=list)
    fixes: list[str] = field(default_factory=list)


def plan_flow(
    inventory: Inventory, flow: Flow, choice: EdgeChoice, timings: EdgeTimings
) -> FlowPlan:
    """Rules 2.x, E1-E6, R1-R3 and D1-D4 applied to one flow."""
    source = inventory.system(flow.source)
    need = need_of(flow)
    notes = _Notes(why=[_need_citation(flow, need)])
    edge = choice.option
    if edge is None:
        notes.problems += [Citation(r.rule, f"{source.id}: {r.reason}") for r in choice.refusals]
        notes.fixes += _source_fixes(inventory, source, need, timings)
    else:
        notes.why.append(_edge_citation(source, choice, edge))
    recipes = recipes_for(source.kind, flow.scenario)
    store_only = not recipes and flow.scenario in STORE_SCENARIOS
    deliveries = tuple(delivery_to(inventory.system(t)) for t in flow.to)
    _downstream(notes, flow, source, recipes, store_only=store_only, deliveries=deliveries)
    used = deliveries if recipes else ()
    latency = _end_to_end(edge, used, timings)
    if edge is not None and latency is not None and latency > need.seconds:
        notes.problems += _latency_problems(source, edge, used, need, timings)
        if edge.latency_s + timings.pipeline_s > need.seconds:
            notes.fixes += _source_fixes(inventory, source, need, timings)
        notes.fixes += _target_fixes(inventory, used, edge, need, timings)
    return FlowPlan(
        flow.id,
        source.id,
        flow.to,
        flow.scenario,
        need,
        edge,
        deliveries,
        recipes,
        store_only,
        latency,
        tuple(notes.why),
        tuple(notes.problems),
        tuple(dict.fromkeys(notes.fixes)),
    )


def _downstream(
    notes: _Notes,
    flow: Flow,
    source: SystemBase,
    recipes: Sequence[Recipe],
    *,
    store_only: bool,
    deliveries: Sequence[Delivery],
) -> None:
    """Rules R1-R3 (which routes) and D1-D4 (how each target is reached)."""
    notes.why += _route_citations(flow, recipes, store_only)
    if not recipes and not store_only:
        label = SCENARIOS[flow.scenario].label
        notes.problems.append(
            Citation("R3", f"no route predicate carries {source.kind} {label} to a target yet")
        )
        notes.fixes.append(
            "until a predicate exists in sinks.targets.routing, the target reads the chain "
            "from the trace store (tracesync sink store, tracesync trace)"
        )
    if not recipes:
        return
    for d in deliveries:
        if d.transport is not None:
            notes.why.append(Citation(d.rule, f"{d.target}: {d.transport} target, {d.reason}"))
        else:
            notes.problems.append(Citation("D4", f"{d.target}: {d.reason}"))
            notes.fixes.append(
                f"give {d.target} a way in: a REST endpoint, an interface table or a file import"
            )


def _need_citation(flow: Flow, need: Need) -> Citation:
    label = SCENARIOS[flow.scenario].label
    if need.declared:
        return Citation("2.1", f"{label}: needs {describe(need.seconds)} ({need.grade} level)")
    return Citation(
        "2.2",
        f"{label}: no latency given, the scenario's typical {describe(need.seconds)} "
        f"({need.grade} level) is assumed",
    )


def _edge_citation(source: SystemBase, choice: EdgeChoice, edge: EdgeOption) -> Citation:
    others = [o for o in choice.options if o is not edge]
    text = f"{source.id}: {edge.describe()} — {edge.reason}"
    if others:
        named = ", ".join(f"{o.rule} {EDGE_NAMES[o.kind]} ~{describe(o.latency_s)}" for o in others)
        text += f"; preferred to {named} (1.2: meets the need, fewest changes, fastest)"
    return Citation(edge.rule, text)


def _route_citations(flow: Flow, recipes: Sequence[Recipe], store_only: bool) -> list[Citation]:
    if store_only:
        return [
            Citation(
                "R2",
                f"{SCENARIOS[flow.scenario].label} is answered from the trace store "
                "(tracesync sink store; tracesync trace and the exports)",
            )
        ]
    if not recipes:
        return []
    routes = "; ".join(f"{r.when}: {r.what}" for r in recipes)
    return [Citation("R1", f"routes to {', '.join(flow.to)}: {routes}")]


def _end_to_end(
    edge: EdgeOption | None, deliveries: Sequence[Delivery], timings: EdgeTimings
) -> float | None:
    if edge is None:
        return None
    slowest_target = max((d.latency_s for d in deliveries), default=0.0)
    return edge.latency_s + timings.pipeline_s + slowest_target


def _latency_problems(
    source: SystemBase,
    edge: EdgeOption,
    deliveries: Sequence[Delivery],
    need: Need,
    timings: EdgeTimings,
) -> list[Citation]:
    problems = []
    if edge.latency_s + timings.pipeline_s > need.seconds:
        problems.append(
            Citation(
                edge.rule,
                f"source side: {source.id} gets in by "
                f"{edge.describe()}, slower than the {describe(need.seconds)} "
                "needed",
            )
        )
    for d in deliveries:
        if d.latency_s > 0 and edge.latency_s + timings.pipeline_s + d.latency_s > need.seconds:
            problems.append(
                Citation(
                    d.rule,
                    f"target side: {d.target} reads its import files "
                    f"every {describe(d.latency_s)}, slower than the "
                    f"{describe(need.seconds)} needed",
                )
            )
    return problems


def _replacements(inventory: Inventory, system_id: str) -> list[PlannedSystem]:
    return [p for p in inventory.growth.systems if p.replaces == system_id]


def _source_fixes(
    inventory: Inventory, source: SystemBase, need: Need, timings: EdgeTimings
) -> list[str]:
    if source.id not in {s.id for s in inventory.systems}:
        return []
    fixes = []
    if source.kind not in ("MES", "ERP", "WMS", "QMS"):
        fixes.append(
            f"hand its data to the system that owns it in tracesync's model (complaints "
            f"are QMS events), or add a source topic for {source.kind} to the catalog"
        )
    else:
        if source.rest_api is None:
            fixes.append(
                f"ask {source.vendor} for a REST API with webhooks -> E1 REST push, "
                f"~{describe(timings.rest_push_s)}"
            )
        elif not source.rest_api.webhooks:
            fixes.append(
                f"ask {source.vendor} to enable webhooks -> E1 REST push, "
                f"~{describe(timings.rest_push_s)}"
            )
        if source.database is None:
            fixes.append(
                "get read access to its database with an outbox table -> E2 change "
                f"capture, ~{describe(timings.db_poll_s)}"
            )
        overhead = timings.files_settle_s + timings.files_poll_s + timings.pipeline_s
        interval = need.seconds - overhead
        if source.file_export is not None and interval >= MIN_EXPORT_INTERVAL_S:
            fixes.append(
                f"export every {describe(interval)} or more often -> E6 file drop meets "
                f"{describe(need.seconds)}"
            )
    for planned in _replacements(inventory, source.id):
        if planned.rest_api is not None or planned.database is not None:
            fixes.append(
                f"the planned {planned.id} (year {planned.in_year}, replaces "
                f"{source.id}) has a REST API or database: from then on it is carried "
                "in real time"
            )
    return fixes


def _target_fixes(
    inventory: Inventory,
    deliveries: Sequence[Delivery],
    edge: EdgeOption,
    need: Need,
    timings: EdgeTimings,
) -> list[str]:
    fixes = []
    for d in deliveries:
        if d.latency_s == 0 or edge.latency_s + timings.pipeline_s + d.latency_s <= need.seconds:
            continue
        interval = need.seconds - edge.latency_s - timings.pipeline_s
        if interval >= MIN_EXPORT_INTERVAL_S:
            fixes.append(f"have {d.target} import every {describe(interval)} or more often")
        fixes.append(
            f"give {d.target} a REST endpoint or an interface table for the notices "
            "(D1/D2: delivered within seconds)"
        )
        for planned in _replacements(inventory, d.target):
            if planned.rest_api is not None or planned.database is not None:
                fixes.append(
                    f"the planned {planned.id} (year {planned.in_year}, replaces "
                    f"{d.target}) takes notices directly"
                )
    return fixes
