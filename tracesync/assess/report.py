"""An assessment as text (what ``tracesync assess`` prints) and as JSON-ready data (``--json``)."""

from __future__ import annotations

import dataclasses
import math
import unicodedata
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from tracesync.assess.assessment import Assessment
from tracesync.assess.compare import DIMENSION_NAMES, DIMENSIONS
from tracesync.assess.costs import APPROACH_NAMES, APPROACHES, links, mesh, money, n
from tracesync.assess.edges import EDGE_NAMES
from tracesync.assess.flows import FlowPlan
from tracesync.assess.latency import describe

_MARK = {"info": " ", "warning": "!", "risk": "X"}


def assessment_text(a: Assessment) -> str:
    """The five steps, the comparison and the per-flow plan, for a terminal."""
    org = a.inventory.organization
    line = a.timeline
    out = [
        f"tracesync assessment: {org.name} ({org.industry}, {len(org.plants)} plant(s), "
        f"{line.today} systems, {len(a.plans)} flows)",
        "",
    ]
    for step in a.steps:
        out.append(f"Step {step.number}: {step.title}")
        out += [f" {_MARK[f.level]} [{f.rule}] {f.text}" for f in step.findings]
        out.append("")
    out += comparison_lines(a)
    out.append("")
    out.append("Recommendation per flow")
    for plan in a.plans:
        out += flow_lines(plan)
    out.append("")
    out.append("Verdict")
    out += [f"  {v}" for v in a.verdict()]
    return "\n".join(out)


def comparison_lines(a: Assessment) -> list[str]:
    line = a.timeline
    c = a.comparison
    head = (
        f"Four dimensions (N = {line.today} today: N·(N−1)/2 = {mesh(line.today)} possible "
        f"point-to-point interfaces, {line.pairs} in use; N = {line.future} in {line.years} years: "
        f"{links('p2p', line.future, line)} (all pairs {mesh(line.future)}); crossover at "
        f"{a.crossover if a.crossover is not None else 'none'} systems)"
    )
    width = 44
    rows = [head, f"  {'dimension':{width}} " + "".join(f"{x:>8}" for x in (*APPROACHES, "weight"))]
    weights = {w.dimension: w for w in c.weights}
    for d in DIMENSIONS:
        cells = "".join(f"{c.score(x, d).value:>8.1f}" for x in APPROACHES)
        rows.append(f"  {pad(DIMENSION_NAMES[d], width)} {cells}{weights[d].value:>8}")
    totals = "".join(f"{c.totals[x]:>8.2f}" for x in APPROACHES)
    rows.append(f"  {pad('weighted total', width)} {totals}")
    rows.append("  working:")
    for d in DIMENSIONS:
        for x in APPROACHES:
            rows.append(f"    {d} / {x}: {c.score(x, d).working}")
    budget = a.inventory.budget
    if budget.day_rate is not None:
        for x in APPROACHES:
            cost = a.costs[x]
            start = money(cost.initial_days, budget.day_rate, budget.currency)
            total = money(cost.total_days, budget.day_rate, budget.currency)
            rows.append(f"    money / {x}: initial{start}, {line.years}-year total{total}")
    for w in c.weights:
        if w.reasons:
            rows.append(f"    weight {w.dimension} = {w.value}: {'; '.join(w.reasons)}")
    rows += [f"  [{f.rule}] {f.text}" for f in c.fit]
    for x, missed in c.ruled_out.items():
        rows.append(
            f"  [G1] {APPROACH_NAMES[x]} is ruled out: it misses {', '.join(missed)}, which "
            "another approach delivers in time (step 2: match the business need first)"
        )
    rows.append(f"  → best for this plant: {APPROACH_NAMES[c.best]}")
    return rows


def pad(text: str, width: int) -> str:
    """``text`` padded to ``width`` terminal columns (CJK characters take two)."""
    columns = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - columns)


def flow_lines(plan: FlowPlan) -> list[str]:
    status = "met" if plan.meets else "FLAGGED"
    estimate = f"~{describe(plan.latency_s)}" if plan.latency_s is not None else "no path"
    out = [
        f"  {plan.flow}: {plan.source} → {', '.join(plan.targets)} ({plan.scenario}); need "
        f"{describe(plan.need.seconds)}, estimate {estimate}: {status}"
    ]
    if plan.edge is not None:
        out.append(
            f"    edge: {EDGE_NAMES[plan.edge.kind]} ({plan.edge.mode}) — `{plan.edge.command}`"
        )
        out += [f"    to do: {action}" for action in plan.edge.actions]
    out += [f"    because [{c.rule}] {c.text}" for c in plan.why]
    out += [f"    problem [{c.rule}] {c.text}" for c in plan.problems]
    out += [f"    fix: {fix}" for fix in plan.fixes]
    return out


def assessment_dict(a: Assessment) -> dict[str, Any]:
    """JSON-ready data of the assessment (``tracesync assess --json``)."""
    return {
        "organization": a.inventory.organization.model_dump(mode="json"),
        "steps": jsonable(a.steps),
        "interfaces": {
            "systems_today": a.timeline.today,
            "systems_by_year": list(a.timeline.by_year),
            "p2p_all_pairs_today": mesh(a.timeline.today),
            "p2p_interfaces_today": a.timeline.pairs,
            "p2p_interfaces_future": links("p2p", a.timeline.future, a.timeline),
            "p2p_all_pairs_future": mesh(a.timeline.future),
            "hub_connections_future": a.timeline.future,
            "crossover_systems": a.crossover,
        },
        "costs": jsonable(a.costs),
        "comparison": jsonable(a.comparison),
        "edges": {
            system_id: {
                **jsonable(choice),
                "command": choice.option.command if choice.option else None,
                "meets_strictest": choice.meets_strictest,
            }
            for system_id, choice in a.choices.items()
        },
        "flows": [{**jsonable(p), "meets": p.meets} for p in a.plans],
        "verdict": a.verdict(),
        "timings": jsonable(a.timings),
    }


def jsonable(value: Any) -> Any:
    """Dataclasses, pydantic models, mappings, tuples and sets (sorted) as plain JSON data."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, set | frozenset):
        return sorted(jsonable(v) for v in value)
    if isinstance(value, float):
        return float(n(value)) if math.isfinite(value) else None
    return value
