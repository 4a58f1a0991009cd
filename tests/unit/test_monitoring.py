"""deploy/monitoring/: the alert rules and the Grafana dashboard name only metrics the code exports.

The exported names come from the metric definitions (:func:`exported_names` of a fresh
:class:`Metrics`), never from a list kept here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from tracesync.observability.metrics import Metrics, exported_names

MONITORING = Path(__file__).resolve().parents[2] / "deploy" / "monitoring"
METRIC = re.compile(r"\b((?:tracesync|process)_[a-z0-9_]+)\b")


def _rule_expressions() -> list[tuple[str, str]]:
    document = yaml.safe_load((MONITORING / "alerts.yml").read_text())
    return [
        (rule["alert"], rule["expr"]) for group in document["groups"] for rule in group["rules"]
    ]


def _dashboard_expressions() -> list[tuple[str, str]]:
    document = json.loads((MONITORING / "grafana-dashboard.json").read_text())
    return [
        (panel["title"], target["expr"])
        for panel in document["panels"]
        for target in panel.get("targets", [])
    ]


@pytest.fixture(scope="module")
def exported() -> set[str]:
    return exported_names(Metrics("test"))


def test_the_exported_names_come_from_the_definitions(exported: set[str]) -> None:
    assert "tracesync_consumer_lag" in exported
    assert {"tracesync_events_in_total", "tracesync_store_write_seconds_bucket"} <= exported
    assert "tracesync_events_in" in exported  # the family name as well
    assert "tracesync_nonexistent_total" not in exported


@pytest.mark.parametrize(
    "expressions", [_rule_expressions, _dashboard_expressions], ids=["alerts", "dashboard"]
)
def test_every_metric_named_is_exported(
    expressions: Callable[[], list[tuple[str, str]]], exported: set[str]
) -> None:
    found = expressions()
    assert found, "no expressions found"
    unknown = {
        (where, name)
        for where, expr in found
        for name in METRIC.findall(expr)
        if name not in exported
    }
    assert not unknown
    assert all(METRIC.search(expr) for _, expr in found), "an expression names no metric"


def test_the_alerts_cover_what_sres_watch() -> None:
    names = {name for name, _ in _rule_expressions()}
    assert {
        "TracesyncConsumerLagGrowing",
        "TracesyncNoProgress",
        "TracesyncDeadLetterRate",
        "TracesyncTargetDeliveryFailures",
        "TracesyncStoreWriteErrors",
    } <= names


def test_prometheus_scrapes_every_component() -> None:
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text())
    jobs = {job["job_name"] for job in config["scrape_configs"]}
    components = ("ingest-api", "ingest-db", "ingest-files", "worker", "sink-store")
    assert {f"tracesync-{c}" for c in (*components, "sink-targets", "serve")} == jobs
    assert config["rule_files"] == ["alerts.yml"]
