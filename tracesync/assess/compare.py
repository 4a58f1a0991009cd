"""The four dimensions of the problem statement, scored 0-5 for the three approaches.

* real-time (实时性): the share of flows each approach delivers in time, 5 × met / flows;
* extensibility and maintenance (扩展与维护性), over the horizon: the mean of 5 / (links the next
  system adds) and 5 × N / (links to keep), less 0.5 for monitoring per interface
  (point-to-point) or 1 for none (files; the hub monitors centrally);
* initial cost (初期投入成本) and long-term TCO (长期总拥有成本): 5 × cheapest / own cost.

Weights (1-3) follow steps 2-4 (seconds-level flows, growth, the crossover, CAPEX or OPEX); the
total is the weighted mean. The problem statement's fit rules (F1-F3) are stated beside it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from tracesync.assess.costs import APPROACHES, Approach, Cost, Timeline, links, n
from tracesync.assess.edges import EdgeTimings
from tracesync.assess.flows import Citation, FlowPlan
from tracesync.assess.model import Assumptions, Inventory, SystemBase

Dimension = Literal["realtime", "extensibility", "initial_cost", "tco"]
DIMENSIONS: tuple[Dimension, ...] = ("realtime", "extensibility", "initial_cost", "tco")
DIMENSION_NAMES: dict[Dimension, str] = {
    "realtime": "real-time (实时性)",
    "extensibility": "extensibility & maintenance (扩展与维护性)",
    "initial_cost": "initial cost (初期投入成本)",
    "tco": "long-term TCO (长期总拥有成本)",
}
MONITORING_PENALTY: dict[Approach, float] = {"p2p": 0.5, "hub": 0.0, "files": 1.0}


@dataclass(frozen=True)
class Score:
    """One cell of the comparison, with its arithmetic."""

    approach: Approach
    dimension: Dimension
    value: float
    working: str


@dataclass(frozen=True)
class Weight:
    dimension: Dimension
    value: int
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class Comparison:
    """The four dimensions for the three approaches, weighted."""

    scores: tuple[Score, ...]
    weights: tuple[Weight, ...]
    totals: Mapping[Approach, float]
    ruled_out: Mapping[Approach, tuple[str, ...]]
    """Rule G1: approaches missing execution-level flows (seconds, minutes) another one meets."""
    best: Approach
    fit: tuple[Citation, ...]

    def score(self, approach: Approach, dimension: Dimension) -> Score:
        return next(s for s in self.scores if (s.approach, s.dimension) == (approach, dimension))


def _round(value: float) -> float:
    return round(max(0.0, min(5.0, value)), 1)


# -- real-time ----------------------------------------------------------------------------------


def p2p_latency(source: SystemBase, target: SystemBase, t: EdgeTimings) -> float | None:
    """A custom interface: live when both ends have an API or database, else their files."""
    if source.rest_api is not None and source.rest_api.webhooks:
        out = t.rest_push_s
    elif source.rest_api is not None or source.database is not None:
        out = t.forwarder_s
    elif source.file_export is not None:
        out = source.file_export.every
    else:
        return None
    if target.rest_api is not None or target.database is not None:
        return out
    if target.file_export is not None and target.file_export.imports:
        return out + target.file_export.every
    return None


def file_latency(source: SystemBase, target: SystemBase, a: Assumptions) -> float | None:
    """A file job: the source's export cadence (or a new job's) plus the target's import."""
    if not source.has_interface or not target.has_interface:
        return None
    out = source.file_export.every if source.file_export else a.file_every
    into = target.file_export.every if target.file_export else a.file_every
    return out + into


@dataclass(frozen=True)
class InTime:
    """Per approach: the flows delivered within their need, and those it can carry only late."""

    met: Mapping[Approach, frozenset[str]]
    late: Mapping[Approach, frozenset[str]]


def _sort(latencies: Sequence[float | None], need: float) -> str:
    if any(x is None for x in latencies):
        return "no path"
    return "met" if all(x is not None and x <= need for x in latencies) else "late"


