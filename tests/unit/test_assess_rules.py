"""The assessment's rules one by one: latency grades, edges, deliveries, counts, costs, scores."""

from __future__ import annotations

import pytest

from tests.unit.assess_factory import database, files, flow, inventory, rest, system
from tracesync.assess.assessment import assess
from tracesync.assess.compare import flows_in_time, ruled_out
from tracesync.assess.costs import Timeline, cost, crossover, links, mesh, timeline
from tracesync.assess.edges import EdgeTimings, choose_edge, edge_options
from tracesync.assess.latency import grade, mismatch, need_of
from tracesync.assess.model import Assumptions, Flow, System, Team
from tracesync.assess.routes import delivery_to, recipes_for

T = EdgeTimings()
TEAM = Team(developers=1, operations=1, skills=("sql",))
NO_DEVS = Team(developers=0, operations=1)


def make(kind: str = "WMS", **interfaces: object) -> System:
    return System.model_validate(system("s", kind, **interfaces))


# -- step 2 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "seconds"),
        (59.9, "seconds"),
        (60, "minutes"),
        (3599, "minutes"),
        (3600, "hours"),
        (86399, "hours"),
        (86400, "days"),
    ],
)
def test_grades(seconds: float, expected: str) -> None:
    assert grade(seconds) == expected


def test_the_scenario_gives_the_need_when_none_is_declared() -> None:
    scan = Flow.model_validate(flow("f", "a", "b", "warehouse_scan", None))
    close = Flow.model_validate(flow("f", "a", "b", "financial_close", None))
    assert (need_of(scan).grade, need_of(scan).declared) == ("seconds", False)
    assert need_of(close).grade == "days"
    declared = Flow.model_validate(flow("f", "a", "b", "financial_close", "2h"))
    assert (need_of(declared).seconds, need_of(declared).declared) == (7200.0, True)


def test_a_need_far_from_the_scenarios_usual_one_is_questioned() -> None:
    slow_scan = Flow.model_validate(flow("f", "a", "b", "warehouse_scan", "4h"))
    fast_close = Flow.model_validate(flow("f", "a", "b", "financial_close", "10s"))
    near = Flow.model_validate(flow("f", "a", "b", "warehouse_scan", "2min"))
    assert "usually needs seconds" in str(mismatch(slow_scan))
    assert "raises the cost" in str(mismatch(fast_close))
    assert mismatch(near) is None


# -- edges (E1-E6) and their refusals -----------------------------------------------------------


def rules(options: list) -> list[str]:  # type: ignore[type-arg]
    return [o.rule for o in options]


def test_each_interface_gives_its_edge() -> None:
    options, _ = edge_options(make(rest_api=rest(webhooks=True)), TEAM, T)
    assert rules(options) == ["E1"]
    options, _ = edge_options(make(rest_api=rest("partial", webhooks=False)), TEAM, T)
    assert rules(options) == ["E4"] and options[0].new_code
    assert options[0].latency_s == T.forwarder_s + T.rest_push_s
    for tracking, rule in (
        ("outbox", "E2"),
        ("sequence", "E3"),
        ("timestamp", "E5"),
        ("none", "E5"),
    ):
        options, _ = edge_options(make(database=database(tracking)), TEAM, T)
        assert rules(options) == [rule]
    options, _ = edge_options(make(file_export=files("30min", ("xml",))), TEAM, T)
    assert (rules(options), options[0].mode) == (["E6"], "xml")
    assert options[0].latency_s == 1800 + T.files_settle_s + T.files_poll_s


def test_edges_refused_with_the_rule_that_refuses_them() -> None:
    _, refused = edge_options(make(rest_api=rest("poor", webhooks=False)), TEAM, T)
    assert [(r.rule, r.kind) for r in refused] == [("1.3", "api")]
    _, refused = edge_options(make(rest_api=rest("good", webhooks=False)), NO_DEVS, T)
    assert [r.rule for r in refused] == ["3.2"]
    _, refused = edge_options(make(file_export=files(formats=("xlsx",))), TEAM, T)
    assert [r.rule for r in refused] == ["1.4"]
    options, refused = edge_options(make("CRM", rest_api=rest()), TEAM, T)
    assert options == [] and [r.rule for r in refused] == ["1.6"]
    options, refused = edge_options(make(), TEAM, T)
    assert options == [] and [r.rule for r in refused] == ["1.2"]


