"""Times as people read them: always with their UTC offset, in the plant's time zone.

The trace store keeps UTC. SQLite hands a stored time back without its zone, so a reader first
makes every time it reads aware (:func:`as_utc`); what is shown is then converted to the plant's
configured zone (``Settings.time_zone``, an IANA name such as ``Europe/Berlin``) and written with
its offset (:func:`shown`), never as a bare local-looking time.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tracesync.errors import ConfigurationError


def zone_named(name: str) -> tzinfo:
    """The time zone called ``name`` (``UTC`` or an IANA name); ConfigurationError if unknown."""
    if name.strip().upper() in ("UTC", "Z"):
        return UTC
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigurationError(
            f"unknown time zone {name!r}: give UTC or an IANA name such as Europe/Berlin"
        ) from exc


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware time; a time without zone (SQLite) is the store's UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def in_zone(value: datetime, zone: tzinfo) -> datetime:
    """``value`` (UTC when it has no zone) as the same instant in ``zone``."""
    return as_utc(value).astimezone(zone)


def shown(value: datetime | None, zone: tzinfo) -> str:
    """``2026-11-02 07:00:00+01:00``: the instant in ``zone`` with its offset; ``-`` for none."""
    if value is None:
        return "-"
    return in_zone(value, zone).isoformat(sep=" ", timespec="seconds")


def zoned(value: Any, zone: tzinfo) -> Any:
    """``value`` with every time in it (mappings, lists, tuples) converted to ``zone``."""
    if isinstance(value, datetime):
        return in_zone(value, zone)
    if isinstance(value, Mapping):
        return {k: zoned(v, zone) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [zoned(v, zone) for v in value]
    return value
