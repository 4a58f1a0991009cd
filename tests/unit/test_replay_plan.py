"""Replay plans: each reset kind resolves per partition, clamped to what the partition holds."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ops.replay import (
    PartitionRange,
    ResetKind,
    ResetSpec,
    component_named,
    plan_rows,
    resolve_target,
)
from tracesync.errors import ConfigurationError
from tracesync.settings import Settings

PART = PartitionRange("t", 0, low=10, high=100, committed=60, by_time=40)


@pytest.mark.parametrize(
    ("spec", "target"),
    [
        (ResetSpec(ResetKind.EARLIEST), 10),
        (ResetSpec(ResetKind.LATEST), 100),
        (ResetSpec(ResetKind.DATETIME, when=datetime(2026, 1, 1, tzinfo=UTC)), 40),
        (ResetSpec(ResetKind.SHIFT, shift=-20), 40),
        (ResetSpec(ResetKind.SHIFT, shift=-500), 10),
        (ResetSpec(ResetKind.SHIFT, shift=500), 100),
        (ResetSpec(ResetKind.OFFSET, offsets={0: 55}), 55),
        (ResetSpec(ResetKind.OFFSET, offsets={None: 5}), 10),
        (ResetSpec(ResetKind.OFFSET, offsets={1: 55, None: 70}), 70),
    ],
)
def test_each_kind_resolves_and_clamps(spec: ResetSpec, target: int) -> None:
    assert resolve_target(spec, PART) == target


def test_a_time_later_than_every_record_goes_to_the_end() -> None:
    late = PartitionRange("t", 0, 0, 50, None, by_time=-1)
    spec = ResetSpec(ResetKind.DATETIME, when=datetime(2030, 1, 1, tzinfo=UTC))
    assert resolve_target(spec, late) == 50


def test_shift_without_a_committed_offset_starts_from_the_earliest() -> None:
    fresh = PartitionRange("t", 0, 5, 50, committed=None)
    assert resolve_target(ResetSpec(ResetKind.SHIFT, shift=3), fresh) == 8


def test_plan_rows_are_ordered_and_report_the_lag_left() -> None:
    parts = [PartitionRange("b", 1, 0, 9, 9), PartitionRange("a", 0, 0, 30, 30)]
    plans = plan_rows(ResetSpec(ResetKind.EARLIEST), parts)
    assert [(p.topic, p.partition, p.target, p.lag, p.changes) for p in plans] == [
        ("a", 0, 0, 30, True),
        ("b", 1, 0, 9, True),
    ]


def test_components_name_their_groups_and_topics() -> None:
    settings = Settings(topic_prefix="x.")
    store = component_named(settings, "store-sink")
    assert store.group == settings.store.sink_group
    assert store.topics == ("x.trace.chain", "x.trace.alerts")
    assert "x.mes.events" in component_named(settings, "worker").topics
    with pytest.raises(ConfigurationError, match="unknown component"):
        component_named(settings, "nope")