def test_a_driver_to_install_is_an_action() -> None:
    options, _ = edge_options(make(database=database("outbox", "oracle")), TEAM, T)
    assert any("oracledb" in action for action in options[0].actions)
    options, _ = edge_options(make(database=database("outbox", "postgresql")), TEAM, T)
    assert options[0].actions == ()


def test_the_choice_meets_the_need_with_the_fewest_changes() -> None:
    everything = make(
        rest_api=rest("good", webhooks=False),
        database=database("timestamp"),
        file_export=files("15min"),
    )
    # an hourly need: the file drop needs no change and no code
    assert choose_edge(everything, 3600, TEAM, T).option.rule == "E6"  # type: ignore[union-attr]
    # a seconds need: the forwarder (new code) beats adding an outbox (a change to the source)
    assert choose_edge(everything, 10, TEAM, T).option.rule == "E4"  # type: ignore[union-attr]
    # without developers only the outbox is left
    assert choose_edge(everything, 10, NO_DEVS, T).option.rule == "E5"  # type: ignore[union-attr]
    both = make(rest_api=rest(webhooks=True), database=database("sequence"))
    assert choose_edge(both, 10, TEAM, T).option.rule == "E1"  # type: ignore[union-attr]


def test_when_nothing_meets_the_need_the_fastest_is_chosen_and_it_does_not_meet() -> None:
    legacy = make(file_export=files("1h"))
    choice = choose_edge(legacy, 10, TEAM, T)
    assert choice.option is not None and choice.option.rule == "E6"
    assert not choice.meets_strictest


# -- downstream (R1-R3, D1-D4) ------------------------------------------------------------------


def test_deliveries_by_what_the_target_offers() -> None:
    assert delivery_to(make(rest_api=rest("partial", False))).rule == "D1"
    poor_api_and_db = make(rest_api=rest("poor", False), database=database())
    assert delivery_to(poor_api_and_db).rule == "D2"
    reads_files = delivery_to(make(file_export=files("2h", imports=True)))
    assert (reads_files.rule, reads_files.transport, reads_files.latency_s) == ("D3", "file", 7200)
    assert delivery_to(make(file_export=files("2h", imports=False))).rule == "D4"


def test_route_recipes_follow_source_and_scenario() -> None:
    assert [r.when for r in recipes_for("MES", "production_reporting")] == ["batch_completed"]
    assert [r.when for r in recipes_for("QMS", "quality_release")] == [
        "hold_active",
        "hold_released",
    ]
    assert [r.when for r in recipes_for("WMS", "reconciliation")] == ["reconciliation_status"]
    assert recipes_for("WMS", "warehouse_scan") == ()  # R3: no predicate for it


# -- counts and costs (steps 1, 3, 4) -----------------------------------------------------------


def test_point_to_point_needs_n_n_minus_1_over_2() -> None:
    assert [mesh(n) for n in range(1, 8)] == [0, 1, 3, 6, 10, 15, 21]


def test_the_timeline_adds_planned_systems_in_their_year_but_not_replacements() -> None:
    inv = inventory(
        [system("a", "MES", rest_api=rest()), system("b", "WMS", rest_api=rest())],
        [flow("f", "a", "b", "production_reporting", None)],
        growth={
            "horizon_years": 4,
            "plants": [{"code": "P2", "in_year": 2, "systems": ["MES", "WMS"]}],
            "systems": [
                {"id": "c", "kind": "QMS", "vendor": "V", "in_year": 3},
                {"id": "b2", "kind": "WMS", "vendor": "V", "in_year": 1, "replaces": "b"},
            ],
        },
    )
    line = timeline(inv)
    assert line.by_year == (2, 4, 5, 5)
    assert (line.today, line.future, line.years) == (2, 5, 4)


def test_costs_add_builds_in_their_year_and_upkeep_per_year() -> None:
    line = Timeline(3, (3, 4, 4), ())
    a = Assumptions()
    p2p = cost("p2p", line, a)
    assert p2p.initial_days == 3 * 6
    assert p2p.total_days == 18 + 3 * 6 + (3 + 6 + 6) * 2
    hub = cost("hub", line, a)
    assert hub.initial_days == 30 + 3 * 3
    assert hub.total_days == 39 + 1 * 3 + 3 * 15 + (3 + 4 + 4) * 1
    assert "(3+6+6) interface-years × 2 d" in p2p.total_working


