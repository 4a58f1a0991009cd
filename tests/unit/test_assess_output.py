"""What ``tracesync assess`` prints and writes: text, JSON, the xlsx and Markdown sheets."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import orjson
import pytest
from click.testing import CliRunner

from tracesync.assess.assessment import Assessment, assess
from tracesync.assess.loader import load_inventory
from tracesync.assess.report import assessment_dict, assessment_text
from tracesync.assess.sheet import markdown, write_sheet
from tracesync.cli import main
from tracesync.errors import ConfigurationError

EXAMPLES = Path(__file__).resolve().parents[2] / "deploy" / "assess"
FOOD = EXAMPLES / "food-plant.toml"


@pytest.fixture(scope="module")
def food() -> Assessment:
    return assess(load_inventory(FOOD))


def test_the_text_has_the_five_steps_in_order_then_the_comparison_and_the_flows(
    food: Assessment,
) -> None:
    text = assessment_text(food)
    heads = [
        "Step 1: Inventory the systems",
        "Step 2: Grade each flow",
        "Step 3: Weigh the IT team",
        "Step 4: Look 3-5 years ahead",
        "Step 5: Judge the vendor",
        "Four dimensions",
        "Recommendation per flow",
        "Verdict",
    ]
    positions = [text.index(h) for h in heads]
    assert positions == sorted(positions)
    for dimension in ("实时性", "扩展与维护性", "初期投入成本", "长期总拥有成本"):
        assert dimension in text
    assert "N·(N−1)/2 = 3·2/2 = 3 interfaces" in text
    assert "crossover at 5 systems" in text
    assert "tco / p2p: 18 d + 3 new interfaces × 6 d (year 2)" in text
    assert (
        "batch-to-wms: mes → wms (production_reporting); need 30 s, estimate ~1 h: FLAGGED" in text
    )
    assert "edge: file drop (csv) — `tracesync ingest files`" in text


def test_json_carries_steps_scores_edges_and_flows(food: Assessment) -> None:
    data = orjson.loads(orjson.dumps(assessment_dict(food)))
    assert [s["number"] for s in data["steps"]] == [1, 2, 3, 4, 5]
    assert data["interfaces"] == {
        "systems_today": 3,
        "systems_by_year": [3, 4, 4, 4, 4],
        "p2p_all_pairs_today": 3,
        "p2p_interfaces_today": 3,
        "p2p_interfaces_future": 6,
        "p2p_all_pairs_future": 6,
        "hub_connections_future": 4,
        "crossover_systems": 5,
    }
    assert data["comparison"]["best"] == "hub"
    assert data["edges"]["wms"]["command"] == "tracesync ingest files"
    assert data["edges"]["wms"]["option"]["rule"] == "E6"
    assert data["edges"]["wms"]["meets_strictest"] is False
    flows = {f["flow"]: f for f in data["flows"]}
    assert flows["batch-to-wms"]["meets"] is False
    assert flows["batch-to-erp"]["meets"] is True
    assert flows["batch-to-erp"]["edge"]["rule"] == "E1"


def test_the_xlsx_sheet_reads_back_with_re_weighable_totals(
    food: Assessment, tmp_path: Path
) -> None:
    path = tmp_path / "food.xlsx"
    write_sheet(food, path)
    values = openpyxl.load_workbook(path, data_only=True)
    assert values.sheetnames == [
        "Summary",
        "Comparison",
        "Steps",
        "Working",
        "Costs",
        "Systems",
        "Flows",
    ]
    comparison = [row for row in values["Comparison"].iter_rows(values_only=True)]
    assert comparison[0][:2] == ("Dimension", "Weight")
    assert [row[1] for row in comparison[1:5]] == [2, 2, 2, 1]
    assert comparison[5][2:5] == tuple(food.comparison.totals[a] for a in ("p2p", "hub", "files"))
    formulas = openpyxl.load_workbook(path)["Comparison"]
    assert formulas["D6"].value == "=SUMPRODUCT($B$2:$B$5,D2:D5)/SUM($B$2:$B$5)"
    flows = list(values["Flows"].iter_rows(values_only=True))
    assert [r[0] for r in flows[1:]] == [p.flow for p in food.plans]
    assert flows[1][9] == "FLAGGED" and flows[2][9] == "met"
    steps = list(values["Steps"].iter_rows(values_only=True))
    assert len(steps) - 1 == sum(len(s.findings) for s in food.steps)


def test_the_markdown_sheet_has_the_tables(food: Assessment, tmp_path: Path) -> None:
    text = markdown(food)
    assert text.startswith("# Evaluation sheet: Nordfrisch Molkerei GmbH")
    for head in ("## Four dimensions", "## Five steps", "## Costs", "## Systems", "## Flows"):
        assert head in text
    assert "| **weighted total** |  | **2.27** | **2.79** | **3.09** |" in text
    path = tmp_path / "food.md"
    write_sheet(food, path)
    assert path.read_text(encoding="utf-8") == text


def test_a_sheet_of_another_kind_is_refused(food: Assessment, tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match=r"\.xlsx or \.md"):
        write_sheet(food, tmp_path / "food.pdf")


def test_the_command_prints_text_json_and_writes_the_sheet(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["assess", str(FOOD), "--sheet", str(tmp_path / "s.xlsx")])
    assert result.exit_code == 0, result.output
    assert "Step 5: Judge the vendor" in result.output
    assert (tmp_path / "s.xlsx").stat().st_size > 0
    as_json = runner.invoke(main, ["assess", str(FOOD), "--json"])
    assert orjson.loads(as_json.output)["comparison"]["best"] == "hub"


def test_the_command_names_every_bad_field(tmp_path: Path) -> None:
    bad = FOOD.read_text(encoding="utf-8").replace('docs = "good"', 'docs = "great"', 1)
    bad = bad.replace("developers = 1", "developers = -1")
    path = tmp_path / "bad.toml"
    path.write_text(bad, encoding="utf-8")
    result = CliRunner().invoke(main, ["assess", str(path)])
    assert result.exit_code == 1
    assert "2 problems" in result.output
    assert "systems[0] (mes).rest_api.docs: Input should be 'good', 'partial' or 'poor'" in (
        result.output
    )
    assert "team.developers:" in result.output


def test_the_command_prints_the_schema() -> None:
    result = CliRunner().invoke(main, ["assess", "--schema"])
    assert result.exit_code == 0
    assert orjson.loads(result.output)["title"] == "tracesync assess inventory"
    assert (EXAMPLES / "inventory.schema.json").read_text(encoding="utf-8") == result.output


def test_json_of_every_example_serializes_routes_with_kinds() -> None:
    """Recipes limited to some system kinds (a set) come out as sorted lists."""
    for path in sorted(EXAMPLES.glob("*.toml")):
        data = orjson.loads(orjson.dumps(assessment_dict(assess(load_inventory(path)))))
        kinds = [
            r["for_kinds"]
            for f in data["flows"]
            for r in f["recipes"]
            if r["for_kinds"] is not None
        ]
        assert all(k == sorted(k) for k in kinds)
    pharma = assessment_dict(assess(load_inventory(EXAMPLES / "pharma-group.toml")))
    assert any(r["for_kinds"] for f in pharma["flows"] for r in f["recipes"])
