"""The five steps of the problem statement's selection frame, each a list of findings.

1. inventory the systems and their interfaces (1.1-1.7), here;
2. grade each flow's real-time need (2.1-2.4), here;
3. weigh the IT team and the budget (3.1-3.5), in :mod:`tracesync.assess.steps_plan`;
4. look 3-5 years ahead (4.1-4.6), there;
5. judge the vendor's industry experience and service (5.1-5.5), there.

Each finding carries its rule number and a level: ``info``, ``warning`` (needs a decision or
work) or ``risk`` (puts the project at risk as planned).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tracesync.assess.costs import mesh
from tracesync.assess.edges import DRIVERS, EDGE_NAMES, EdgeChoice
from tracesync.assess.flows import FlowPlan
from tracesync.assess.latency import GRADES, SCENARIOS, describe, mismatch
from tracesync.assess.model import Inventory, SystemBase
from tracesync.topics import SOURCE_SYSTEMS

Level = Literal["info", "warning", "risk"]
STEP_TITLES = {
    1: "Inventory the systems and their interfaces (盘点现有系统与接口能力)",
    2: "Grade each flow's real-time need (明确业务对数据实时性的要求)",
    3: "Weigh the IT team and the budget (评估内部 IT 资源与技术储备)",
    4: "Look 3-5 years ahead (预判未来 3-5 年的业务扩展性)",
    5: "Judge the vendor's industry experience and service (评估供应商的行业经验与服务能力)",
}


@dataclass(frozen=True)
class Finding:
    rule: str
    level: Level
    text: str
    subject: str | None = None


@dataclass(frozen=True)
class Step:
    number: int
    title: str
    findings: tuple[Finding, ...]


def interfaces_text(system: SystemBase) -> str:
    parts = []
    if system.rest_api:
        hooks = ", webhooks" if system.rest_api.webhooks else ", no webhooks"
        parts.append(f"REST API ({system.rest_api.docs} docs{hooks})")
    if system.database:
        parts.append(f"database {system.database.engine} ({system.database.change_tracking})")
    if system.file_export:
        export = system.file_export
        reads = ", imports files" if export.imports else ""
        parts.append(f"{'/'.join(export.formats)} export every {describe(export.every)}{reads}")
    return "; ".join(parts) or "no interface"


def step_inventory(
    inventory: Inventory, options: Mapping[str, EdgeChoice], flow_pairs: int
) -> Step:
    systems = inventory.systems
    count = len(systems)
    listing = ", ".join(f"{s.id} ({s.kind}, {s.vendor})" for s in systems)
    found = [
        Finding(
            "1.1",
            "info",
            f"{count} systems: {listing}. Point-to-point needs N·(N−1)/2 = "
            f"{count}·{count - 1}/2 = {mesh(count)} interfaces; the flows name {flow_pairs} "
            "distinct pairs today",
        ),
    ]
    sources = {f.source for f in inventory.flows}
    for s in systems:
        choice = options[s.id]
        edges = ", ".join(f"{o.rule} {EDGE_NAMES[o.kind]}" for o in choice.options) or "none"
        level: Level = "info" if s.has_interface else "risk"
        found.append(Finding("1.2", level, f"{s.id}: {interfaces_text(s)} → edges: {edges}", s.id))
        found += _interface_warnings(s, s.id in sources)
    return Step(1, STEP_TITLES[1], tuple(found))


def _interface_warnings(s: SystemBase, is_source: bool) -> list[Finding]:
    found = []
    if s.rest_api is not None and s.rest_api.docs == "poor":
        found.append(
            Finding(
                "1.3",
                "warning",
                f"{s.id}: the REST API's documentation is poor: "
                "count on the vendor to explain it, or use another way out",
                s.id,
            )
        )
    if s.file_export is not None and not {"csv", "xml"} & set(s.file_export.formats):
        found.append(
            Finding(
                "1.4",
                "warning",
                f"{s.id}: exports {', '.join(s.file_export.formats)}"
                "; tracesync reads CSV and XML: ask for one of those",
                s.id,
            )
        )
    if s.database is not None and DRIVERS[s.database.engine]:
        found.append(
            Finding(
                "1.5",
                "warning",
                f"{s.id}: {s.database.engine} needs "
                f"{DRIVERS[s.database.engine]} installed with tracesync",
                s.id,
            )
        )
    if s.kind not in SOURCE_SYSTEMS:
        level: Level = "risk" if is_source else "info"
        role = "is the source of a flow" if is_source else "only receives notices"
        found.append(
            Finding(
                "1.6",
                level,
                f"{s.id}: {s.kind} is not a tracesync source system "
                f"({', '.join(SOURCE_SYSTEMS)}); it {role}",
                s.id,
            )
        )
    if s.database is not None and s.database.change_tracking in ("timestamp", "none"):
        found.append(
            Finding(
                "1.7",
                "warning",
                f"{s.id}: changes are not tracked safely "
                f"({s.database.change_tracking}); change capture needs an outbox "
                "table (a skeleton is emitted)",
                s.id,
            )
        )
    return found


def step_latency(inventory: Inventory, plans: Sequence[FlowPlan]) -> Step:
    found = []
    for flow, plan in zip(inventory.flows, plans, strict=True):
        label = SCENARIOS[flow.scenario].label
        route = f"{flow.source} → {', '.join(flow.to)}"
        rule = "2.1" if plan.need.declared else "2.2"
        assumed = "" if plan.need.declared else " (the scenario's typical need, assumed)"
        found.append(
            Finding(
                rule,
                "info",
                f"{flow.id} ({route}, {label}): "
                f"{describe(plan.need.seconds)} → {plan.need.grade} level{assumed}",
                flow.id,
            )
        )
        odd = mismatch(flow)
        if odd:
            found.append(Finding("2.3", "warning", f"{flow.id}: {odd}", flow.id))
    counts = ", ".join(f"{g} {sum(1 for p in plans if p.need.grade == g)}" for g in GRADES)
    found.append(Finding("2.4", "info", f"flows by grade: {counts}"))
    return Step(2, STEP_TITLES[2], tuple(found))
