"""Interface counts and the effort model of the three approaches (steps 1, 3 and 4).

Point-to-point needs an interface per pair of systems that exchange data: today the pairs the
flows name, and each new system adds one to every system already there, the growth of the problem
statement's N·(N−1)/2; timed file exchange needs a job per pair as well; a hub needs one connection
per system. Effort is counted in person-days with the inventory's ``[assumptions]``: building each
link, keeping it each year, and for the hub a setup and a yearly base. Over the horizon the count
of systems follows the growth plan (new plants' systems and new systems arrive in their year;
a replacement does not add one). With the default assumptions the total cost of point-to-point
overtakes the hub's between 4 and 5 systems, where the problem statement puts the crossover.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tracesync.assess.model import Assumptions, Inventory

Approach = Literal["p2p", "hub", "files"]
APPROACHES: tuple[Approach, ...] = ("p2p", "hub", "files")
APPROACH_NAMES: dict[Approach, str] = {
    "p2p": "point-to-point API (点对点 API 直连)",
    "hub": "middleware hub: tracesync (中间件)",
    "files": "timed file exchange (文件定时交换)",
}
MAX_CROSSOVER_N = 60


def mesh(n: int) -> int:
    """N·(N−1)/2: interfaces between every pair of N systems."""
    return n * (n - 1) // 2


def links(approach: Approach, n: int, line: Timeline | None = None) -> int:
    """Connections to build and keep with N systems: the hub one per system; point-to-point and
    files today's pairs (all N·(N−1)/2 without a timeline) plus one per newcomer and system."""
    if approach == "hub":
        return n
    if line is None:
        return mesh(n)
    return line.pairs + mesh(n) - mesh(line.today)


@dataclass(frozen=True)
class Timeline:
    """How many systems there are today and at the end of each year of the horizon."""

    today: int
    by_year: tuple[int, ...]
    arrivals: tuple[tuple[int, str], ...]
    """(year, what arrives) for each planned system or plant system."""
    pairs: int = -1
    """Pairs of systems the flows connect today; -1: every pair (N·(N−1)/2)."""

    def __post_init__(self) -> None:
        if self.pairs < 0:
            object.__setattr__(self, "pairs", mesh(self.today))

    @property
    def future(self) -> int:
        return self.by_year[-1]

    @property
    def years(self) -> int:
        return len(self.by_year)


def timeline(inventory: Inventory) -> Timeline:
    """Rule 4.1: today's systems plus each planned one from its year (replacements add none)."""
    growth = inventory.growth
    arrivals: list[tuple[int, str]] = []
    for plant in growth.plants:
        arrivals += [(plant.in_year, f"{kind} of plant {plant.code}") for kind in plant.systems]
    arrivals += [(s.in_year, f"{s.kind} {s.id}") for s in growth.systems if s.replaces is None]
    today = len(inventory.systems)
    by_year = tuple(
        today + sum(1 for year, _ in arrivals if year <= y)
        for y in range(1, growth.horizon_years + 1)
    )
    return Timeline(today, by_year, tuple(sorted(arrivals)), flow_pairs(inventory))


def flow_pairs(inventory: Inventory) -> int:
    """Distinct pairs of systems the flows connect today."""
    return len({frozenset((f.source, target)) for f in inventory.flows for target in f.to})


@dataclass(frozen=True)
class Cost:
    """Person-days of one approach: to start, and in total over the horizon, with the working."""

    approach: Approach
    initial_days: float
    total_days: float
    initial_working: str
    total_working: str


def _rates(approach: Approach, a: Assumptions) -> tuple[float, float, float, float]:
    """(setup, build per link, upkeep per link-year, base per year)."""
    if approach == "p2p":
        return 0.0, a.p2p_build_days, a.p2p_upkeep_days, 0.0
    if approach == "hub":
        return a.hub_setup_days, a.hub_edge_days, a.hub_system_days, a.hub_base_days
    return 0.0, a.file_build_days, a.file_upkeep_days, 0.0


_UNIT = {"p2p": "interface", "hub": "system", "files": "exchange"}


def cost(approach: Approach, line: Timeline, a: Assumptions) -> Cost:
    """Initial and horizon effort of one approach along the timeline."""
    setup, build, upkeep, base = _rates(approach, a)
    unit = _UNIT[approach]
    first = links(approach, line.today, line)
    initial = setup + first * build
    if approach == "hub":
        initial_working = f"{n(setup)} d setup + {first} systems × {n(build)} d = {n(initial)} d"
    else:
        initial_working = (
            f"{first} {unit}s for the pairs the flows connect (of N·(N−1)/2 = "
            f"{mesh(line.today)}) × {n(build)} d = {n(initial)} d"
        )
    counts = [links(approach, c, line) for c in line.by_year]
    terms = [f"{n(initial)} d"]
    total = initial
    previous = first
    for year, count in enumerate(counts, start=1):
        if count > previous:
            added = (count - previous) * build
            terms.append(f"{count - previous} new {unit}s × {n(build)} d (year {year})")
            total += added
        previous = count
    if base:
        terms.append(f"{line.years} years × {n(base)} d")
        total += line.years * base
    link_years = sum(counts)
    terms.append(f"({'+'.join(str(c) for c in counts)}) {unit}-years × {n(upkeep)} d")
    total += link_years * upkeep
    return Cost(approach, initial, total, initial_working, f"{' + '.join(terms)} = {n(total)} d")


def costs(line: Timeline, a: Assumptions) -> dict[Approach, Cost]:
    return {approach: cost(approach, line, a) for approach in APPROACHES}


def crossover(years: int, a: Assumptions) -> int | None:
    """Rule 4.2: the smallest N from which point-to-point costs more than the hub over ``years``
    (N constant), or None below :data:`MAX_CROSSOVER_N`."""
    for count in range(2, MAX_CROSSOVER_N + 1):
        steady = Timeline(count, (count,) * years, ())
        if cost("p2p", steady, a).total_days > cost("hub", steady, a).total_days:
            return count
    return None


def money(days: float, day_rate: float | None, currency: str) -> str:
    """``" = 23,400 EUR"`` when a day rate is known, else nothing."""
    if day_rate is None:
        return ""
    return f" = {days * day_rate:,.0f} {currency}"


def n(value: float) -> str:
    """A number without a needless ``.0``."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
