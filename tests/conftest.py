"""Fixtures shared by the test tiers; infrastructure fixtures live in tests/fixtures/.

Infrastructure (broker, registry, PostgreSQL) is started once per session by those fixtures; when
it cannot start, the tests that need it fail with the reason. Nothing is skipped for it.

Every test gets the marker of its tier from its folder (``tests/unit`` -> ``unit``,
``tests/integration`` -> ``integration``, ``tests/e2e`` -> ``e2e``, ``tests/faults`` ->
``faults``), so ``pytest -m unit`` and the Makefile's tier targets select by tier; a test outside
the tier folders is an error.
"""

from __future__ import annotations

import os
import warnings
import weakref
from collections.abc import Iterator
from pathlib import Path

import authlib.deprecate
import pytest
from sqlalchemy import Connection, Engine, event

# Authlib (under confluent-kafka's schema-registry client) installs an "always" filter for its
# own deprecation warnings when it loads, which would override pytest's filterwarnings wherever
# it first loads. Loading it here, while pytest reads the conftest, confines that filter to this
# phase; the warning itself (httpx -> httpx2) is ignored by pyproject's filterwarnings, and here
# for the fixtures that load the registry client during this phase.
warnings.filterwarnings(
    "ignore",
    message="The httpx module is deprecated",
    category=authlib.deprecate.AuthlibDeprecationWarning,
)

# Tests talk to the REST ingest and serve with the demo's well-known keys (dev-mes-key ...), which
# outside the demo are never accepted; tests of the real key handling unset this.
os.environ.setdefault("TRACESYNC_DEMO_KEYS", "true")

TESTS = Path(__file__).resolve().parent
TIERS = ("unit", "integration", "e2e", "faults")

pytest_plugins = sorted(
    f"tests.fixtures.{p.stem}" for p in (TESTS / "fixtures").glob("*.py") if p.stem != "__init__"
)


def tier_of(path: Path) -> str | None:
    """The tier folder a test file lives in, if any."""
    parts = path.resolve().relative_to(TESTS).parts
    return parts[0] if parts and parts[0] in TIERS else None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    outside = []
    for item in items:
        tier = tier_of(item.path)
        if tier is None:
            outside.append(item.nodeid)
        else:
            item.add_marker(getattr(pytest.mark, tier))
    if outside:
        raise pytest.UsageError(f"tests outside tests/{{{','.join(TIERS)}}}/: {outside}")


@pytest.fixture(autouse=True)
def dispose_engines_at_the_end() -> Iterator[None]:
    """Close the pooled database connections of every engine a test connected through.

    A test builds engines freely (``open_store(url)``, ``create_engine(url)``); their pooled
    connections would otherwise close only when garbage-collected, in some later test, as a
    ResourceWarning (an error here). The product code disposes its own engines.
    """
    used: weakref.WeakSet[Engine] = weakref.WeakSet()

    def remember(connection: Connection) -> None:
        used.add(connection.engine)

    event.listen(Engine, "engine_connect", remember)
    try:
        yield
    finally:
        event.remove(Engine, "engine_connect", remember)
        for engine in list(used):
            engine.dispose()
