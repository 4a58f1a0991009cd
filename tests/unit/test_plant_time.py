"""Times with their offset, in the plant's configured zone (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from tracesync.errors import ConfigurationError
from tracesync.plant_time import as_utc, shown, zone_named, zoned
from tracesync.settings import Settings

NAIVE = datetime(2026, 7, 1, 12, 0, tzinfo=UTC).replace(tzinfo=None)  # as SQLite returns it


def test_a_time_without_zone_is_the_stores_utc() -> None:
    assert as_utc(NAIVE) == datetime(2026, 7, 1, 12, 0, tzinfo=UTC)
    assert shown(NAIVE, UTC) == "2026-07-01 12:00:00+00:00"


def test_a_time_is_shown_in_the_zone_with_its_offset_summer_and_winter() -> None:
    berlin = zone_named("Europe/Berlin")
    assert shown(NAIVE, berlin) == "2026-07-01 14:00:00+02:00"
    assert shown(datetime(2026, 1, 1, 12, 0, tzinfo=UTC), berlin) == "2026-01-01 13:00:00+01:00"
    assert shown(None, berlin) == "-"


def test_zoned_converts_every_time_in_nested_data() -> None:
    got = zoned({"a": [NAIVE, {"b": NAIVE}], "c": "text"}, zone_named("Asia/Shanghai"))
    assert got["a"][0].isoformat() == "2026-07-01T20:00:00+08:00"
    assert got["a"][1]["b"].utcoffset().total_seconds() == 8 * 3600
    assert got["c"] == "text"


def test_an_unknown_zone_is_refused_with_its_name() -> None:
    with pytest.raises(ConfigurationError, match="Mars/Olympus"):
        zone_named("Mars/Olympus")
    with pytest.raises(ValidationError, match="time_zone"):
        Settings(time_zone="Mars/Olympus")
    assert Settings(time_zone="utc").time_zone == "utc"
    assert zone_named("utc") is UTC
