"""Steps 3-5 of the selection frame: the team and budget, the years ahead, the vendor.

Findings as in :mod:`tracesync.assess.steps` (rule numbers 3.x, 4.x, 5.x).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from tracesync.assess.costs import (
    APPROACH_NAMES,
    Approach,
    Cost,
    Timeline,
    links,
    mesh,
    money,
    n,
)
from tracesync.assess.edges import EdgeChoice
from tracesync.assess.flows import FlowPlan
from tracesync.assess.model import Growth, Inventory
from tracesync.assess.steps import STEP_TITLES, Finding, Level, Step
from tracesync.topics import SOURCE_SYSTEMS

COMPLIANCE_WORDS = {
    "food": ("fsma", "178/2002", "haccp", "ifs", "brc", "fssc"),
    "pharma": ("gmp", "annex 11", "part 11", "gamp", "gxp", "dscsa", "fmd"),
    "auto_parts": ("iatf", "16949", "vda"),
    "other": (),
}


def step_resources(
    inventory: Inventory, costs: Mapping[Approach, Cost], choices: Mapping[str, EdgeChoice]
) -> Step:
    team, budget = inventory.team, inventory.budget
    skills = ", ".join(team.skills) or "none listed"
    found = [
        Finding(
            "3.1",
            "info",
            f"{team.developers} developer(s), {team.operations} in operations; skills: {skills}",
        )
    ]
    if team.developers == 0:
        found.append(
            Finding(
                "3.2",
                "warning",
                "no developers: point-to-point interfaces and REST "
                "forwarders cannot be built or kept in-house; only configured edges "
                "(webhooks, change capture, file drops)",
            )
        )
    if team.operations == 0:
        found.append(
            Finding(
                "3.2",
                "risk",
                "nobody in operations to run a hub (Kafka, workers, "
                "sinks): staff it or buy operations from the vendor (step 5)",
            )
        )
    else:
        for skill, why in (
            ("linux", "the hub runs on Linux hosts"),
            ("kafka", "the hub runs on Kafka: plan training or vendor operations"),
        ):
            if skill not in team.skills:
                found.append(Finding("3.2", "warning", f"no {skill} skill listed; {why}"))
    found.append(Finding("3.3", "info", _budget_text(budget.model)))
    found += _budget_fit(inventory, costs)
    found += _skills_for_edges(inventory, choices)
    return Step(3, STEP_TITLES[3], tuple(found))


def _budget_text(model: str) -> str:
    if model == "capex":
        return (
            "CAPEX: a one-time project investment is approved, so the long-term TCO weighs "
            "double; a hub's higher start is acceptable"
        )
    if model == "opex":
        return (
            "OPEX: spending runs as a yearly budget with little up front, so the initial "
            "cost weighs double"
        )
    return "balanced budget: initial cost and TCO weigh the same"


def _budget_fit(inventory: Inventory, costs: Mapping[Approach, Cost]) -> list[Finding]:
    budget = inventory.budget
    if budget.initial_budget is None:
        return []
    if budget.day_rate is None:
        return [
            Finding(
                "3.4",
                "warning",
                "an initial budget is given but no day_rate: the "
                "costs stay in person-days and cannot be compared with it",
            )
        ]
    found = []
    limit = budget.initial_budget
    for approach, c in costs.items():
        spend = c.initial_days * budget.day_rate
        within = spend <= limit
        found.append(
            Finding(
                "3.4",
                "info" if within else "warning",
                f"{APPROACH_NAMES[approach]}: {n(c.initial_days)} d × "
                f"{budget.day_rate:,.0f}{money(c.initial_days, budget.day_rate, budget.currency)}"
                f" — {'within' if within else 'over'} the initial budget of "
                f"{limit:,.0f} {budget.currency}",
            )
        )
    return found


def _skills_for_edges(inventory: Inventory, choices: Mapping[str, EdgeChoice]) -> list[Finding]:
    needed: dict[str, list[str]] = {}
    for system_id, choice in choices.items():
        if choice.option is None:
            continue
        rule = choice.option.rule
        wants = ["sql"] if choice.option.kind == "db" else []
        if rule == "E4":
            wants += ["rest", "python or java"]
        for skill in wants:
            needed.setdefault(skill, []).append(system_id)
    found = []
    skills = set(inventory.team.skills)
    for skill, systems in needed.items():
        have = skill in skills or (skill == "python or java" and {"python", "java"} & skills)
        if not have:
            found.append(
                Finding(
                    "3.5",
                    "warning",
                    f"the edges of {', '.join(systems)} need {skill}, which the team does not list",
                )
            )
    return found


def step_growth(inventory: Inventory, line: Timeline, cross: int | None) -> Step:
    by_year: dict[int, list[str]] = {}
    for year, what in line.arrivals:
        by_year.setdefault(year, []).append(what)
    arrivals = "; ".join(f"year {y}: {', '.join(w)}" for y, w in by_year.items()) or "none planned"
    p2p_now, p2p_then = links("p2p", line.today, line), links("p2p", line.future, line)
    found = [
        Finding(
            "4.1",
            "info",
            f"N = {line.today} today → {line.future} in {line.years} years ({arrivals}); "
            f"point-to-point {p2p_now} → {p2p_then} interfaces (each newcomer needs one to every "
            f"system there; all pairs: {mesh(line.future)}), hub {line.today} → {line.future} "
            "connections",
        ),
    ]
    found.append(_crossover_finding(line, cross))
    found.extend(_growth_findings(inventory.growth))
    return Step(4, STEP_TITLES[4], tuple(found))


def _growth_findings(growth: Growth) -> list[Finding]:
    """Findings on the planned plants, systems and lines."""
    found: list[Finding] = []
    for plant in growth.plants:
        kinds = ", ".join(plant.systems) or "no own systems"
        found.append(
            Finding(
                "4.3",
                "info",
                f"plant {plant.code} (year {plant.in_year}, "
                f"{plant.lines} lines, {kinds}): each of its systems joins the hub "
                f"with one edge (same mapping and route files, plant = {plant.code})",
            )
        )
    for planned in growth.systems:
        if planned.replaces:
            found.append(
                Finding(
                    "4.4",
                    "info",
                    f"{planned.id} ({planned.kind}, year "
                    f"{planned.in_year}) replaces {planned.replaces}: only that "
                    "system's edge changes; no other system is touched",
                    planned.id,
                )
            )
        if planned.kind not in SOURCE_SYSTEMS:
            found.append(
                Finding(
                    "4.6",
                    "info",
                    f"{planned.id} ({planned.kind}) can receive "
                    "notices but is not a tracesync source system",
                    planned.id,
                )
            )
    if growth.new_lines:
        found.append(
            Finding(
                "4.5",
                "info",
                f"{growth.new_lines} new line(s) add events, not "
                "interfaces: the co-partitioned source topics carry the volume "
                "(measure with tracesync bench)",
            )
        )
    return found


def _crossover_finding(line: Timeline, cross: int | None) -> Finding:
    if cross is None:
        return Finding(
            "4.2",
            "info",
            "with these assumptions point-to-point never costs more than the hub over the horizon",
        )
    level: Level = "warning" if line.future >= cross else "info"
    where = "at or past" if line.future >= cross else "below"
    return Finding(
        "4.2",
        level,
        f"crossover: over {line.years} years point-to-point costs more "
        f"than the hub from N = {cross} systems (the problem statement: beyond 4-5); "
        f"this plant is {where} it with N = {line.future}",
    )


def step_vendor(inventory: Inventory, plans: Sequence[FlowPlan]) -> Step:
    vendor = inventory.vendor
    industry = inventory.organization.industry
    found: list[Finding] = []
    if vendor.in_house:
        found.append(
            Finding(
                "5.4",
                "info",
                f"{vendor.name} is the in-house team: it carries "
                "planning, implementation and operations (see step 3)",
            )
        )
    else:
        found += _references(vendor.industry_references, vendor.references_verified, industry)
        lifecycle = ("planning", "implementation", "operations")
        missing = [s for s in lifecycle if s not in vendor.services]
        if missing:
            level: Level = (
                "risk" if "operations" in missing and inventory.team.operations == 0 else "warning"
            )
            found.append(
                Finding(
                    "5.2",
                    level,
                    f"{vendor.name} does not offer {', '.join(missing)}: no full-lifecycle service",
                )
            )
        else:
            found.append(
                Finding(
                    "5.2", "info", f"{vendor.name} covers planning, implementation and operations"
                )
            )
    found += _compliance(inventory)
    seconds = [p.flow for p in plans if p.need.grade == "seconds"]
    if seconds and vendor.support != "24x7":
        found.append(
            Finding(
                "5.5",
                "warning",
                f"{len(seconds)} flow(s) need seconds around the "
                f"clock, support is {vendor.support}",
            )
        )
    return Step(5, STEP_TITLES[5], tuple(found))


def _references(count: int, verified: bool, industry: str) -> list[Finding]:
    if count == 0:
        return [Finding("5.1", "risk", f"no reference project in {industry}")]
    if count >= 2 and verified:
        return [Finding("5.1", "info", f"{count} verified reference projects in {industry}")]
    state = "verified" if verified else "not verified yet: ask to visit or call them"
    return [Finding("5.1", "warning", f"{count} reference project(s) in {industry}, {state}")]


def _compliance(inventory: Inventory) -> list[Finding]:
    words = COMPLIANCE_WORDS[inventory.organization.industry]
    if not words:
        return []
    named = " ".join(inventory.vendor.compliance).lower()
    hits = [w for w in words if w in named]
    if hits:
        return [
            Finding(
                "5.3", "info", f"regulatory experience: {', '.join(inventory.vendor.compliance)}"
            )
        ]
    return [
        Finding(
            "5.3",
            "warning",
            f"{inventory.organization.industry} is regulated; the vendor "
            f"names none of the usual regimes ({', '.join(words)})",
        )
    ]
