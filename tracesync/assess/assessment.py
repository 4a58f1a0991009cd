"""One assessment of one inventory: the five steps, the comparison, the plan per flow.

:func:`assess` is pure: an inventory and the edge timings (from the settings) in, an
:class:`Assessment` out. Renderers (:mod:`tracesync.assess.report`, :mod:`tracesync.assess.sheet`)
and the configuration writer (:mod:`tracesync.assess.emit`) read it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from tracesync.assess.compare import Comparison, compare
from tracesync.assess.costs import (
    APPROACH_NAMES,
    Approach,
    Cost,
    Timeline,
    costs,
    crossover,
    timeline,
)
from tracesync.assess.edges import EDGE_NAMES, EdgeChoice, EdgeTimings, choose_edge
from tracesync.assess.flows import FlowPlan, plan_flows
from tracesync.assess.latency import need_of
from tracesync.assess.model import Inventory
from tracesync.assess.steps import Step, step_inventory, step_latency
from tracesync.assess.steps_plan import step_growth, step_resources, step_vendor


@dataclass(frozen=True)
class Assessment:
    """Everything ``tracesync assess`` reports about one inventory."""

    inventory: Inventory
    timings: EdgeTimings
    steps: tuple[Step, ...]
    timeline: Timeline
    crossover: int | None
    costs: Mapping[Approach, Cost]
    comparison: Comparison
    choices: Mapping[str, EdgeChoice]
    """The edge of each system that is the source of a flow, by system id."""
    plans: tuple[FlowPlan, ...]

    @property
    def flagged(self) -> tuple[FlowPlan, ...]:
        return tuple(p for p in self.plans if not p.meets)

    def verdict(self) -> list[str]:
        """The short answer: the approach that scores best, and what tracesync puts where."""
        c = self.comparison
        totals = ", ".join(f"{a} {c.totals[a]:.2f}" for a in c.totals)
        lines = [f"recommended: {APPROACH_NAMES[c.best]} (weighted totals: {totals})"]
        for approach, missed in c.ruled_out.items():
            if c.totals[approach] > c.totals[c.best]:
                lines.append(
                    f"{APPROACH_NAMES[approach]} scores higher but is ruled out [G1]: it cannot "
                    f"deliver {', '.join(missed)} in time, which another approach can"
                )
        if c.best != "hub":
            lines.append(
                "the hub is not the best fit for this plant today; the edges below are how "
                "tracesync would carry the flows if it is chosen for the growth ahead"
            )
        for system_id, choice in self.choices.items():
            if choice.option is not None:
                option = choice.option
                lines.append(
                    f"{system_id}: {EDGE_NAMES[option.kind]} ({option.mode}) via "
                    f"`{option.command}` [{option.rule}]"
                )
            else:
                lines.append(f"{system_id}: no edge [{', '.join(r.rule for r in choice.refusals)}]")
        lines.append(
            f"{len(self.plans) - len(self.flagged)} of {len(self.plans)} flows met; "
            f"flagged: {', '.join(p.flow for p in self.flagged) or 'none'}"
        )
        return lines


def timings_for(inventory: Inventory, base: EdgeTimings) -> EdgeTimings:
    """The settings' edge timings with the inventory's forwarder and pipeline assumptions."""
    a = inventory.assumptions
    return dataclasses.replace(base, forwarder_s=a.forwarder_every, pipeline_s=a.pipeline)


def assess(inventory: Inventory, timings: EdgeTimings | None = None) -> Assessment:
    """Run the five steps and the comparison on an inventory."""
    t = timings_for(inventory, timings or EdgeTimings())
    strictest: dict[str, float] = {}
    for flow in inventory.flows:
        need = need_of(flow).seconds
        strictest[flow.source] = min(need, strictest.get(flow.source, need))
    every = {
        s.id: choose_edge(s, strictest.get(s.id), inventory.team, t) for s in inventory.systems
    }
    choices = {s.id: every[s.id] for s in inventory.systems if s.id in strictest}
    plans = plan_flows(inventory, choices, t)
    line = timeline(inventory)
    cross = crossover(line.years, inventory.assumptions)
    all_costs = costs(line, inventory.assumptions)
    steps = (
        step_inventory(inventory, every, line.pairs),
        step_latency(inventory, plans),
        step_resources(inventory, all_costs, choices),
        step_growth(inventory, line, cross),
        step_vendor(inventory, plans),
    )
    comparison = compare(inventory, plans, line, all_costs=all_costs, cross=cross, t=t)
    return Assessment(
        inventory, t, steps, line, cross, all_costs, comparison, choices, tuple(plans)
    )