def test_point_to_point_starts_from_the_pairs_in_use_and_connects_each_newcomer_to_all() -> None:
    line = Timeline(3, (3, 4), (), pairs=2)  # of 3 possible pairs, the flows use 2
    assert links("p2p", 3, line) == 2
    assert links("p2p", 4, line) == 2 + 3  # the 4th system gets one to each of the 3
    assert links("hub", 4, line) == 4
    p2p = cost("p2p", line, Assumptions())
    assert p2p.initial_days == 2 * 6
    assert p2p.total_days == 12 + 3 * 6 + (2 + 5) * 2


@pytest.mark.parametrize("years", range(1, 11))
def test_the_default_assumptions_put_the_crossover_between_4_and_5_systems(years: int) -> None:
    """The problem statement: beyond 4-5 systems point-to-point costs more than a hub."""
    a = Assumptions()
    assert crossover(years, a) == 5
    four = Timeline(4, (4,) * years, ())
    assert cost("p2p", four, a).total_days < cost("hub", four, a).total_days


def test_the_crossover_moves_with_the_assumptions() -> None:
    # 5.5 d per interface over 5 years against 105 + 8·N d for the hub: 198 > 177 at N = 9
    assert crossover(5, Assumptions(p2p_upkeep_days=0.5, p2p_build_days=3)) == 9
    assert crossover(5, Assumptions(hub_setup_days=0, hub_base_days=0)) == 3


# -- the comparison -----------------------------------------------------------------------------


def three_systems(wms_every: str) -> list[dict[str, object]]:
    return [
        system("mes", "MES", rest_api=rest()),
        system("erp", "ERP", database=database("outbox")),
        system("wms", "WMS", file_export=files(wms_every, imports=True)),
    ]


def test_real_time_counts_the_flows_each_approach_delivers_in_time() -> None:
    inv = inventory(
        three_systems("1h"),
        [
            flow("fast", "mes", "erp", "production_reporting", "10s"),
            flow("to-legacy", "mes", "wms", "production_reporting", "10s"),
            flow("slow", "erp", "mes", "financial_close", "1d"),
        ],
    )
    result = assess(inv)
    in_time = flows_in_time(inv, result.plans, result.timings)
    assert in_time.met["hub"] == {"fast", "slow"}
    assert in_time.met["p2p"] == {"fast", "slow"}
    assert in_time.met["files"] == {"slow"}
    assert in_time.late["files"] == {"fast", "to-legacy"}
    assert ruled_out(in_time, result.plans) == {"files": ("fast",)}
    score = result.comparison.score("hub", "realtime")
    assert (score.value, score.working) == (3.3, "2/3 flows in time → 5 × 2/3 = 3.3")


def test_a_cheap_approach_that_misses_an_execution_flow_is_not_recommended() -> None:
    inv = inventory(
        three_systems("1h"),
        [
            flow("fast", "mes", "erp", "production_reporting", "10s"),
            flow("report", "erp", "mes", "management_report", None),
        ],
        budget={"model": "opex"},
    )
    c = assess(inv).comparison
    assert c.totals["files"] > c.totals["hub"]  # cheapest by far ...
    assert "files" in c.ruled_out and c.best != "files"  # ... but rule G1


def test_extensibility_is_hub_first_then_point_to_point_then_files() -> None:
    inv = inventory(three_systems("1h"), [flow("f", "mes", "erp", "production_reporting", None)])
    c = assess(inv).comparison
    values = {a: c.score(a, "extensibility").value for a in ("hub", "p2p", "files")}
    assert values["hub"] == 5.0
    assert values["hub"] > values["p2p"] > values["files"]


def test_weights_follow_seconds_flows_growth_and_the_budget() -> None:
    flows = [flow("f", "mes", "erp", "production_reporting", "5s")]
    growth = {"systems": [{"id": "q", "kind": "QMS", "vendor": "V", "in_year": 1}]}
    capex = assess(inventory(three_systems("1h"), flows, budget={"model": "capex"}, growth=growth))
    weights = {w.dimension: w.value for w in capex.comparison.weights}
    assert weights == {"realtime": 2, "extensibility": 2, "initial_cost": 1, "tco": 2}
    opex = assess(inventory(three_systems("1h"), flows, budget={"model": "opex"}))
    weights = {w.dimension: w.value for w in opex.comparison.weights}
    assert weights == {"realtime": 2, "extensibility": 1, "initial_cost": 2, "tco": 1}
