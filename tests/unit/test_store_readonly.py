"""The read-only store opening knows the newest schema revision of the migrations."""

from __future__ import annotations

from alembic.config import Config
from alembic.script import ScriptDirectory

from sinks.store.database import MIGRATIONS
from sinks.store.readonly import SCHEMA_REVISION


def test_the_queries_expect_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))

    assert ScriptDirectory.from_config(config).get_heads() == [SCHEMA_REVISION]