def flows_in_time(inventory: Inventory, plans: Sequence[FlowPlan], t: EdgeTimings) -> InTime:
    """Which flows each approach delivers in time, and which only too late."""
    met: dict[Approach, set[str]] = {a: set() for a in APPROACHES}
    late: dict[Approach, set[str]] = {a: set() for a in APPROACHES}
    for plan in plans:
        source = inventory.system(plan.source)
        targets = [inventory.system(x) for x in plan.targets]
        need = plan.need.seconds
        outcome: dict[Approach, str] = {
            "hub": _sort([plan.latency_s], need),
            "p2p": _sort([p2p_latency(source, target, t) for target in targets], need),
            "files": _sort(
                [file_latency(source, target, inventory.assumptions) for target in targets], need
            ),
        }
        for approach, result in outcome.items():
            if result == "met":
                met[approach].add(plan.flow)
            elif result == "late":
                late[approach].add(plan.flow)
    return InTime(
        {a: frozenset(v) for a, v in met.items()}, {a: frozenset(v) for a, v in late.items()}
    )


def realtime_scores(in_time: InTime, total: int) -> list[Score]:
    scores = []
    for a in APPROACHES:
        count = len(in_time.met[a])
        value = _round(5 * count / total)
        working = f"{count}/{total} flows in time → 5 × {count}/{total} = {n(value)}"
        scores.append(Score(a, "realtime", value, working))
    return scores


def ruled_out(in_time: InTime, plans: Sequence[FlowPlan]) -> dict[Approach, tuple[str, ...]]:
    """Rule G1: seconds- and minutes-level flows an approach can carry only too late while
    another approach delivers them in time (a missing path is a gap to fix, not a verdict)."""
    execution = [p.flow for p in plans if p.need.grade in ("seconds", "minutes")]
    out: dict[Approach, tuple[str, ...]] = {}
    for a in APPROACHES:
        others = frozenset().union(*(in_time.met[b] for b in APPROACHES if b != a))
        missed = tuple(f for f in execution if f in others and f in in_time.late[a])
        if missed:
            out[a] = missed
    return out


# -- extensibility and maintenance --------------------------------------------------------------


def extensibility_scores(line: Timeline) -> list[Score]:
    future = line.future
    scores = []
    for a in APPROACHES:
        added = links(a, future + 1, line) - links(a, future, line)
        kept = links(a, future, line)
        grow = 5 / added
        keep = min(5.0, 5 * future / kept) if kept else 5.0
        value = _round((grow + keep) / 2 - MONITORING_PENALTY[a])
        penalty = MONITORING_PENALTY[a]
        working = (
            f"system {future + 1} adds {added} link{'s' if added != 1 else ''} → 5/{added} = "
            f"{n2(grow)}; {kept} links to keep for N={future} → "
            f"min(5, 5 × {future}/{kept}) = {n2(keep)}; mean {n2((grow + keep) / 2)}"
        )
        working += f" − {n(penalty)} ({_monitoring(a)})" if penalty else f" ({_monitoring(a)})"
        scores.append(Score(a, "extensibility", value, f"{working} = {n(value)}"))
    return scores


