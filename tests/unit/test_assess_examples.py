"""The two example inventories of deploy/assess and the recommendations they must get."""

from __future__ import annotations

from pathlib import Path

import pytest

from tracesync.assess.assessment import Assessment, assess
from tracesync.assess.flows import FlowPlan
from tracesync.assess.loader import load_inventory

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "assess"


@pytest.fixture(scope="module")
def food() -> Assessment:
    return assess(load_inventory(EXAMPLES / "food-plant.toml"))


@pytest.fixture(scope="module")
def pharma() -> Assessment:
    return assess(load_inventory(EXAMPLES / "pharma-group.toml"))


def plan(a: Assessment, flow: str) -> FlowPlan:
    return next(p for p in a.plans if p.flow == flow)


def edges(a: Assessment) -> dict[str, str | None]:
    return {s: c.option.rule if c.option else None for s, c in a.choices.items()}


def rules(a: Assessment, step: int) -> list[str]:
    return [f.rule for f in a.steps[step - 1].findings]


# -- food plant: three systems, a file-only legacy WMS ------------------------------------------


def test_food_plant_edges(food: Assessment) -> None:
    assert edges(food) == {"mes": "E1", "erp": "E2", "wms": "E6"}
    assert food.choices["wms"].option.mode == "csv"  # type: ignore[union-attr]


def test_food_plant_counts_today_and_ahead(food: Assessment) -> None:
    assert (food.timeline.today, food.timeline.future, food.crossover) == (3, 4, 5)
    assert "N·(N−1)/2 = 3·2/2 = 3 interfaces" in food.steps[0].findings[0].text
    assert food.timeline.pairs == 3  # the flows connect every pair already
    assert "point-to-point 3 → 6 interfaces" in food.steps[3].findings[0].text
    assert "hub 3 → 4 connections" in food.steps[3].findings[0].text


def test_food_plant_flags_the_seconds_flows_the_legacy_wms_cannot_carry(food: Assessment) -> None:
    assert [p.flow for p in food.flagged] == ["batch-to-wms", "scans-to-erp"]
    to_wms = plan(food, "batch-to-wms")
    assert to_wms.edge is not None and to_wms.edge.rule == "E1"  # the MES side is fine ...
    assert [c.rule for c in to_wms.problems] == ["D3"]  # ... the WMS reads files hourly
    assert "target side: wms reads its import files every 1 h" in to_wms.problems[0].text
    assert any("REST endpoint or an interface table" in f for f in to_wms.fixes)
    scans = plan(food, "scans-to-erp")
    assert [c.rule for c in scans.problems] == ["R3", "E6"]
    assert any("StockPilot for a REST API with webhooks" in f for f in scans.fixes)
    assert any("read access to its database" in f for f in scans.fixes)


def test_food_plant_met_flows_cite_their_rules(food: Assessment) -> None:
    reconciliation = plan(food, "stock-reconciliation")
    assert reconciliation.meets
    assert [c.rule for c in reconciliation.why] == ["2.1", "E6", "R1", "D1"]
    receipts = plan(food, "receipts-to-mes")
    assert [c.rule for c in receipts.why][:2] == ["2.2", "E2"]  # no latency: the scenario's
    assert "preferred to E4 REST push" in receipts.why[1].text


def test_food_plant_comparison(food: Assessment) -> None:
    c = food.comparison
    assert c.ruled_out == {"files": ("batch-to-erp",)}
    assert c.best == "hub"
    assert c.totals["files"] > c.totals["hub"] > c.totals["p2p"]
    assert {w.dimension: w.value for w in c.weights}["initial_cost"] == 2  # an OPEX budget


def test_food_plant_findings(food: Assessment) -> None:
    assert "3.2" in rules(food, 3)  # no Kafka skill
    assert [f.rule for f in food.steps[4].findings] == ["5.1", "5.2", "5.3", "5.5"]
    assert food.steps[4].findings[0].level == "warning"  # one unverified reference


# -- pharma group: six systems, two plants planned ----------------------------------------------


def test_pharma_edges(pharma: Assessment) -> None:
    assert edges(pharma) == {
        "mes-basel": "E1",
        "mes-lyon": "E3",
        "wms": "E6",
        "qms": "E5",
        "crm": None,
    }
    lyon = pharma.choices["mes-lyon"]
    assert [r.rule for r in lyon.refusals] == ["1.3"]  # its REST API is poorly documented
    assert [r.rule for r in pharma.choices["crm"].refusals] == ["1.6"]


def test_pharma_counts_with_the_new_plants(pharma: Assessment) -> None:
    assert pharma.timeline.by_year == (6, 8, 8, 10, 10)
    assert [p.code for p in pharma.inventory.growth.plants] == ["PH-SINGAPORE", "PH-MONTREAL"]
    growth = pharma.steps[3].findings[0].text
    # 8 pairs in use today; the 4 newcomers add 6 + 7 (year 2) and 8 + 9 (year 4) interfaces
    assert pharma.timeline.pairs == 8
    assert "point-to-point 8 → 38 interfaces" in growth
    assert "all pairs: 45), hub 6 → 10 connections" in growth
    assert "N·(N−1)/2 = 6·5/2 = 15 interfaces; the flows name 8" in pharma.steps[0].findings[0].text
    assert pharma.steps[3].findings[1].level == "warning"  # past the crossover


def test_pharma_recommends_the_hub(pharma: Assessment) -> None:
    c = pharma.comparison
    assert c.best == "hub"
    assert c.totals["hub"] == max(c.totals.values())
    assert c.score("hub", "tco").value == 5.0


def test_pharma_flags_only_the_crm_complaints(pharma: Assessment) -> None:
    assert [p.flow for p in pharma.flagged] == ["complaints"]
    complaints = plan(pharma, "complaints")
    assert [c.rule for c in complaints.problems] == ["1.6", "R3"]
    assert complaints.fixes[0].startswith("hand its data to the system that owns it")


def test_pharma_holds_reach_every_target_the_right_way(pharma: Assessment) -> None:
    holds = plan(pharma, "holds")
    assert holds.meets and holds.edge is not None and holds.edge.rule == "E5"
    assert {d.target: d.rule for d in holds.deliveries} == {
        "wms": "D1",
        "mes-basel": "D1",
        "mes-lyon": "D2",  # poor API docs: an interface table instead
    }


def test_pharma_findings(pharma: Assessment) -> None:
    assert {"1.3", "1.5", "1.6", "1.7"} <= set(rules(pharma, 1))
    assert all(f.level == "info" for f in pharma.steps[4].findings)  # the vendor is sound
    assert "3.2" not in rules(pharma, 3)
