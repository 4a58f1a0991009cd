"""The worker's garbage-collector settings: applied for a block, the previous ones restored."""

from __future__ import annotations

import gc

from tracesync.collector import OLDER_THRESHOLDS, YOUNG_THRESHOLD, tuned_collector


def test_the_tuned_collector_applies_the_worker_thresholds_then_restores_them() -> None:
    before = gc.get_threshold()
    with tuned_collector():
        assert gc.get_threshold() == (YOUNG_THRESHOLD, *OLDER_THRESHOLDS)
        assert gc.get_freeze_count() > 0
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
