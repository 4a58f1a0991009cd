"""Seeded time and quantity helpers for the generator modules (whole ms, scale 3)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_EVEN, Decimal

MILLI = Decimal("0.001")
CENT = Decimal("0.01")
UNIT = Decimal("1")
DEFAULT_BASE_TIME = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def after(rng: random.Random, start: datetime, low_s: float, high_s: float) -> datetime:
    """A moment between ``low_s`` and ``high_s`` seconds after ``start``, in whole milliseconds."""
    return start + timedelta(milliseconds=rng.randint(int(low_s * 1000), int(high_s * 1000)))


def quantity(value: Decimal | float, uom: str) -> Decimal:
    """Round to the unit's grain: whole units for ``EA``, grams (scale 3) otherwise."""
    grain = UNIT if uom == "EA" else MILLI
    return Decimal(str(value)).quantize(grain, rounding=ROUND_HALF_EVEN).quantize(MILLI)


def scaled(base: Decimal, factor: float, uom: str) -> Decimal:
    return quantity(base * Decimal(str(round(factor, 6))), uom)


def whole_millis(moment: datetime) -> datetime:
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)
