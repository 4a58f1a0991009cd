"""Step 2 rules: how fast each flow must be, graded the way the problem statement grades it.

The statement sorts business scenarios by the real time they need: execution-level work on
the shop floor and in the warehouse (production reporting 报工, warehouse scans 出入库扫码,
online quality alerts 质量在线预警) needs seconds; financial close (财务关账) and management
reports (管理报表) tolerate delay. A flow states its latency, or gets its scenario's typical
one (rule 2.2).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tracesync.assess.model import Flow, Scenario

Grade = Literal["seconds", "minutes", "hours", "days"]
GRADES: tuple[Grade, ...] = ("seconds", "minutes", "hours", "days")
_UPPER_BOUNDS: tuple[tuple[Grade, float], ...] = (
    ("seconds", 60.0),
    ("minutes", 3600.0),
    ("hours", 86400.0),
)

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class ScenarioProfile:
    """What a scenario usually needs, and how the problem statement names it."""

    label: str
    typical_s: float
    note: str


SCENARIOS: dict[Scenario, ScenarioProfile] = {
    "production_reporting": ScenarioProfile(
        "production reporting (报工)", 10.0, "execution level: seconds (step 2)"
    ),
    "warehouse_scan": ScenarioProfile(
        "warehouse in/out scans (出入库扫码)", 10.0, "execution level: seconds (step 2)"
    ),
    "quality_alert": ScenarioProfile(
        "online quality alert (质量在线预警)", 10.0, "execution level: seconds (step 2)"
    ),
    "quality_release": ScenarioProfile(
        "inspection results and release", 15 * MINUTE, "a batch waits for it: minutes"
    ),
    "complaint_trace": ScenarioProfile(
        "complaint back-trace (质量投诉追溯)", 15 * MINUTE, "response time counts: minutes"
    ),
    "material_receipt": ScenarioProfile(
        "material receipt posting", 15 * MINUTE, "stock must be usable soon: minutes"
    ),
    "shipping": ScenarioProfile("shipping to customers", 15 * MINUTE, "minutes"),
    "reconciliation": ScenarioProfile(
        "cross-department reconciliation (跨部门对账)", DAY, "month-end counts: a day"
    ),
    "financial_close": ScenarioProfile(
        "financial close (财务关账)", DAY, "tolerates delay (step 2)"
    ),
    "management_report": ScenarioProfile(
        "management report (管理报表)", DAY, "tolerates delay (step 2)"
    ),
    "compliance_report": ScenarioProfile(
        "compliance report (合规报告)", DAY, "regulators ask for records within 24 h"
    ),
    "other": ScenarioProfile("other", DAY, "no typical latency: the flow must state one"),
}


def grade(seconds: float) -> Grade:
    """Rule 2.1: seconds (< 1 min), minutes (< 1 h), hours (< 1 day) or days."""
    for name, bound in _UPPER_BOUNDS:
        if seconds < bound:
            return name
    return "days"


@dataclass(frozen=True)
class Need:
    """How fast one flow must be: seconds, its grade, and whether the file said so."""

    seconds: float
    grade: Grade
    declared: bool


def need_of(flow: Flow) -> Need:
    """Rule 2.2: the declared latency, else the scenario's typical one."""
    if flow.latency is not None:
        return Need(flow.latency, grade(flow.latency), True)
    typical = SCENARIOS[flow.scenario].typical_s
    return Need(typical, grade(typical), False)


def mismatch(flow: Flow) -> str | None:
    """Rule 2.3: a declared need two or more grades away from the scenario's usual one."""
    if flow.latency is None:
        return None
    usual = grade(SCENARIOS[flow.scenario].typical_s)
    declared = grade(flow.latency)
    gap = GRADES.index(declared) - GRADES.index(usual)
    label = SCENARIOS[flow.scenario].label
    if gap >= 2:
        return (
            f"{label} usually needs {usual}; {describe(flow.latency)} was declared: "
            "check with the people who use it"
        )
    if gap <= -2:
        return (
            f"{label} usually tolerates {usual}; {describe(flow.latency)} was declared: "
            "a tighter need than the business has raises the cost"
        )
    return None


def describe(seconds: float) -> str:
    """``90`` -> ``1.5 min``; ``7200`` -> ``2 h``."""
    for unit, size in (("d", DAY), ("h", HOUR), ("min", MINUTE)):
        if seconds >= size:
            return f"{_number(seconds / size)} {unit}"
    return f"{_number(seconds)} s"


def _number(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")
