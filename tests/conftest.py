"""Fixtures shared by the test tiers; infrastructure fixtures live in tests/fixtures/.

Infrastructure (broker, registry, PostgreSQL) is started once per session by those fixtures; when
it cannot start, the tests that need it fail with the reason. Nothing is skipped for it.
"""

from __future__ import annotations

from pathlib import Path

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}"
    for p in (Path(__file__).parent / "fixtures").glob("*.py")
    if p.stem != "__init__"
)
