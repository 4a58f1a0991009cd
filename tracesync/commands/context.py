"""The settings of one CLI invocation: built once by the root group, read by every command."""

from __future__ import annotations

import click

from tracesync.settings import Settings, load_settings


def settings_from(ctx: click.Context) -> Settings:
    """The settings built by the root command, for sub-commands (built here when run alone)."""
    root = ctx.find_root()
    if not isinstance(root.obj, Settings):  # invoked outside main(), e.g. from a test
        root.obj = load_settings()
    return root.obj


def with_worker(settings: Settings, **overrides: object) -> Settings:
    """``settings`` with some worker settings replaced (validated); None values are ignored."""
    given = {name: value for name, value in overrides.items() if value is not None}
    if not given:
        return settings
    worker = settings.worker.model_validate(settings.worker.model_dump() | given)
    return settings.model_copy(update={"worker": worker})