def n2(value: float) -> str:
    """Two decimals at most, for intermediate steps of the working."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _monitoring(approach: Approach) -> str:
    return {
        "p2p": "monitoring per interface",
        "hub": "central monitoring: metrics, dead letters, file receipts",
        "files": "no monitoring or error feedback",
    }[approach]


# -- cost ---------------------------------------------------------------------------------------


def cost_scores(all_costs: Mapping[Approach, Cost]) -> list[Score]:
    scores = []
    cheapest_start = min(c.initial_days for c in all_costs.values())
    cheapest_total = min(c.total_days for c in all_costs.values())
    for a in APPROACHES:
        c = all_costs[a]
        start = _ratio(cheapest_start, c.initial_days)
        total = _ratio(cheapest_total, c.total_days)
        scores.append(
            Score(
                a,
                "initial_cost",
                start,
                f"{c.initial_working} → 5 × {n(cheapest_start)}/{n(c.initial_days)} = {n(start)}",
            )
        )
        scores.append(
            Score(
                a,
                "tco",
                total,
                f"{c.total_working} → 5 × {n(cheapest_total)}/{n(c.total_days)} = {n(total)}",
            )
        )
    return scores


def _ratio(cheapest: float, own: float) -> float:
    return 5.0 if own <= 0 else _round(5 * cheapest / own)


# -- weights, totals, fit -----------------------------------------------------------------------


def weights(
    inventory: Inventory, plans: Sequence[FlowPlan], line: Timeline, cross: int | None
) -> list[Weight]:
    seconds = sum(1 for p in plans if p.need.grade == "seconds")
    realtime = [f"2.1: {seconds} flow(s) need seconds"] if seconds else []
    growth = []
    if line.future > line.today:
        growth.append(f"4.1: N grows {line.today} → {line.future}")
    if cross is not None and line.future >= cross:
        growth.append(f"4.2: N={line.future} is at or past the crossover ({cross})")
    model = inventory.budget.model
    start = ["3.3: a yearly (OPEX) budget has little to spend up front"] if model == "opex" else []
    total = (
        ["3.3: a one-time (CAPEX) investment, long-term cost counts"] if model == "capex" else []
    )
    return [
        Weight("realtime", 1 + len(realtime), tuple(realtime)),
        Weight("extensibility", 1 + len(growth), tuple(growth)),
        Weight("initial_cost", 1 + len(start), tuple(start)),
        Weight("tco", 1 + len(total), tuple(total)),
    ]


def fit_rules(inventory: Inventory, plans: Sequence[FlowPlan], line: Timeline) -> list[Citation]:
    """F1-F3: where the problem statement says each approach fits, checked for this plant."""
    no_growth = line.future == line.today and not inventory.growth.plants
    small = line.today <= 3
    p2p_fits = small and no_growth and inventory.budget.model != "capex"
    hub_fits = line.future >= 4 or not no_growth
    slow = [p.flow for p in plans if p.need.grade in ("hours", "days")]
    file_only = [
        s.id for s in inventory.systems if s.file_export and not (s.rest_api or s.database)
    ]
    return [
        Citation(
            "F1",
            f"point-to-point fits 2-3 core systems, no new systems planned and a tight "
            f"budget: {'fits' if p2p_fits else 'does not fit'} ({line.today} systems today, "
            f"{line.future} in {line.years} years, {inventory.budget.model} budget)",
        ),
        Citation(
            "F2",
            f"a hub fits several heterogeneous systems with long-term plans: "
            f"{'fits' if hub_fits else 'does not fit'} ({line.future} systems in "
            f"{line.years} years{', growth planned' if not no_growth else ''})",
        ),
        Citation(
            "F3",
            f"file exchange fits report data with low real-time needs and legacy "
            f"systems without API: {len(slow)} flow(s) tolerate hours "
            f"({', '.join(slow) or 'none'}); file-only systems: "
            f"{', '.join(file_only) or 'none'}",
        ),
    ]


def compare(
    inventory: Inventory,
    plans: Sequence[FlowPlan],
    line: Timeline,
    *,
    all_costs: Mapping[Approach, Cost],
    cross: int | None,
    t: EdgeTimings,
) -> Comparison:
    in_time = flows_in_time(inventory, plans, t)
    scores = [
        *realtime_scores(in_time, len(plans)),
        *extensibility_scores(line),
        *cost_scores(all_costs),
    ]
    ws = weights(inventory, plans, line, cross)
    by_dimension = {w.dimension: w.value for w in ws}
    weight_sum = sum(by_dimension.values())
    totals = {
        a: round(
            sum(s.value * by_dimension[s.dimension] for s in scores if s.approach == a)
            / weight_sum,
            2,
        )
        for a in APPROACHES
    }
    out = ruled_out(in_time, plans)
    candidates = [a for a in APPROACHES if a not in out] or list(APPROACHES)
    best = max(candidates, key=lambda a: (-len(out.get(a, ())), totals[a]))
    fit = tuple(fit_rules(inventory, plans, line))
    return Comparison(tuple(scores), tuple(ws), totals, out, best, fit)
